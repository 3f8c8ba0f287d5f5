"""The parameters panel: every input of a generation, validated by ``inpaint_core``'s request.

The panel builds an :class:`~inpaint_core.request.InpaintRequest` from its widgets; the request's own
validation decides what is wrong and the panel shows it *at the field* (red border, tooltip and a
line under the field naming the problem). Values are remembered in ``QSettings`` (``type=`` on every
read, because INI values come back as ``str`` in a new process).
"""

from __future__ import annotations

import secrets
from typing import Any

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from inpaint_core.errors import RequestValidationError
from inpaint_core.request import MAX_SEED, SEAM_DEFAULTS, InpaintRequest
from inpaint_core.schedulers import canonical_scheduler_name

from .model_picker import ModelPickerMixin
from .parameters_form import (
    ENGINE_LABELS,
    ERROR_LABEL_STYLE,
    INVALID_STYLE,
    NO_MODEL,
    ParametersFormMixin,
)

__all__ = [
    "ENGINE_LABELS",
    "ERROR_LABEL_STYLE",
    "INVALID_STYLE",
    "NO_MODEL",
    "SETTINGS_GROUP",
    "ParametersPanel",
]

SETTINGS_GROUP = "generation"


class ParametersPanel(ParametersFormMixin, ModelPickerMixin, QWidget):
    """Widgets for one :class:`InpaintRequest`. ``request()`` raises on invalid input.

    The form's sections and field-error marks live in :mod:`desktop.parameters_form`, the model
    picker in :mod:`desktop.model_picker`; this class holds the values, validation and progress."""

    #: the user chose another model (source string: folder, file or repo id)
    model_chosen = Signal(str)
    #: any value changed (after validation ran)
    changed = Signal()
    generate_clicked = Signal()
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("parametersPanel")
        self._errors: dict[str, QLabel] = {}
        self._error_forms: dict[str, QFormLayout] = {}
        self._field_widgets: dict[str, QWidget] = {}
        self._extra_options: dict[str, Any] = {}
        self._opened_models: list[str] = []
        self._model_error: tuple[str, str] | None = None
        self._loading = False
        self._seam_engine: str | None = None  # whose seam defaults grow/feather show
        self._build()
        self._validate_timer = QTimer(self, singleShot=True, interval=0)
        self._validate_timer.timeout.connect(self.validate)
        self._connect_changes()
        self._engine_changed()
        self.validate()

    # -- reacting to the widgets ------------------------------------------------------------------
    def _connect_changes(self) -> None:
        for w in (self.engine_combo, self.model_combo, self.scheduler_combo, self.size_mode_combo):
            w.currentIndexChanged.connect(self._schedule_validate)
        for w in (
            self.steps_spin,
            self.guidance_spin,
            self.strength_spin,
            self.outputs_spin,
            self.padding_spin,
            self.grow_spin,
            self.feather_spin,
            self.target_spin,
            self.width_spin,
            self.height_spin,
        ):
            w.valueChanged.connect(self._schedule_validate)
        for w in (self.prompt_edit, self.negative_edit):
            w.textChanged.connect(self._schedule_validate)
        self.seed_edit.textChanged.connect(self._schedule_validate)
        for w in (self.random_seed_check, self.safety_check, self.color_match_check):
            w.toggled.connect(self._schedule_validate)
        self.random_seed_check.toggled.connect(self._seed_mode_changed)
        self.new_seed_button.clicked.connect(self.new_seed)
        self.engine_combo.currentIndexChanged.connect(self._engine_changed)
        self.size_mode_combo.currentIndexChanged.connect(self._size_mode_changed)
        self.model_combo.activated.connect(self._model_activated)
        self.open_model_file_action.triggered.connect(self._open_model_file)
        self.open_model_folder_action.triggered.connect(self._open_model_folder)
        self.generate_button.clicked.connect(self.generate_clicked)
        self.cancel_button.clicked.connect(self.cancel_clicked)
        self._seed_mode_changed()
        self._size_mode_changed()

    # -- reactions ------------------------------------------------------------------------------
    def _schedule_validate(self, *_: Any) -> None:
        if not self._loading:
            self._validate_timer.start()

    def _engine_changed(self, *_: Any) -> None:
        diffusion = self.engine == "diffusion"
        for w in (
            self.model_combo,
            self.open_model_button,
            self.prompt_edit,
            self.negative_edit,
            self.scheduler_combo,
            self.steps_spin,
            self.guidance_spin,
            self.strength_spin,
            self.safety_check,
        ):
            w.setEnabled(diffusion)
        self._follow_seam_defaults()

    def _follow_seam_defaults(self) -> None:
        """Grow/feather follow the engine (the core's SEAM_DEFAULTS) until the user changes them:
        the classical engine restores exact damage masks (0/0), diffusion needs a seam (4/8)."""
        engine = self.engine
        previous = SEAM_DEFAULTS.get(self._seam_engine or "", None)
        shown = (self.grow_spin.value(), self.feather_spin.value())
        if not self._loading and (previous is None or shown == previous):
            grow, feather = SEAM_DEFAULTS.get(engine, SEAM_DEFAULTS["diffusion"])
            self.grow_spin.setValue(grow)
            self.feather_spin.setValue(feather)
        self._seam_engine = engine

    def _size_mode_changed(self, *_: Any) -> None:
        explicit = self.size_mode_combo.currentData() == "explicit"
        self._size_row.setEnabled(explicit)
        self.target_spin.setEnabled(not explicit)

    def _seed_mode_changed(self, *_: Any) -> None:
        self.seed_edit.setReadOnly(self.random_seed_check.isChecked())

    def new_seed(self) -> None:
        self.seed_edit.setText(str(secrets.randbelow(MAX_SEED)))
        self.random_seed_check.setChecked(False)

    # -- values ---------------------------------------------------------------------------------
    @property
    def engine(self) -> str:
        return self.engine_combo.currentData()

    def request(self) -> InpaintRequest:
        """The request the widgets describe. Raises :class:`RequestValidationError` (``field`` names
        the widget) when a value is invalid."""
        seed: Any = None
        if not self.random_seed_check.isChecked():
            text = self.seed_edit.text().strip()
            if not text:
                raise RequestValidationError("seed", "enter a seed, or tick Random")
            try:
                seed = int(text)
            except ValueError:
                seed = text  # the request says what is wrong with it
        explicit = self.size_mode_combo.currentData() == "explicit"
        engine = self.engine
        if engine == "diffusion" and not self.model:
            raise RequestValidationError(
                "model", "the diffusion engine needs a model: choose one or open a model file"
            )
        return InpaintRequest(
            prompt=self.prompt_edit.toPlainText(),
            negative_prompt=self.negative_edit.toPlainText(),
            scheduler=self.scheduler_combo.currentText(),
            steps=self.steps_spin.value(),
            guidance_scale=round(self.guidance_spin.value(), 4),
            strength=round(self.strength_spin.value(), 4),
            seed=seed,
            num_outputs=self.outputs_spin.value(),
            width=self.width_spin.value() if explicit else None,
            height=self.height_spin.value() if explicit else None,
            target_size=self.target_spin.value(),
            safety_checker=self.safety_check.isChecked(),
            engine=engine,
            model=self.model if engine == "diffusion" else None,
            mask_padding=self.padding_spin.value(),
            mask_grow=self.grow_spin.value(),
            mask_feather=self.feather_spin.value(),
            color_match=self.color_match_check.isChecked(),
            options=dict(self._extra_options),
        )

    def validate(self) -> InpaintRequest | None:
        """Build the request, mark the offending field (or clear every mark). None when invalid."""
        try:
            req = self.request()
        except RequestValidationError as exc:
            self.show_field_error(exc.field, str(exc))
            self.changed.emit()
            return None
        self.clear_field_errors()
        if self._model_error is not None and self._model_error[0] == req.model:
            # the last load of this model failed: keep saying so (it does not block a retry)
            self.show_field_error("model", self._model_error[1])
        self.changed.emit()
        return req

    def set_request(self, req: InpaintRequest) -> None:
        """Show ``req`` in the widgets (from a candidate or a PNG). A concrete seed is locked."""
        self._loading = True
        try:
            self.engine_combo.setCurrentIndex(max(0, self.engine_combo.findData(req.engine)))
            if req.model:
                self.set_model(req.model)
            self.prompt_edit.setPlainText(req.prompt)
            self.negative_edit.setPlainText(req.negative_prompt)
            try:
                name = canonical_scheduler_name(req.scheduler)
            except KeyError:
                name = self.scheduler_combo.currentText()
            self.scheduler_combo.setCurrentText(name)
            self.steps_spin.setValue(req.steps)
            self.guidance_spin.setValue(req.guidance_scale)
            self.strength_spin.setValue(req.strength)
            seed = req.seed if req.seed is not None else (req.seeds[0] if req.seeds else None)
            if seed is None:
                self.random_seed_check.setChecked(True)
            else:
                self.seed_edit.setText(str(seed))
                self.random_seed_check.setChecked(False)
            self.outputs_spin.setValue(len(req.seeds) if req.seeds else req.num_outputs)
            explicit = req.width is not None and req.height is not None
            self.size_mode_combo.setCurrentIndex(1 if explicit else 0)
            if explicit:
                self.width_spin.setValue(req.width or 512)
                self.height_spin.setValue(req.height or 512)
            self.target_spin.setValue(req.target_size)
            self.safety_check.setChecked(req.safety_checker)
            self.padding_spin.setValue(req.mask_padding)
            self.grow_spin.setValue(req.mask_grow)
            self.feather_spin.setValue(req.mask_feather)
            self.color_match_check.setChecked(req.color_match)
            self._extra_options = dict(req.options)
        finally:
            self._loading = False
        self.validate()

    def show_seed_used(self, seeds: list[int]) -> None:
        """After a run: show the seed(s) used; in random mode the field shows it too."""
        if not seeds:
            return
        text = str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]} … {seeds[-1]}"
        self.seed_used_label.setText(f"Seed used: {text}")
        self._seed_form.setRowVisible(self.seed_used_label, True)
        if self.random_seed_check.isChecked():
            self.seed_edit.setText(str(seeds[0]))

    # -- messages + progress ----------------------------------------------------------------------
    def show_message(self, text: str, *, error: bool = True) -> None:
        if not text:
            self.message_label.hide()
            return
        color = "#e5484d" if error else "palette(text)"
        self.message_label.setStyleSheet(
            f"QLabel {{ color: {color}; border: 1px solid {color}; border-radius: 4px; padding: 4px; }}"
        )
        self.message_label.setText(text)
        self.message_label.show()

    def set_progress(self, fraction: float | None, text: str) -> None:
        """``fraction`` None = busy without a known fraction."""
        if fraction is None:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(round(max(0.0, min(1.0, fraction)) * 1000)))
        self.progress_bar.setFormat(text)

    # -- settings (desktop/parameters_settings.py) ------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        from .parameters_settings import save_panel

        save_panel(self, settings)

    def restore_settings(self, settings: QSettings) -> None:
        """Last-used values; anything missing or unreadable keeps its default."""
        from .parameters_settings import restore_panel

        restore_panel(self, settings)
