"""The "Extend canvas" dialog: pixels per side or an aspect ratio, the overlap and the pre-fill.

The dialog only collects values; :meth:`ExtendCanvasDialog.choice` turns them into a core
:class:`~inpaint_core.outpaint.Extension` (the aspect ratio through
:func:`~inpaint_core.outpaint.extension_to_aspect`), so the numbers are the CLI's.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from inpaint_core.errors import InpaintError
from inpaint_core.outpaint import (
    DEFAULT_OVERLAP,
    MAX_EXTEND,
    PREFILLS,
    Extension,
    extension_to_aspect,
)

ASPECTS = ("16:9", "3:2", "4:3", "1:1", "3:4", "2:3", "9:16", "21:9")
PREFILL_LABELS = {"edge": "Edge stretch (fast)", "classical": "Classical fill"}


@dataclass(frozen=True)
class ExtendChoice:
    extension: Extension
    overlap: int
    prefill: str


def _px_spin(name: str, value: int = 0, hi: int = MAX_EXTEND) -> QSpinBox:
    s = QSpinBox(objectName=name, minimum=0, maximum=hi, value=value)
    s.setSuffix(" px")
    s.setSingleStep(16)
    return s


class ExtendCanvasDialog(QDialog):
    """``size`` is the picture's (width, height): the aspect choice shows what it becomes."""

    def __init__(
        self, size: tuple[int, int], min_overlap: int = 0, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("extendCanvasDialog")
        self.setWindowTitle("Extend canvas")
        self.size = size
        self.sides_radio = QRadioButton("Pixels per side", objectName="sidesRadio", checked=True)
        self.aspect_radio = QRadioButton("To an aspect ratio", objectName="aspectRadio")
        self.left_spin = _px_spin("extendLeft")
        self.top_spin = _px_spin("extendTop")
        self.right_spin = _px_spin("extendRight", 128)
        self.bottom_spin = _px_spin("extendBottom")
        self.aspect_combo = QComboBox(objectName="aspectCombo", editable=True)
        self.aspect_combo.addItems(ASPECTS)
        self.overlap_spin = _px_spin("overlapSpin", max(DEFAULT_OVERLAP, min_overlap), 1024)
        self.overlap_spin.setMinimum(min_overlap)
        self.overlap_spin.setToolTip(
            "How far into the photo the fill may reach along the grown edges, so the new area\n"
            "continues the picture instead of meeting it at a hard line. At least the mask's\n"
            "grow + feather; every photo pixel farther in stays exactly as it is."
        )
        self.prefill_combo = QComboBox(objectName="prefillCombo")
        for key in PREFILLS:
            self.prefill_combo.addItem(PREFILL_LABELS.get(key, key), key)
        self.result_label = QLabel("", objectName="extendResultLabel")
        self.error_label = QLabel("", objectName="extendErrorLabel")
        self.error_label.setStyleSheet("color: #e5484d;")

        form = QFormLayout()
        form.addRow(self.sides_radio)
        for text, spin in (
            ("Left", self.left_spin),
            ("Top", self.top_spin),
            ("Right", self.right_spin),
            ("Bottom", self.bottom_spin),
        ):
            form.addRow(text, spin)
            spin.valueChanged.connect(self._changed)
        form.addRow(self.aspect_radio)
        form.addRow("Aspect", self.aspect_combo)
        form.addRow("Overlap", self.overlap_spin)
        form.addRow("Pre-fill", self.prefill_combo)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.result_label)
        lay.addWidget(self.error_label)
        lay.addWidget(self.buttons)
        self.sides_radio.toggled.connect(self._changed)
        self.aspect_combo.currentTextChanged.connect(self._changed)
        self._changed()

    def extension(self) -> Extension:
        """The sides to grow (raises :class:`InpaintError` on a bad aspect ratio)."""
        if self.aspect_radio.isChecked():
            return extension_to_aspect(*self.size, self.aspect_combo.currentText())
        return Extension(
            self.left_spin.value(),
            self.top_spin.value(),
            self.right_spin.value(),
            self.bottom_spin.value(),
        )

    def choice(self) -> ExtendChoice:
        return ExtendChoice(
            self.extension(), self.overlap_spin.value(), self.prefill_combo.currentData()
        )

    def _changed(self, *_: object) -> None:
        by_sides = self.sides_radio.isChecked()
        for spin in (self.left_spin, self.top_spin, self.right_spin, self.bottom_spin):
            spin.setEnabled(by_sides)
        self.aspect_combo.setEnabled(not by_sides)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            ext = self.extension()
        except InpaintError as exc:
            self.error_label.setText(str(exc))
            self.result_label.setText("")
            ok.setEnabled(False)
            return
        w, h = self.size
        l_, t, r, b = ext.as_tuple()
        self.result_label.setText(f"{w}×{h} → {w + l_ + r}×{h + t + b}")
        self.error_label.setText("" if not ext.empty else "Give at least one side a size.")
        ok.setEnabled(not ext.empty)
