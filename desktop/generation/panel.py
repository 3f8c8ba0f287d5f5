"""The parameters panel: the form bound both ways to the core
:class:`~inpaint_core.generation_model.GenerationModel`.

Widgets -> model: every change builds an :class:`~inpaint_core.request.InpaintRequest` from the
widgets; the request's own validation decides what is wrong and the panel shows it *at the field*
(red border, tooltip and a line under the field); a valid one goes into the model with the seed lock
and the size mode. Model -> widgets: ``request_changed``/``choices_changed`` (a candidate's "use
settings", parameters from a PNG, settings restored) are shown in the widgets. Progress, the busy
state and the model's load state come from the model's typed events, never from the widgets' text.

LoRAs are a field too (:class:`~desktop.generation.loras.LoraList` ⇄ the request's ``loras``); a
LoRA whose header says it is for another family than the model's is marked with the core's
refusal. Choosing a few-step model or LoRA applies the core's presets
(:func:`~inpaint_core.models.presets.suggested_settings`) to the fields the user has not set (still
at their defaults, or at a value an earlier preset put there), with a note saying so.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtWidgets import QWidget

from desktop import file_dialogs
from desktop.generation.form import ParametersForm
from desktop.generation.model_picker import ModelPicker
from inpaint_core.engines.erase import ERASE_DIR
from inpaint_core.errors import ModelError, RequestValidationError
from inpaint_core.generation_model import GenerationModel, ModelStatus, SizeMode
from inpaint_core.lora import LoraInfo, family_mismatch, inspect_lora, resolve_lora
from inpaint_core.models.discovery import models_dirs
from inpaint_core.models.presets import detect_model, suggested_settings
from inpaint_core.request import MAX_SEED, InpaintRequest, follow_seam_defaults
from inpaint_core.schedulers import canonical_scheduler_name

#: request field -> (form widget, kind): the plain fields, bound both ways from this one table
#: (engine, model, scheduler, seed, width/height and options have their own rules below)
FIELDS: dict[str, tuple[str, str]] = {
    "prompt": ("prompt_edit", "text"),
    "negative_prompt": ("negative_edit", "text"),
    "steps": ("steps_spin", "number"),
    "guidance_scale": ("guidance_spin", "number"),
    "strength": ("strength_spin", "number"),
    "num_outputs": ("outputs_spin", "number"),
    "target_size": ("target_spin", "number"),
    "mask_padding": ("padding_spin", "number"),
    "mask_grow": ("grow_spin", "number"),
    "mask_feather": ("feather_spin", "number"),
    "safety_checker": ("safety_check", "flag"),
    "color_match": ("color_match_check", "flag"),
    "masked_content": ("masked_content_combo", "choice"),
    "soft_inpainting": ("soft_inpainting_check", "flag"),
}


def _read(widget: Any, kind: str) -> Any:
    if kind == "text":
        return widget.toPlainText()
    if kind == "flag":
        return widget.isChecked()
    if kind == "choice":
        return widget.currentData()
    value = widget.value()
    return round(value, 4) if isinstance(value, float) else value


def _write(widget: Any, kind: str, value: Any) -> None:
    if kind == "text":
        widget.setPlainText(value)
    elif kind == "flag":
        widget.setChecked(bool(value))
    elif kind == "choice":
        widget.setCurrentIndex(max(0, widget.findData(value)))
    else:
        widget.setValue(value)


def _changed_signal(widget: Any, kind: str) -> Any:
    if kind == "text":
        return widget.textChanged
    if kind == "choice":
        return widget.currentIndexChanged
    return widget.toggled if kind == "flag" else widget.valueChanged


class ParametersPanel(ParametersForm):
    """The form of one :class:`GenerationModel` (a fresh one when none is given); ``settings``:
    the studio's, where its file dialogs start."""

    generate_clicked = Signal()
    cancel_clicked = Signal()

    def __init__(
        self,
        model: GenerationModel | None = None,
        parent: QWidget | None = None,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent, settings)
        self.setObjectName("parametersPanel")
        self.model = model or GenerationModel()
        self.picker = ModelPicker(self, self.model)
        self._loading = False
        self._seam_engine: str | None = None  # the engine whose grow/feather the spins show
        #: request field -> the value a few-step/family preset last put there
        self._preset_values: dict[str, Any] = {}
        self._families: dict[tuple[str, float], str | None] = {}
        self._lora_infos: dict[tuple[str, float], LoraInfo | str] = {}
        self._validate_timer = QTimer(self, singleShot=True, interval=0)
        self._validate_timer.timeout.connect(self.validate)
        self._connect_changes()
        self.model.events.request_changed.connect(self._model_changed)
        self.model.events.choices_changed.connect(self._model_changed)
        self.model.events.model_changed.connect(lambda _s: self.validate())
        self.picker.chosen.connect(lambda _source: self.apply_presets())
        self.fill_erase_models()
        self.show_request(self.model.request)

    # -- reacting to the widgets ------------------------------------------------------------------
    def _connect_changes(self) -> None:
        for name, kind in FIELDS.values():
            _changed_signal(getattr(self, name), kind).connect(self._schedule_validate)
        for w in (self.engine_combo, self.model_combo, self.scheduler_combo, self.size_mode_combo):
            w.currentIndexChanged.connect(self._schedule_validate)
        for w in (self.width_spin, self.height_spin):
            w.valueChanged.connect(self._schedule_validate)
        self.seed_edit.textChanged.connect(self._schedule_validate)
        self.lora_list.changed.connect(self._schedule_validate)
        self.lora_list.changed.connect(self._loras_changed)
        self.erase_model_combo.currentTextChanged.connect(self._schedule_validate)
        self.open_erase_model_button.clicked.connect(self._open_erase_model)
        self.random_seed_check.toggled.connect(self._schedule_validate)
        self.random_seed_check.toggled.connect(self._seed_mode_changed)
        self.new_seed_button.clicked.connect(self.new_seed)
        self.engine_combo.currentIndexChanged.connect(self._engine_changed)
        self.size_mode_combo.currentIndexChanged.connect(self._size_mode_changed)
        self.generate_button.clicked.connect(self.generate_clicked)
        self.cancel_button.clicked.connect(self.cancel_clicked)

    def _schedule_validate(self, *_: Any) -> None:
        if not self._loading:
            self._validate_timer.start()

    def _engine_changed(self, *_: Any) -> None:
        diffusion = self.engine == "diffusion"
        if not self._loading and self._seam_engine not in (None, self.engine):
            # grow/feather follow the engine until the user sets them (as the CLI's defaults)
            grow, feather = follow_seam_defaults(
                self._seam_engine, self.engine, self.grow_spin.value(), self.feather_spin.value()
            )
            self.grow_spin.setValue(grow)
            self.feather_spin.setValue(feather)
        self._seam_engine = self.engine
        erase = self.engine == "erase"
        self._model_form.setRowVisible(self._erase_row, erase)
        self.lora_box.setEnabled(diffusion)
        for w in (
            self.model_combo,
            self.open_model_button,
            self.prompt_edit,
            self.negative_edit,
            self.scheduler_combo,
            self.steps_spin,
            self.guidance_spin,
            self.strength_spin,
            self.masked_content_combo,
            self.soft_inpainting_check,
            self.safety_check,
        ):
            w.setEnabled(diffusion)

    def _loras_changed(self) -> None:
        if not self._loading:
            self.apply_presets()

    def _open_erase_model(self) -> None:
        path = file_dialogs.open_file(
            self,
            self.settings,
            "erase_model",
            "Open an erase model",
            "LaMa / MI-GAN TorchScript (*.pt *.pth *.jit *.ts)",
        )
        if path:
            self.erase_model_combo.setCurrentText(path)

    def fill_erase_models(self) -> None:
        """The TorchScript files in the models folders' ``erase/`` (the field stays editable)."""
        current = self.erase_model_combo.currentText()
        found: list[str] = []
        for folder in models_dirs():
            try:
                found += [str(p) for p in sorted((folder / ERASE_DIR).glob("*.pt*"))]
            except OSError:
                continue
        self.erase_model_combo.blockSignals(True)
        self.erase_model_combo.clear()
        self.erase_model_combo.addItems(found)
        self.erase_model_combo.setCurrentText(current)
        self.erase_model_combo.blockSignals(False)

    # -- few-step presets + LoRA families ---------------------------------------------------------
    def apply_presets(self) -> None:
        """Put the core's suggested settings for the chosen model and LoRAs into the fields the
        user has not set, and say so under Strength."""
        if self.engine != "diffusion":
            return
        self._validate_timer.stop()
        if self.validate() is None:
            return  # the model must hold what the widgets show before it changes (or it wipes them)
        paths = [self._lora_path(r.path) for r in self.lora_list.refs()]
        suggestion = suggested_settings(self.picker.current, paths)
        current, default = self.model.request, InpaintRequest()
        changes = {
            field: value
            for field, value in suggestion.fields.items()
            if getattr(current, field) != value
            and (
                getattr(current, field) == getattr(default, field)
                or self._preset_values.get(field) == getattr(current, field)
            )
        }
        note = suggestion.reason
        if changes:
            self._preset_values.update(changes)
            try:
                self.model.update(**changes)
            except RequestValidationError:
                changes = {}
            shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in changes.items())
            note = f"{note or 'Suggested for this model'} — set: {shown} (change them freely)"
        elif note:
            note += " (your settings kept)"
        self.preset_note.setText(note)
        self._sampling_form.setRowVisible(self.preset_note, bool(note))

    @staticmethod
    def _lora_path(path_or_name: str) -> str:
        try:
            return str(resolve_lora(path_or_name))
        except ModelError:
            return path_or_name

    @staticmethod
    def _stamp(path: str) -> tuple[str, float]:
        try:
            return path, os.stat(path).st_mtime
        except OSError:
            return path, 0.0

    def _model_family(self, model: str) -> str | None:
        key = self._stamp(model)
        if key not in self._families:
            found = detect_model(model)
            self._families[key] = found.family if found else None
        return self._families[key]

    def _lora_info(self, path_or_name: str) -> LoraInfo | str:
        """What the LoRA's header says, or the core's reason it cannot be read."""
        key = self._stamp(path_or_name)
        if key not in self._lora_infos:
            try:
                self._lora_infos[key] = inspect_lora(resolve_lora(path_or_name))
            except (ModelError, OSError) as exc:
                self._lora_infos[key] = str(exc)
        return self._lora_infos[key]

    def lora_refusal(self, req: InpaintRequest) -> str | None:
        """The core's refusal of the first LoRA that cannot be used with the model: missing or
        unreadable, or made for another family than the model's."""
        if req.engine != "diffusion" or not req.loras:
            return None
        family = self._model_family(req.model) if req.model else None
        for ref in req.loras:
            info = self._lora_info(ref.path)
            message = info if isinstance(info, str) else family_mismatch(info, family)
            if message:
                return message
        return None

    def _size_mode_changed(self, *_: Any) -> None:
        explicit = self.size_mode_combo.currentData() == SizeMode.EXPLICIT.value
        self._size_row.setEnabled(explicit)
        self.target_spin.setEnabled(not explicit)

    def _seed_mode_changed(self, *_: Any) -> None:
        self.seed_edit.setReadOnly(self.random_seed_check.isChecked())

    def new_seed(self) -> None:
        self.seed_edit.setText(str(secrets.randbelow(MAX_SEED)))
        self.random_seed_check.setChecked(False)

    # -- widgets -> request -------------------------------------------------------------------------
    @property
    def engine(self) -> str:
        return self.engine_combo.currentData()

    def _seed(self) -> Any:
        text = self.seed_edit.text().strip()
        if not text:
            if not self.random_seed_check.isChecked():
                raise RequestValidationError("seed", "enter a seed, or tick Random")
            return None
        try:
            return int(text)
        except ValueError:
            if self.random_seed_check.isChecked():
                return None  # not used while random
            return text  # the request says what is wrong with it

    def _widget_request(self) -> InpaintRequest:
        """Every field as the widgets show it (the seed even while Random is ticked, so it is
        remembered). Raises :class:`RequestValidationError` naming the field."""
        engine = self.engine
        model = self.picker.current
        if engine == "diffusion" and not model:
            raise RequestValidationError(
                "model", "the diffusion engine needs a model: choose one or open a model file"
            )
        if engine == "erase":
            model = self.erase_model_combo.currentText().strip() or None
            if not model:
                raise RequestValidationError(
                    "erase_model",
                    "the erase engine needs a model: a LaMa or MI-GAN TorchScript file",
                )
        explicit = self.size_mode_combo.currentData() == SizeMode.EXPLICIT.value
        return InpaintRequest(
            **{field: _read(getattr(self, name), kind) for field, (name, kind) in FIELDS.items()},
            engine=engine,
            model=model,
            scheduler=self.scheduler_combo.currentText(),
            seed=self._seed(),
            width=self.width_spin.value() if explicit else None,
            height=self.height_spin.value() if explicit else None,
            options=self.model.request.options,
            loras=self.lora_list.refs(),
        )

    def request(self) -> InpaintRequest:
        """The request a run would use (random seed when unlocked, auto size: no width/height).
        Raises :class:`RequestValidationError` when a value is invalid."""
        self._push(self._widget_request())
        return self.model.effective_request()

    def validate(self) -> InpaintRequest | None:
        """Widgets -> model; mark the offending field (or clear every mark). None when invalid."""
        try:
            req = self.request()
        except RequestValidationError as exc:
            self.show_field_error(exc.field, str(exc))
            return None
        self.clear_field_errors()
        refusal = self.lora_refusal(req)
        if refusal:
            self.show_field_error("loras", refusal)
            return None
        state = self.model.model_state
        if state.status is ModelStatus.FAILED and state.source == req.model and state.error:
            # the last load of this model failed: keep saying so (it does not block a retry)
            self.show_field_error("model", state.error)
        return req

    def _push(self, req: InpaintRequest) -> None:
        self._loading = True  # the model's echo is ours: the widgets already show it
        try:
            self.model.edit(
                req,
                seed_locked=not self.random_seed_check.isChecked(),
                size_mode=SizeMode(self.size_mode_combo.currentData()),
            )
        finally:
            self._loading = False

    # -- model -> widgets ---------------------------------------------------------------------------
    def _model_changed(self, *_: Any) -> None:
        if not self._loading:
            self.show_request(self.model.request)

    def set_request(self, req: InpaintRequest) -> None:
        """Load ``req`` into the model (from a candidate or a PNG: a concrete seed is locked); the
        widgets follow."""
        self.model.set_request(req)
        self.show_request(req)

    def show_request(self, req: InpaintRequest) -> None:
        """Show ``req`` and the model's choices in the widgets."""
        self._loading = True
        try:
            self.engine_combo.setCurrentIndex(max(0, self.engine_combo.findData(req.engine)))
            self._seam_engine = req.engine  # its grow/feather are the request's own
            if req.model and req.engine == "erase":
                self.erase_model_combo.setCurrentText(req.model)
            elif req.model:
                self.picker.set_model(req.model)
            self.lora_list.set_refs(req.loras)
            for field, (name, kind) in FIELDS.items():
                _write(getattr(self, name), kind, getattr(req, field))
            try:
                name = canonical_scheduler_name(req.scheduler)
            except KeyError:
                name = self.scheduler_combo.currentText()
            self.scheduler_combo.setCurrentText(name)
            seed = req.seed if req.seed is not None else (req.seeds[0] if req.seeds else None)
            self.seed_edit.setText("" if seed is None else str(seed))
            self.random_seed_check.setChecked(not self.model.seed_locked)
            if req.seeds:
                self.outputs_spin.setValue(len(req.seeds))
            self.size_mode_combo.setCurrentIndex(
                self.size_mode_combo.findData(self.model.size_mode.value)
            )
            if self.model.size_mode is SizeMode.EXPLICIT:
                self.width_spin.setValue(req.width or 512)
                self.height_spin.setValue(req.height or 512)
        finally:
            self._loading = False
        self._engine_changed()
        self._seed_mode_changed()
        self._size_mode_changed()
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

    def set_busy(self, busy: bool) -> None:
        self.cancel_button.setEnabled(busy)
        self.generate_button.setText("Queue Another" if busy else "Generate")
