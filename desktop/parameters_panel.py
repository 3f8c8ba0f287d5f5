"""The parameters panel: every input of a generation, validated by ``inpaint_core``'s request.

The panel builds an :class:`~inpaint_core.request.InpaintRequest` from its widgets; the request's own
validation decides what is wrong and the panel shows it *at the field* (red border, tooltip and a
line under the field naming the problem). Values are remembered in ``QSettings`` (``type=`` on every
read, because INI values come back as ``str`` in a new process).
"""

from __future__ import annotations

import secrets
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from inpaint_core.errors import RequestValidationError
from inpaint_core.request import MAX_SEED, InpaintRequest
from inpaint_core.schedulers import canonical_scheduler_name, scheduler_names

SETTINGS_GROUP = "generation"
ENGINE_LABELS = {"classical": "Classical (no model)", "diffusion": "Diffusion"}
INVALID_STYLE = "border: 2px solid #e5484d; border-radius: 3px;"
ERROR_LABEL_STYLE = "color: #e5484d; font-size: 11px;"
NO_MODEL = "— no model —"


class ParametersPanel(QWidget):
    """Widgets for one :class:`InpaintRequest`. ``request()`` raises on invalid input."""

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
        self._build()
        self._validate_timer = QTimer(self, singleShot=True, interval=0)
        self._validate_timer.timeout.connect(self.validate)
        self._connect_changes()
        self._engine_changed()
        self.validate()

    # -- construction ---------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        col = QVBoxLayout(body)
        col.setContentsMargins(8, 8, 8, 8)

        # model + engine
        box = QGroupBox("Engine and model")
        form = self._form(box)
        self.engine_combo = QComboBox(objectName="engineCombo")
        for key, label in ENGINE_LABELS.items():
            self.engine_combo.addItem(label, key)
        self._add_row(form, "Engine", self.engine_combo, "engine")
        self.model_combo = QComboBox(objectName="modelCombo")
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.model_combo.setMinimumContentsLength(8)
        self.model_combo.addItem(NO_MODEL, "")
        self.open_model_button = QToolButton(objectName="openModelButton", text="Open…")
        self.open_model_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.open_model_button)
        self.open_model_file_action = menu.addAction("Model file (.safetensors, .ckpt)…")
        self.open_model_folder_action = menu.addAction("Diffusers model folder…")
        self.open_model_button.setMenu(menu)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.model_combo, 1)
        row.addWidget(self.open_model_button)
        self._add_row(form, "Model", self._wrap(row), "model", focus=self.model_combo)
        self.model_progress = QProgressBar(objectName="modelProgress", textVisible=True)
        self.model_progress.setMaximumHeight(16)
        form.addRow(self.model_progress)
        form.setRowVisible(self.model_progress, False)
        self._model_form = form
        col.addWidget(box)

        # prompts
        box = QGroupBox("Prompt")
        v = QVBoxLayout(box)
        self.prompt_edit = QPlainTextEdit(objectName="promptEdit")
        self.prompt_edit.setPlaceholderText("What to paint in the masked area")
        self.prompt_edit.setFixedHeight(64)
        self.negative_edit = QPlainTextEdit(objectName="negativePromptEdit")
        self.negative_edit.setPlaceholderText("Negative prompt: what to avoid")
        self.negative_edit.setFixedHeight(44)
        v.addWidget(self.prompt_edit)
        v.addWidget(self._error_label("prompt", self.prompt_edit))
        v.addWidget(self.negative_edit)
        v.addWidget(self._error_label("negative_prompt", self.negative_edit))
        col.addWidget(box)

        # sampler
        box = QGroupBox("Sampling")
        form = self._form(box)
        self.scheduler_combo = QComboBox(objectName="schedulerCombo")
        self.scheduler_combo.addItems(scheduler_names())
        self.scheduler_combo.setCurrentText(InpaintRequest().scheduler)
        self._add_row(form, "Scheduler", self.scheduler_combo, "scheduler")
        self.steps_spin = QSpinBox(objectName="stepsSpin", minimum=1, maximum=500, value=25)
        self._add_row(form, "Steps", self.steps_spin, "steps")
        self.guidance_spin = QDoubleSpinBox(
            objectName="guidanceSpin", minimum=0.0, maximum=50.0, singleStep=0.5, value=7.5
        )
        self._add_row(form, "Guidance", self.guidance_spin, "guidance_scale")
        self.strength_spin = QDoubleSpinBox(
            objectName="strengthSpin", minimum=0.0, maximum=1.0, singleStep=0.05, value=1.0
        )
        self._add_row(form, "Strength", self.strength_spin, "strength")

        self.seed_edit = QLineEdit(objectName="seedEdit")
        self.seed_edit.setPlaceholderText("random")
        self.random_seed_check = QCheckBox("Random", objectName="randomSeedCheck", checked=True)
        self.random_seed_check.setToolTip("Untick to lock the seed in the field")
        self.new_seed_button = QToolButton(objectName="newSeedButton", text="New")
        self.new_seed_button.setToolTip("Draw a new random seed into the field and lock it")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.seed_edit, 1)
        row.addWidget(self.random_seed_check)
        row.addWidget(self.new_seed_button)
        self._add_row(form, "Seed", self._wrap(row), "seed", focus=self.seed_edit)
        self._field_widgets["seeds"] = self.seed_edit
        self.seed_used_label = QLabel("", objectName="seedUsedLabel")
        self.seed_used_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.seed_used_label.setStyleSheet("color: palette(mid);")
        form.addRow("", self.seed_used_label)
        form.setRowVisible(self.seed_used_label, False)
        self._seed_form = form
        self.outputs_spin = QSpinBox(objectName="outputsSpin", minimum=1, maximum=64, value=1)
        self._add_row(form, "Outputs", self.outputs_spin, "num_outputs")
        col.addWidget(box)

        # region + size
        box = QGroupBox("Region and size")
        form = self._form(box)
        self.padding_spin = QSpinBox(objectName="paddingSpin", minimum=0, maximum=2048, value=32)
        self.padding_spin.setSuffix(" px")
        self._add_row(form, "Padding", self.padding_spin, "mask_padding")
        self.grow_spin = QSpinBox(objectName="growSpin", minimum=0, maximum=2048, value=4)
        self.grow_spin.setSuffix(" px")
        self._add_row(form, "Mask grow", self.grow_spin, "mask_grow")
        self.feather_spin = QSpinBox(objectName="featherSpin", minimum=0, maximum=2048, value=8)
        self.feather_spin.setSuffix(" px")
        self._add_row(form, "Feather", self.feather_spin, "mask_feather")
        self.size_mode_combo = QComboBox(objectName="sizeModeCombo")
        self.size_mode_combo.addItem("Auto (crop's aspect)", "auto")
        self.size_mode_combo.addItem("Explicit", "explicit")
        self.size_mode_combo.setToolTip(
            "Auto: the working size follows the crop's aspect at the given long side"
        )
        self._add_row(form, "Output size", self.size_mode_combo, "size_mode")
        self.target_spin = QSpinBox(
            objectName="targetSizeSpin", minimum=8, maximum=4096, singleStep=64, value=512
        )
        self.target_spin.setSuffix(" px")
        self.target_spin.setToolTip("Long side of the working grid (the model's resolution)")
        self._add_row(form, "Long side", self.target_spin, "target_size")
        self.width_spin = QSpinBox(
            objectName="widthSpin", minimum=8, maximum=4096, singleStep=8, value=512
        )
        self.height_spin = QSpinBox(
            objectName="heightSpin", minimum=8, maximum=4096, singleStep=8, value=512
        )
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.width_spin)
        row.addWidget(QLabel("×"))
        row.addWidget(self.height_spin)
        self._size_row = self._wrap(row)
        self._add_row(form, "W × H", self._size_row, "width", focus=self.width_spin)
        self._field_widgets["height"] = self.height_spin
        self._errors["height"] = self._errors["width"]
        self.color_match_check = QCheckBox("Match colours", objectName="colorMatchCheck")
        form.addRow("", self.color_match_check)
        self.safety_check = QCheckBox("Safety checker", objectName="safetyCheck", checked=True)
        self.safety_check.setToolTip("Flagged outputs are shown blurred, with a reveal option")
        form.addRow("", self.safety_check)
        col.addWidget(box)
        col.addStretch(1)

        # always visible at the bottom: errors, progress, Generate/Cancel
        foot = QVBoxLayout()
        foot.setContentsMargins(8, 4, 8, 8)
        self.offer_frame = QFrame(objectName="offerFrame")
        self.offer_frame.setStyleSheet(
            "#offerFrame { background: #E8F0FE; border: 1px solid #B7CEF5; border-radius: 4px; }"
            " QLabel { color: #174EA6; background: transparent; }"
        )
        offer = QHBoxLayout(self.offer_frame)
        offer.setContentsMargins(6, 4, 4, 4)
        self.offer_label = QLabel("", objectName="offerLabel", wordWrap=True)
        self.offer_load_button = QToolButton(objectName="offerLoadButton", text="Load")
        self.offer_dismiss_button = QToolButton(objectName="offerDismissButton", text="✕")
        self.offer_dismiss_button.setAutoRaise(True)
        self.offer_dismiss_button.clicked.connect(self.offer_frame.hide)
        offer.addWidget(self.offer_label, 1)
        offer.addWidget(self.offer_load_button)
        offer.addWidget(self.offer_dismiss_button)
        self.offer_frame.hide()
        foot.addWidget(self.offer_frame)
        self.message_label = QLabel("", objectName="messageLabel", wordWrap=True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()
        foot.addWidget(self.message_label)
        self.progress_bar = QProgressBar(objectName="generationProgress", minimum=0, maximum=1000)
        self.progress_bar.setFormat("Idle")
        self.progress_bar.setValue(0)
        foot.addWidget(self.progress_bar)
        row = QHBoxLayout()
        self.generate_button = QPushButton("Generate", objectName="generateButton")
        self.generate_button.setDefault(True)
        self.generate_button.setToolTip(
            "Generate (Ctrl+Enter); while one runs, this queues another"
        )
        self.generate_button.setStyleSheet("QPushButton { font-weight: 600; padding: 6px 14px; }")
        self.cancel_button = QPushButton("Cancel", objectName="cancelButton", enabled=False)
        self.cancel_button.setToolTip("Stop the running generation and drop queued ones (Esc)")
        row.addWidget(self.generate_button, 1)
        row.addWidget(self.cancel_button)
        foot.addLayout(row)
        outer.addLayout(foot)

    @staticmethod
    def _form(box: QGroupBox) -> QFormLayout:
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return form

    @staticmethod
    def _wrap(layout: QHBoxLayout) -> QWidget:
        w = QWidget()
        w.setLayout(layout)
        return w

    def _error_label(self, name: str, widget: QWidget) -> QLabel:
        label = QLabel("", objectName=f"{name}Error", wordWrap=True)
        label.setStyleSheet(ERROR_LABEL_STYLE)
        label.hide()
        self._errors[name] = label
        self._field_widgets[name] = widget
        return label

    def _add_row(
        self, form: QFormLayout, text: str, widget: QWidget, name: str, focus: QWidget | None = None
    ) -> None:
        form.addRow(text, widget)
        label = self._error_label(name, focus or widget)
        form.addRow(label)
        self._error_forms[name] = form
        form.setRowVisible(label, False)

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

    def _size_mode_changed(self, *_: Any) -> None:
        explicit = self.size_mode_combo.currentData() == "explicit"
        self._size_row.setEnabled(explicit)
        self.target_spin.setEnabled(not explicit)

    def _seed_mode_changed(self, *_: Any) -> None:
        self.seed_edit.setReadOnly(self.random_seed_check.isChecked())

    def new_seed(self) -> None:
        self.seed_edit.setText(str(secrets.randbelow(MAX_SEED)))
        self.random_seed_check.setChecked(False)

    def _model_activated(self, index: int) -> None:
        source = self.model_combo.itemData(index) or ""
        if source:
            self.model_chosen.emit(source)

    def _open_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a model file", "", "Stable Diffusion checkpoints (*.safetensors *.ckpt)"
        )
        if path:
            self.choose_model(path)

    def _open_model_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a diffusers model folder")
        if path:
            self.choose_model(path)

    # -- models ---------------------------------------------------------------------------------
    def set_models(self, models: list[Any]) -> None:
        """Fill the picker from :func:`inpaint_core.models.list_models` (``ModelInfo`` objects);
        models that are not inpainting models are listed but cannot be chosen."""
        current = self.model
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItem(NO_MODEL, "")
        item_model = self.model_combo.model()
        for info in models:
            label = info.name + (f"  ({info.note})" if info.note else "")
            self.model_combo.addItem(label, info.source)
            idx = self.model_combo.count() - 1
            self.model_combo.setItemData(idx, info.path or info.source, Qt.ItemDataRole.ToolTipRole)
            if info.is_inpainting is False:
                item_model.item(idx).setEnabled(False)  # type: ignore[attr-defined]
        for source in self._opened_models:
            self.add_model(source)
        self.model_combo.blockSignals(False)
        if current:
            self.set_model(current)
        self._schedule_validate()

    def add_model(self, source: str, label: str | None = None) -> int:
        idx = self.model_combo.findData(source)
        if idx < 0:
            from pathlib import Path

            if source not in self._opened_models:
                self._opened_models.append(source)
            self.model_combo.addItem(label or Path(source).name or source, source)
            idx = self.model_combo.count() - 1
            self.model_combo.setItemData(idx, source, Qt.ItemDataRole.ToolTipRole)
        return idx

    def set_model(self, source: str | None) -> None:
        idx = self.add_model(source) if source else 0
        self.model_combo.setCurrentIndex(idx)

    def choose_model(self, source: str) -> None:
        """Select ``source`` (adding it if new), switch to the diffusion engine, emit ``model_chosen``."""
        self.set_model(source)
        self.engine_combo.setCurrentIndex(self.engine_combo.findData("diffusion"))
        self.model_chosen.emit(source)

    def installed_models(self) -> list[str]:
        return [self.model_combo.itemData(i) for i in range(1, self.model_combo.count())]

    # -- values ---------------------------------------------------------------------------------
    @property
    def engine(self) -> str:
        return self.engine_combo.currentData()

    @property
    def model(self) -> str | None:
        return self.model_combo.currentData() or None

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

    def set_model_error(self, source: str | None, message: str = "") -> None:
        """Remember that loading ``source`` failed (shown at the model field while it is chosen);
        ``None`` forgets it (e.g. after a successful load)."""
        self._model_error = (source, message) if source else None
        self.validate()

    def show_field_error(self, field: str, message: str) -> None:
        self.clear_field_errors()
        name = field if field in self._errors else "engine"
        widget = self._field_widgets.get(field) or self._field_widgets[name]
        label = self._errors[name]
        label.setText(message)
        self._set_error_visible(name, True)
        widget.setStyleSheet(INVALID_STYLE)
        widget.setToolTip(message)
        widget.setProperty("invalid", True)

    def clear_field_errors(self) -> None:
        for name in self._errors:
            self._set_error_visible(name, False)
            widget = self._field_widgets[name]
            if widget.property("invalid"):
                widget.setStyleSheet("")
                widget.setToolTip("")
                widget.setProperty("invalid", False)

    def _set_error_visible(self, name: str, visible: bool) -> None:
        form = self._error_forms.get(name)
        if form is not None:
            form.setRowVisible(self._errors[name], visible)
        else:
            self._errors[name].setVisible(visible)

    def set_model_progress(self, fraction: float | None, text: str = "") -> None:
        """Model loading progress under the picker; ``None`` hides it."""
        if fraction is None:
            self._model_form.setRowVisible(self.model_progress, False)
            return
        self.model_progress.setValue(int(round(fraction * 100)))
        self.model_progress.setFormat(text or "%p%")
        self._model_form.setRowVisible(self.model_progress, True)

    def field_error(self, field: str) -> str:
        """The message shown at ``field`` ('' when none) — for tests and accessibility."""
        label = self._errors.get(field)
        return label.text() if label is not None and label.isVisibleTo(self) else ""

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
