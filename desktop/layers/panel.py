"""The Layers panel: a thin Qt model over the document's evented layer list (napari's pattern).

Rows run top to bottom (the mask first, the photo last), the reverse of the document's order.
Changes the user makes here become document edits; undoable ones are handed to the window through
``edit_made`` (one undo step each). The mask's visibility/opacity are view settings: applied, not
recorded.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.icons import icon
from inpaint_core.document import Document, Edit, Layer, MaskLayer, ResultLayer, SetLayerProps

KindRole = Qt.ItemDataRole.UserRole + 1
OpacityRole = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex


@cache
def _swatch(colour: tuple[int, int, int]) -> QIcon:
    """The mask's icon: a blot in the overlay colour."""
    pm = QPixmap(48, 48)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(QPen(QColor(0x2B, 0x2F, 0x36), 3))
    p.setBrush(QColor(0xF4, 0xF4, 0xF4))
    p.drawRoundedRect(QRectF(4, 8, 40, 32), 4, 4)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(*colour, 200))
    path = QPainterPath()
    path.moveTo(11, 31)
    path.cubicTo(15, 16, 24, 33, 28, 18)
    path.cubicTo(30, 12, 39, 17, 37, 26)
    path.cubicTo(35, 35, 18, 37, 11, 31)
    p.drawPath(path)
    p.end()
    pm.setDevicePixelRatio(2)
    return QIcon(pm)


class LayerListModel(QAbstractListModel):
    edit_made = Signal(object)  # an undoable Edit for the window's history

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.doc: Document | None = None

    # -- wiring to the core list ----------------------------------------------------------------

    def set_document(self, doc: Document | None) -> None:
        self.beginResetModel()
        if self.doc is not None:
            ev = self.doc.layers.events
            for emitter, cb in self._handlers():
                getattr(ev, emitter).disconnect(cb)
        self.doc = doc
        if doc is not None:
            ev = doc.layers.events
            for emitter, cb in self._handlers():
                getattr(ev, emitter).connect(cb)
        self.endResetModel()

    def _handlers(self):
        return [
            ("inserting", self._inserting),
            ("inserted", self._inserted),
            ("removing", self._removing),
            ("removed", self._removed),
            ("moving", self._moving),
            ("moved", self._moved),
            ("changed", self._changed),
        ]

    def _n(self) -> int:
        return len(self.doc.layers) if self.doc is not None else 0

    def _inserting(self, index: int) -> None:
        row = self._n() - index  # row it will have once inserted
        self.beginInsertRows(QModelIndex(), row, row)

    def _inserted(self, index: int, item: Any) -> None:
        self.endInsertRows()

    def _removing(self, index: int) -> None:
        row = self._n() - 1 - index
        self.beginRemoveRows(QModelIndex(), row, row)

    def _removed(self, index: int, item: Any) -> None:
        self.endRemoveRows()

    def _moving(self, src: int, dst: int) -> None:
        n = self._n()
        src_row, dst_row = n - 1 - src, n - 1 - dst
        dest_child = dst_row + 1 if dst_row > src_row else dst_row
        self._move_ok = self.beginMoveRows(
            QModelIndex(), src_row, src_row, QModelIndex(), dest_child
        )
        if not self._move_ok:
            self.beginResetModel()

    def _moved(self, src: int, dst: int) -> None:
        if self._move_ok:
            self.endMoveRows()
        else:
            self.endResetModel()

    def _changed(self, index: int, item: Any, name: str) -> None:
        i = self.index(self._n() - 1 - index)
        self.dataChanged.emit(i, i)

    # -- rows ↔ layers --------------------------------------------------------------------------

    def layer_index(self, row: int) -> int:
        return self._n() - 1 - row

    def row_of(self, layer_index: int) -> int:
        return self._n() - 1 - layer_index

    def layer_at(self, index: Index) -> Layer | None:
        if self.doc is None or not index.isValid() or not 0 <= index.row() < self._n():
            return None
        return self.doc.layers[self.layer_index(index.row())]

    # -- Qt model API -----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else self._n()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        layer = self.layer_at(index)
        if layer is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if (
                role == Qt.ItemDataRole.DisplayRole
                and layer.opacity < 1.0
                and layer.kind == "result"
            ):
                return f"{layer.name}  ·  {round(layer.opacity * 100)} %"
            return layer.name
        if role == Qt.ItemDataRole.DecorationRole:
            if isinstance(layer, MaskLayer):
                return _swatch(layer.colour)
            return icon({"photo": "photo"}.get(layer.kind, "layer"))
        if role == Qt.ItemDataRole.CheckStateRole and "visible" in layer.editable:
            return Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(layer)
        if role == KindRole:
            return layer.kind
        if role == OpacityRole:
            return layer.opacity
        return None

    def _tooltip(self, layer: Layer) -> str:
        if isinstance(layer, ResultLayer):
            b = layer.box
            return f"{layer.name}: {b.width}×{b.height} px at ({b.x0}, {b.y0}), opacity {round(layer.opacity * 100)} %"
        if isinstance(layer, MaskLayer):
            return "The mask: paint with B, erase with E. Untick to hide the overlay (H)."
        return f"The photo: {self.doc.width}×{self.doc.height} px" if self.doc else "The photo"

    def flags(self, index: Index) -> Qt.ItemFlag:
        layer = self.layer_at(index)
        if layer is None:
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if "visible" in layer.editable:
            f |= Qt.ItemFlag.ItemIsUserCheckable
        if "name" in layer.editable:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        layer = self.layer_at(index)
        if layer is None or self.doc is None:
            return False
        i = self.layer_index(index.row())
        try:
            if role == Qt.ItemDataRole.EditRole:
                edit = self.doc.rename_layer(i, str(value))
            elif role == Qt.ItemDataRole.CheckStateRole:
                checked = (
                    Qt.CheckState(value) == Qt.CheckState.Checked
                    if not isinstance(value, bool)
                    else value
                )
                edit = self.doc.set_layer_visible(i, checked)
            else:
                return False
        except ValueError:
            return False
        self._hand_over(layer, edit)
        return True

    def _hand_over(self, layer: Layer, edit: Edit | None) -> None:
        if edit is not None and not isinstance(layer, MaskLayer):
            self.edit_made.emit(edit)


class LayersPanel(QWidget):
    """The list, an opacity slider for the selected layer, and buttons for the Layer menu actions."""

    selection_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LayerListModel(self)
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setObjectName("layersView")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.view.setIconSize(QSize(24, 24))
        self.view.setSpacing(1)
        self.view.selectionModel().currentChanged.connect(lambda *_: self._selection_changed())
        self.model.rowsInserted.connect(lambda *_: self._selection_changed())
        self.model.rowsRemoved.connect(lambda *_: self._selection_changed())
        self.model.dataChanged.connect(lambda *_: self._sync_slider())
        self.model.modelReset.connect(lambda: self._selection_changed())

        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setObjectName("layerOpacity")
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Opacity of the selected layer (the mask: overlay opacity)")
        self.opacity_label = QLabel("100 %")
        self.opacity_label.setMinimumWidth(40)
        self.opacity.valueChanged.connect(self._opacity_moved)
        self.opacity.sliderPressed.connect(self._opacity_pressed)
        self.opacity.sliderReleased.connect(self._opacity_released)
        self._drag_start: tuple[int, float] | None = None

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Opacity"))
        row.addWidget(self.opacity, 1)
        row.addWidget(self.opacity_label)
        self.buttons = QHBoxLayout()
        self.buttons.setContentsMargins(0, 0, 0, 0)
        self.buttons.setSpacing(2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)
        layout.addLayout(self.buttons)

    def add_button(self, action: QAction) -> QToolButton:
        b = QToolButton()
        b.setDefaultAction(action)
        b.setAutoRaise(True)
        b.setIconSize(QSize(20, 20))
        self.buttons.addWidget(b)
        return b

    def finish_buttons(self) -> None:
        self.buttons.addStretch(1)

    def set_document(self, doc: Document | None) -> None:
        self.model.set_document(doc)
        if doc is not None:
            self.select_layer(doc.layers.index_of(doc.mask_layer))

    # -- selection --------------------------------------------------------------------------------

    def current_layer_index(self) -> int | None:
        idx = self.view.currentIndex()
        if not idx.isValid() or self.model.doc is None:
            return None
        return self.model.layer_index(idx.row())

    def current_layer(self) -> Layer | None:
        return self.model.layer_at(self.view.currentIndex())

    def select_layer(self, layer_index: int) -> None:
        if self.model.doc is None or not 0 <= layer_index < len(self.model.doc.layers):
            return
        idx = self.model.index(self.model.row_of(layer_index))
        self.view.setCurrentIndex(idx)

    def _selection_changed(self) -> None:
        self._sync_slider()
        self.selection_changed.emit()

    # -- opacity ----------------------------------------------------------------------------------

    def _sync_slider(self) -> None:
        layer = self.current_layer()
        enabled = layer is not None and "opacity" in layer.editable
        self.opacity.setEnabled(enabled)
        value = round((layer.opacity if layer is not None else 1.0) * 100)
        if not self.opacity.isSliderDown():
            self.opacity.blockSignals(True)
            self.opacity.setValue(value)
            self.opacity.blockSignals(False)
        self.opacity_label.setText(f"{self.opacity.value()} %")

    def _opacity_pressed(self) -> None:
        i = self.current_layer_index()
        layer = self.current_layer()
        self._drag_start = (i, layer.opacity) if i is not None and layer is not None else None

    def _opacity_moved(self, value: int) -> None:
        doc = self.model.doc
        i = self.current_layer_index()
        if doc is None or i is None:
            return
        self.opacity_label.setText(f"{value} %")
        layer = doc.layers[i]
        if "opacity" not in layer.editable:
            return
        edit = doc.set_layer_opacity(i, value / 100.0)
        if not self.opacity.isSliderDown():  # a click or a key: one step at once
            self.model._hand_over(layer, edit)

    def _opacity_released(self) -> None:
        doc = self.model.doc
        start, self._drag_start = self._drag_start, None
        if doc is None or start is None:
            return
        i, old = start
        layer = doc.layers[i]
        if layer.opacity != old:
            label = f"{layer.name} opacity {round(layer.opacity * 100)} %"
            self.model._hand_over(
                layer, SetLayerProps(i, {"opacity": old}, {"opacity": layer.opacity}, label)
            )
