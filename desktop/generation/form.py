"""The parameters panel's form: its sections (engine and model, prompt, sampling, region and
size, the footer) and the per-field error marks (red border, tooltip, a line under the field).

A mixin of :class:`desktop.parameters_panel.ParametersPanel`: the widgets it builds become the
panel's attributes (``panel.steps_spin`` …), which the panel, its settings and the tests use.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
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
    QSpinBox,
    QStyle,
    QStyleOptionFrame,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.generation.loras import LoraList
from desktop.widgets import ElidingComboBox, FittingScrollArea
from inpaint_core.request import MAX_SEED, InpaintRequest
from inpaint_core.schedulers import scheduler_names

ENGINE_LABELS = {
    "classical": "Classical (no model)",
    "diffusion": "Diffusion",
    "erase": "Erase (LaMa / MI-GAN, no prompt)",
}
INVALID_STYLE = "border: 2px solid #e5484d; border-radius: 3px;"
ERROR_LABEL_STYLE = "color: #e5484d; font-size: 11px;"
NO_MODEL = "— no model —"
#: what the model starts from inside the mask (request ``masked_content``; None = automatic)
MASKED_CONTENT_LABELS = {
    None: "Automatic",
    "original": "Original",
    "fill": "Fill (classical first)",
    "latent_noise": "Latent noise",
    "latent_nothing": "Latent nothing",
}
MASKED_CONTENT_TIP = (
    "What the model starts from inside the mask.\n"
    "Automatic: Fill with an empty prompt (remove an object), Original with a prompt.\n"
    "Original: img2img of what is there (uses Strength).\n"
    "Fill: the classical fill first (the right start for removing an object).\n"
    "Latent noise / Latent nothing: random noise / an empty latent."
)


class ParametersForm(QWidget):
    """The widgets (``form.steps_spin`` …) and the validation marks at their field.
    ``settings``: where its file dialogs (model, LoRA, erase model) start, per
    :mod:`desktop.file_dialogs` (the studio's settings; a default QSettings when None)."""

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self._errors: dict[str, QLabel] = {}
        self._error_forms: dict[str, QFormLayout] = {}
        self._field_widgets: dict[str, QWidget] = {}
        self._build()

    # -- construction ---------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = FittingScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        col = QVBoxLayout(body)
        col.setContentsMargins(8, 8, 8, 8)

        self._build_engine_section(col)
        self._build_lora_section(col)
        self._build_prompt_section(col)
        self._build_sampling_section(col)
        self._build_region_section(col)
        col.addStretch(1)
        self._build_footer(outer)

    def _build_engine_section(self, col: QVBoxLayout) -> None:
        """Engine and model: the engine, the model picker and its load progress."""
        box = QGroupBox("Engine and model")
        form = self._form(box)
        self.engine_combo = QComboBox(objectName="engineCombo")
        for key, label in ENGINE_LABELS.items():
            self.engine_combo.addItem(label, key)
        self.engine_combo.setSizeAdjustPolicy(  # the dock is narrow: long labels elide
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.engine_combo.setMinimumContentsLength(10)
        self._add_row(form, "Engine", self.engine_combo, "engine")
        self.model_combo = ElidingComboBox(objectName="modelCombo")  # full name: its tooltip
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
        self.model_note = QLabel("", objectName="modelNote", wordWrap=True)
        self.model_note.setStyleSheet("color: palette(mid); font-size: 11px;")
        form.addRow(self.model_note)
        form.setRowVisible(self.model_note, False)
        # the erase engine's model: a LaMa / MI-GAN TorchScript file (not a diffusion model)
        self.erase_model_combo = QComboBox(objectName="eraseModelCombo", editable=True)
        self.erase_model_combo.lineEdit().setPlaceholderText("big-lama.pt")
        self.erase_model_combo.setMinimumContentsLength(8)
        self.erase_model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.open_erase_model_button = QToolButton(objectName="openEraseModelButton", text="Open…")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.erase_model_combo, 1)
        row.addWidget(self.open_erase_model_button)
        self._erase_row = self._wrap(row)
        form.addRow("Erase model", self._erase_row)
        self._field_widgets["erase_model"] = self.erase_model_combo
        form.setRowVisible(self._erase_row, False)
        col.addWidget(box)

    def _build_lora_section(self, col: QVBoxLayout) -> None:
        """LoRAs with their weights (diffusion only)."""
        self.lora_box = QGroupBox("LoRAs")
        v = QVBoxLayout(self.lora_box)
        self.lora_list = LoraList(settings=self.settings)
        v.addWidget(self.lora_list)
        v.addWidget(self._error_label("loras", self.lora_list))
        col.addWidget(self.lora_box)

    def _build_prompt_section(self, col: QVBoxLayout) -> None:
        """The prompt and the negative prompt."""
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

    def _build_sampling_section(self, col: QVBoxLayout) -> None:
        """Scheduler, steps, guidance, strength, seed and number of outputs."""
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
        self.masked_content_combo = QComboBox(objectName="maskedContentCombo")
        for key, label in MASKED_CONTENT_LABELS.items():
            self.masked_content_combo.addItem(label, key)
        self.masked_content_combo.setToolTip(MASKED_CONTENT_TIP)
        self._add_row(form, "Masked content", self.masked_content_combo, "masked_content")
        self.preset_note = QLabel("", objectName="presetNote", wordWrap=True)
        self.preset_note.setStyleSheet("color: #174EA6; font-size: 11px;")
        form.addRow(self.preset_note)
        form.setRowVisible(self.preset_note, False)
        self._sampling_form = form

        self.seed_edit = QLineEdit(objectName="seedEdit")
        self.seed_edit.setPlaceholderText("random")
        self.seed_edit.setMinimumWidth(self._digits_width(self.seed_edit, len(str(MAX_SEED))))
        self.random_seed_check = QCheckBox("Random", objectName="randomSeedCheck", checked=True)
        self.random_seed_check.setToolTip("Untick to lock the seed in the field")
        self.new_seed_button = QToolButton(objectName="newSeedButton", text="New")
        self.new_seed_button.setToolTip("Draw a new random seed into the field and lock it")
        row = QHBoxLayout()  # the field on its own row: a 10-digit seed stays readable
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.seed_edit, 1)
        row.addWidget(self.new_seed_button)
        self._add_row(form, "Seed", self._wrap(row), "seed", focus=self.seed_edit)
        self._field_widgets["seeds"] = self.seed_edit
        form.addRow("", self.random_seed_check)
        self.seed_used_label = QLabel("", objectName="seedUsedLabel")
        self.seed_used_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.seed_used_label.setStyleSheet("color: palette(mid);")
        form.addRow("", self.seed_used_label)
        form.setRowVisible(self.seed_used_label, False)
        self._seed_form = form
        self.outputs_spin = QSpinBox(objectName="outputsSpin", minimum=1, maximum=64, value=1)
        self._add_row(form, "Outputs", self.outputs_spin, "num_outputs")
        col.addWidget(box)

    def _build_region_section(self, col: QVBoxLayout) -> None:
        """Crop padding, mask grow/feather, the working size, colour match, safety."""
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
        self.soft_inpainting_check = QCheckBox(
            "Soft inpainting", objectName="softInpaintingCheck", checked=True
        )
        self.soft_inpainting_check.setToolTip(
            "With a feathered mask, the feather band becomes a per-pixel change map while\n"
            "denoising (differential diffusion): soft edges blend instead of showing a seam.\n"
            "A hard mask (Feather 0) runs the normal path."
        )
        form.addRow("", self.soft_inpainting_check)
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

    def _build_footer(self, outer: QVBoxLayout) -> None:
        """Always visible at the bottom: the parameters offer, messages, progress, Generate/Cancel."""
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
    def _digits_width(edit: QLineEdit, digits: int) -> int:
        """The width ``edit`` needs to show ``digits`` digits without scrolling its text."""
        opt = QStyleOptionFrame()
        edit.initStyleOption(opt)
        text = edit.fontMetrics().horizontalAdvance("8" * digits) + 2 * 2 + 8  # Qt's margins + room
        size = edit.style().sizeFromContents(
            QStyle.ContentsType.CT_LineEdit, opt, QSize(text, edit.fontMetrics().height()), edit
        )
        return size.width()

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

    # -- field errors ---------------------------------------------------------------------------
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

    def field_error(self, field: str) -> str:
        """The message shown at ``field`` ('' when none) — for tests and accessibility."""
        label = self._errors.get(field)
        return label.text() if label is not None and label.isVisibleTo(self) else ""
