"""The LoRA list of the parameters panel: one row per LoRA (name, weight slider + spin box,
remove), an Add button (a file, or one of the models folder's ``loras/``). It edits a tuple of
:class:`~inpaint_core.request.LoraRef` (the request's ``loras``); the panel binds it to the
generation model like every other field, and marks it when the core refuses a LoRA."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import file_dialogs
from inpaint_core.lora import list_loras
from inpaint_core.request import MAX_LORA_SCALE, LoraRef

#: the slider's resolution: weights in hundredths
_STEPS = 100


class LoraRow(QWidget):
    """One LoRA: its name, a weight slider and spin box kept in step, and a remove button."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, ref: LoraRef, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = ref.path
        self.setObjectName("loraRow")
        # two lines (name + remove, then the weight): the dock is narrow
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 4)
        col.setSpacing(0)
        top, bottom = QHBoxLayout(), QHBoxLayout()
        col.addLayout(top)
        col.addLayout(bottom)
        self.name_label = QLabel(Path(ref.path).stem or ref.path, objectName="loraName")
        self.name_label.setToolTip(ref.path)
        self.name_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="loraSlider")
        self.slider.setRange(-2 * _STEPS, 2 * _STEPS)  # the usual range; the spin box goes further
        self.slider.setMinimumWidth(40)
        self.spin = QDoubleSpinBox(
            objectName="loraWeight",
            minimum=-MAX_LORA_SCALE,
            maximum=MAX_LORA_SCALE,
            singleStep=0.05,
            decimals=2,
        )
        self.spin.setToolTip("Weight (0 = no effect)")
        self.remove_button = QToolButton(objectName="loraRemove", text="✕")
        self.remove_button.setToolTip("Remove this LoRA")
        self.remove_button.setAutoRaise(True)
        top.addWidget(self.name_label, 1)
        top.addWidget(self.remove_button)
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.spin)
        self.set_scale(ref.scale)
        self.slider.valueChanged.connect(lambda v: self.spin.setValue(v / _STEPS))
        self.spin.valueChanged.connect(self._spin_changed)
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self))

    def _spin_changed(self, value: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round(value * _STEPS))
        self.slider.blockSignals(False)
        self.changed.emit()

    def set_scale(self, scale: float) -> None:
        self.spin.setValue(scale)  # the slider follows

    @property
    def ref(self) -> LoraRef:
        return LoraRef(self.path, round(self.spin.value(), 4))


class LoraList(QWidget):
    """The rows and the Add button. ``changed()`` when a LoRA is added, removed or reweighted.
    ``settings``: where "From a file…" starts (:mod:`desktop.file_dialogs`)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.setObjectName("loraList")
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        self._rows_box = QVBoxLayout()
        self._rows_box.setSpacing(2)
        col.addLayout(self._rows_box)
        self.empty_label = QLabel("No LoRA", objectName="loraEmpty")
        self.empty_label.setStyleSheet("color: palette(mid);")
        self.add_button = QToolButton(objectName="loraAdd", text="Add LoRA…")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self.add_button)
        self.add_menu.aboutToShow.connect(self._fill_menu)
        self.add_button.setMenu(self.add_menu)
        foot = QHBoxLayout()
        foot.setContentsMargins(0, 0, 0, 0)
        foot.addWidget(self.empty_label, 1)
        foot.addWidget(self.add_button)
        col.addLayout(foot)
        self.rows: list[LoraRow] = []

    # -- the rows ---------------------------------------------------------------------------------
    def refs(self) -> tuple[LoraRef, ...]:
        return tuple(r.ref for r in self.rows)

    def set_refs(self, refs: tuple[LoraRef, ...] | list[LoraRef]) -> None:
        """Show ``refs`` (no ``changed``: this is the model talking)."""
        if tuple(refs) == self.refs():
            return
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        for ref in refs:
            self._add_row(ref)
        self._update_empty()

    def add(self, path: str, scale: float = 1.0) -> None:
        """Add the LoRA at ``path`` (once: adding it again keeps the row it has)."""
        if any(r.path == path for r in self.rows):
            return
        self._add_row(LoraRef(path, scale))
        self._update_empty()
        self.changed.emit()

    def remove(self, row: LoraRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self._update_empty()
        self.changed.emit()

    def _add_row(self, ref: LoraRef) -> None:
        row = LoraRow(ref, self)
        row.changed.connect(self.changed)
        row.remove_requested.connect(self.remove)
        self.rows.append(row)
        self._rows_box.addWidget(row)

    def _update_empty(self) -> None:
        self.empty_label.setVisible(not self.rows)

    # -- adding -------------------------------------------------------------------------------------
    def _fill_menu(self) -> None:
        """The models folder's LoRAs (family and few-step kind shown), then "From a file…"."""
        menu = self.add_menu
        menu.clear()
        try:
            found = list_loras()
        except OSError:
            found = []
        for info in found:
            tags = [
                t for t in (info.family if info.family != "unknown" else "", info.few_step) if t
            ]
            text = info.name + (f"  ({', '.join(tags)})" if tags else "")
            act = menu.addAction(text)
            act.setData(info.source)
            act.triggered.connect(lambda _=False, s=info.source: self.add(s))
        if not found:
            menu.addAction("(no LoRA in the models folder's loras/)").setEnabled(False)
        menu.addSeparator()
        menu.addAction("From a file…").triggered.connect(self.add_from_file)

    def add_from_file(self) -> None:
        path = file_dialogs.open_file(
            self, self.settings, "lora", "Add a LoRA", "LoRA weights (*.safetensors)"
        )
        if path:
            self.add(path)
