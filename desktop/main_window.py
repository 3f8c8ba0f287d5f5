"""The studio's main window: canvas in the middle, Layers/History (and, from the next issue,
Parameters/Candidates) docks, menus, toolbar, status bar. Thin: every change to the picture is a
call into :class:`inpaint_core.document.Document`, whose returned edit goes on the undo history.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import (
    QApplication,
    QColorDialog,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from inpaint_core import masks
from inpaint_core.document import Document, Edit, ResultLayer, export_mask, export_picture
from inpaint_core.errors import InpaintError
from inpaint_core.masks import BBox
from inpaint_core.resources import sample_photo

from . import opening
from .actions import Actions, build_menus, build_toolbar
from .canvas import Canvas
from .icons import app_icon, icon
from .layers_panel import LayersPanel
from .settings import open_settings, read
from .status import StatusBar
from .tools import BrushSettings
from .undo import DEFAULT_LIMIT, History
from .widgets import Banner

APP_NAME = "Inpaint Studio"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"
EXPORT_FILTERS = {"PNG (*.png)": ".png", "JPEG (*.jpg *.jpeg)": ".jpg", "WebP (*.webp)": ".webp"}
LOAD_ERRORS = (InpaintError, OSError, ValueError)


def _placeholder(text: str) -> QWidget:
    w = QWidget()
    lab = QLabel(text)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lab.setWordWrap(True)
    lab.setStyleSheet("color: #80868B; padding: 16px;")
    layout = QVBoxLayout(w)
    layout.addWidget(lab)
    return w


class MainWindow(QMainWindow):
    document_changed = Signal(object)

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else open_settings()
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self.doc: Document | None = None

        self.brush = BrushSettings(self)
        self.brush.load(self.settings)
        limit_mib = read(self.settings, "undo/limit_mib", DEFAULT_LIMIT >> 20, int)
        self.history = History(max(16, limit_mib) << 20, self)

        self.canvas = Canvas(self.brush)
        self.canvas.setObjectName("canvas")
        self.banner = Banner()
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.banner)
        lay.addWidget(self.canvas, 1)
        self.setCentralWidget(central)

        self._build_docks()
        self.actions = Actions(self)
        build_menus(self, self.actions)
        self.toolbar = build_toolbar(self, self.actions)
        for dock in self.docks.values():
            self.panels_menu.addAction(dock.toggleViewAction())
        self._build_layer_buttons()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)

        self.canvas.stroke_finished.connect(self.push_edit)
        self.canvas.stroke_active_changed.connect(self._stroke_active)
        self.canvas.zoom_changed.connect(self.status.set_zoom)
        self.canvas.cursor_moved.connect(self.status.set_cursor)
        self.history.memory_changed.connect(self._memory_changed)
        self.layers.model.edit_made.connect(self.push_edit)
        self.layers.selection_changed.connect(self._update_actions)
        self.brush.changed.connect(self._brush_changed)
        self.size_spin.valueChanged.connect(lambda v: self.brush.set_size(v))
        self.hardness_spin.valueChanged.connect(lambda v: self.brush.set_hardness(v / 100))
        self.opacity_spin.valueChanged.connect(lambda v: self.brush.set_opacity(v / 100))
        self._brush_changed()
        self._memory_changed(0, self.history.limit_bytes)
        self._restore_layout()
        self._update_actions()
        from . import compare_action  # "Compare side by side…" (Ctrl+Shift+C): sweeps in a grid

        compare_action.install(self)
        from . import generation  # Parameters + Candidates docks, Generate (Ctrl+Enter), Esc

        generation.install(self)

    # -- construction -----------------------------------------------------------------------------

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        self.docks: dict[str, QDockWidget] = {}
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.layers = LayersPanel()
        self._dock("Layers", "layersDock", self.layers, right)
        self.undo_view = QUndoView(self.history.stack)
        self.undo_view.setObjectName("historyView")
        self.undo_view.setEmptyLabel("Opened photo")
        self.undo_view.setCleanIcon(icon("photo"))
        self.undo_view.setUniformItemSizes(True)  # every step as tall as the first (with its icon)
        self._dock("History", "historyDock", self.undo_view, right)
        # Places the generation panels (the next issue) fill: empty for now.
        self._dock(
            "Parameters",
            "parametersDock",
            _placeholder("Generation parameters will appear here."),
            right,
        )
        self.tabifyDockWidget(self.docks["layersDock"], self.docks["parametersDock"])
        self.docks["layersDock"].raise_()
        self._dock(
            "Candidates",
            "candidatesDock",
            _placeholder("Generated candidates will appear here."),
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.docks["candidatesDock"].hide()
        self.resizeDocks([self.docks["layersDock"]], [300], Qt.Orientation.Horizontal)
        self.resizeDocks(
            [self.docks["layersDock"], self.docks["historyDock"]],
            [380, 260],
            Qt.Orientation.Vertical,
        )

    def _build_layer_buttons(self) -> None:
        a = self.actions
        for act in (a.move_up, a.move_down, a.merge_down, a.flatten, a.delete_layer):
            self.layers.add_button(act)
        self.layers.finish_buttons()

    def _restore_layout(self) -> None:
        geometry = read(self.settings, "window/geometry", QByteArray(), QByteArray)
        state = read(self.settings, "window/state", QByteArray(), QByteArray)
        if geometry.isEmpty() or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        if not state.isEmpty():
            self.restoreState(state)
        colour = read(self.settings, "overlay/colour", "#ff3030", str)
        self._overlay_colour = QColor(colour) if QColor(colour).isValid() else QColor("#ff3030")
        self._overlay_opacity = min(
            1.0, max(0.05, read(self.settings, "overlay/opacity", 0.5, float))
        )

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.brush.save(self.settings)
        if self.doc is not None:
            ml = self.doc.mask_layer
            self.settings.setValue("overlay/colour", QColor(*ml.colour).name())
            self.settings.setValue("overlay/opacity", float(ml.opacity))
        self.settings.setValue("undo/limit_mib", self.history.limit_bytes >> 20)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_settings()
        super().closeEvent(event)

    # -- messages -----------------------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        self.banner.show_message(text, "error")

    def show_info(self, text: str, timeout_ms: int = 6000) -> None:
        self.banner.show_message(text, "info", timeout_ms)

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def ask_int(self, title: str, label: str, value: int, lo: int, hi: int) -> int | None:
        v, ok = QInputDialog.getInt(self, title, label, value, lo, hi)
        return int(v) if ok else None

    # -- the document -------------------------------------------------------------------------------

    def set_document(self, doc: Document) -> None:
        self.history.clear()
        ml = doc.mask_layer
        ml.colour = (
            self._overlay_colour.red(),
            self._overlay_colour.green(),
            self._overlay_colour.blue(),
        )
        ml.opacity = self._overlay_opacity
        ml.visible = self.actions.show_overlay.isChecked()
        if self.doc is not None:
            self.doc.layers.events.changed.disconnect(self._layer_changed)
            self.doc.layers.events.inserted.disconnect(self._layers_structure)
            self.doc.layers.events.removed.disconnect(self._layers_structure)
        self.doc = doc
        doc.layers.events.changed.connect(self._layer_changed)
        doc.layers.events.inserted.connect(self._layers_structure)
        doc.layers.events.removed.connect(self._layers_structure)
        self.canvas.set_document(doc)
        self.layers.set_document(doc)
        self.status.set_image_size(doc.width, doc.height)
        self.setWindowTitle(f"{doc.photo.name} — {APP_NAME}")
        self.canvas.setFocus()
        self._update_actions()
        self.document_changed.emit(doc)

    def push_edit(self, edit: Edit | None) -> None:
        """Put an already applied edit on the history (one undo step)."""
        self.canvas.finish_stroke()  # a stroke in progress lands first, as its own step
        if edit is not None and self.doc is not None:
            self.history.push(self.doc, edit)
        self._update_actions()

    def _stroke_active(self, active: bool) -> None:
        """No undo/redo in the middle of a stroke (the stroke owns the mask until it ends)."""
        stack = self.history.stack
        self.actions.undo.setEnabled(not active and stack.canUndo())
        self.actions.redo.setEnabled(not active and stack.canRedo())
        self.undo_view.setEnabled(not active)

    def _apply(self, fn: Callable[[Document], Edit | None], nothing: str = "") -> Edit | None:
        if self.doc is None:
            return None
        self.canvas.finish_stroke()
        try:
            edit = fn(self.doc)
        except (InpaintError, ValueError) as exc:
            self.show_error(str(exc))
            return None
        if edit is None and nothing:
            self.status.showMessage(nothing, 4000)
        self.push_edit(edit)
        return edit

    # -- opening ------------------------------------------------------------------------------------

    def open_source(self, source: str | Path | bytes, name: str | None = None) -> bool:
        """Open a path, URL or bytes. A failure shows a message and keeps the open document."""
        from inpaint_core.imaging import load_image

        label = name or (Path(str(source)).name if not isinstance(source, bytes) else "image")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            loaded = load_image(source)
        except LOAD_ERRORS as exc:
            QApplication.restoreOverrideCursor()
            self.show_error(f"Could not open {label}: {exc}")
            return False
        QApplication.restoreOverrideCursor()
        self.set_document(Document.from_image(loaded, name))
        if isinstance(source, str | Path) and not str(source).lower().startswith(
            ("http://", "https://")
        ):
            opening.add_recent(self.settings, str(Path(source).resolve()))
        elif isinstance(source, str):
            opening.add_recent(self.settings, str(source))
        if loaded.notes:
            self.status.showMessage("; ".join(loaded.notes), 6000)
        self.banner.hide()
        return True

    def open_image(self, image: QImage, name: str = "Pasted image") -> bool:
        if image.isNull():
            self.show_error("The pasted image is empty.")
            return False
        rgb, alpha = opening.qimage_to_arrays(image)
        self.set_document(Document(rgb, alpha, name=name, source=name))
        self.banner.hide()
        return True

    def open_mime(self, mime, what: str = "drop") -> bool:
        payload = opening.payload_from_mime(mime)
        if payload.source:
            return self.open_source(payload.source)
        if payload.image is not None:
            return self.open_image(
                payload.image, "Pasted image" if what == "paste" else "Dropped image"
            )
        self.show_error(f"Nothing to open: {payload.problem}.")
        return False

    def open_sample(self) -> bool:
        return self.open_source(sample_photo(), "Sample photo")

    def open_dialog(self) -> None:
        start = read(self.settings, "paths/open_dir", str(Path.home()), str)
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", start, IMAGE_FILTER)
        if path:
            self.settings.setValue("paths/open_dir", str(Path(path).parent))
            self.open_source(path)

    def open_url_dialog(self) -> None:
        url, ok = QInputDialog.getText(self, "Open URL", "Address of a photo (http or https):")
        if ok and url.strip():
            self.open_source(url.strip())

    def paste(self) -> bool:
        return self.open_mime(QGuiApplication.clipboard().mimeData(), "paste")

    def rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = opening.recent_files(self.settings)
        for path in files:
            act = self.recent_menu.addAction(Path(path).name if "://" not in path else path)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _c=False, p=path: self._open_recent(p))
        if not files:
            self.recent_menu.addAction("No recent photos").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(
                "Clear List", lambda: self.settings.setValue("recent/files", [])
            )

    def _open_recent(self, path: str) -> None:
        if not self.open_source(path) and "://" not in path and not Path(path).exists():
            opening.remove_recent(self.settings, path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        event.acceptProposedAction()
        self.open_mime(event.mimeData(), "drop")

    # -- export -------------------------------------------------------------------------------------

    def _default_stem(self) -> str:
        return Path(self.doc.photo.name).stem if self.doc else "picture"

    def export_picture(self, path: str | Path) -> Path | None:
        if self.doc is None:
            return None
        try:
            out = export_picture(path, self.doc.flatten(), alpha=self.doc.photo.alpha)
        except (ValueError, OSError, InpaintError) as exc:
            self.show_error(f"Could not export: {exc}")
            return None
        self.status.showMessage(f"Exported {out}", 6000)
        return out

    def export_mask(self, path: str | Path) -> Path | None:
        if self.doc is None:
            return None
        try:
            out = export_mask(path, self.doc.mask)
        except (ValueError, OSError) as exc:
            self.show_error(f"Could not export the mask: {exc}")
            return None
        self.status.showMessage(f"Exported mask {out}", 6000)
        return out

    def _save_dialog(self, title: str, suggested: str, filters: dict[str, str]) -> str | None:
        start = read(self.settings, "paths/export_dir", str(Path.home()), str)
        path, chosen = QFileDialog.getSaveFileName(
            self, title, str(Path(start) / suggested), ";;".join(filters)
        )
        if not path:
            return None
        if not Path(path).suffix:
            path += filters.get(chosen, ".png")
        self.settings.setValue("paths/export_dir", str(Path(path).parent))
        return path

    def export_picture_dialog(self) -> None:
        if self.doc is not None:
            path = self._save_dialog(
                "Export picture", f"{self._default_stem()}-edited.png", EXPORT_FILTERS
            )
            if path:
                self.export_picture(path)

    def export_mask_dialog(self) -> None:
        if self.doc is not None:
            path = self._save_dialog(
                "Export mask", f"{self._default_stem()}-mask.png", {"PNG (*.png)": ".png"}
            )
            if path:
                self.export_mask(path)

    # -- mask ---------------------------------------------------------------------------------------

    def invert_mask(self) -> None:
        self._apply(lambda d: d.invert_mask())

    def clear_mask(self) -> None:
        self._apply(lambda d: d.clear_mask(), "The mask is already empty.")

    def _mask_px(self, key: str, title: str, label: str, px: int | None) -> int | None:
        if px is None:
            px = self.ask_int(title, label, read(self.settings, key, 8, int), 1, 1000)
            if px is None:
                return None
            self.settings.setValue(key, px)
        return px

    def grow_mask(self, px: int | None = None) -> None:
        px = self._mask_px("mask/grow", "Grow mask", "Grow the mask by (pixels):", px)
        if px:
            self._apply(lambda d: d.grow_mask(px), "The mask is empty.")

    def shrink_mask(self, px: int | None = None) -> None:
        px = self._mask_px("mask/shrink", "Shrink mask", "Shrink the mask by (pixels):", px)
        if px:
            self._apply(lambda d: d.shrink_mask(px), "The mask is empty.")

    def feather_mask(self, px: int | None = None) -> None:
        px = self._mask_px("mask/feather", "Feather mask", "Feather radius (pixels):", px)
        if px:
            self._apply(lambda d: d.feather_mask(px), "The mask is empty.")

    def load_mask(self, path: str | Path) -> bool:
        """Load a mask file; a wrong size is explained and resizing offered."""
        from inpaint_core.imaging import load_mask

        if self.doc is None:
            return False
        doc = self.doc
        try:
            mask = load_mask(path)
            if mask.shape != doc.mask.shape:
                mh, mw = mask.shape
                question = (
                    f"The mask is {mw}×{mh} pixels but the photo is {doc.width}×{doc.height}.\n\n"
                    "Stretch the mask to the photo's size?"
                )
                if not self.confirm("Mask size differs", question):
                    self.show_error(
                        f"Mask not loaded: its size {mw}×{mh} does not match the photo's {doc.width}×{doc.height}."
                    )
                    return False
            mask = masks.validate_mask(mask, doc.size, resize=True)
        except LOAD_ERRORS as exc:
            self.show_error(f"Could not load the mask: {exc}")
            return False
        self.push_edit(doc.set_mask(mask, "Load mask"))
        return True

    def load_mask_dialog(self) -> None:
        if self.doc is None:
            return
        start = read(self.settings, "paths/open_dir", str(Path.home()), str)
        path, _ = QFileDialog.getOpenFileName(self, "Load mask", start, IMAGE_FILTER)
        if path:
            self.load_mask(path)

    def mask_from_transparency(self) -> None:
        self._apply(lambda d: d.mask_from_transparency())

    def set_overlay_visible(self, visible: bool) -> None:
        if self.doc is not None:
            i = self.doc.layers.index_of(self.doc.mask_layer)
            self.doc.set_layer_visible(i, bool(visible))  # a view setting: not on the history

    def overlay_colour_dialog(self) -> None:
        colour = QColorDialog.getColor(self._overlay_colour, self, "Mask overlay colour")
        if colour.isValid():
            self.set_overlay_colour(colour)

    def set_overlay_colour(self, colour: QColor) -> None:
        self._overlay_colour = QColor(colour)
        self.settings.setValue("overlay/colour", colour.name())
        if self.doc is not None:
            i = self.doc.layers.index_of(self.doc.mask_layer)
            self.doc.set_layer_props(i, colour=(colour.red(), colour.green(), colour.blue()))

    # -- layers -------------------------------------------------------------------------------------

    def add_result_layer(
        self,
        rgb: np.ndarray,
        box: BBox | tuple[int, int, int, int] | None = None,
        name: str = "Result",
        *,
        alpha: np.ndarray | None = None,
        info: dict[str, Any] | None = None,
    ) -> ResultLayer | None:
        """Apply a result as a new layer (one undo step) and select it. For the generation panels."""
        edit = self._apply(lambda d: d.add_result_layer(rgb, box, name, alpha=alpha, info=info))
        if edit is None or self.doc is None:
            return None
        layer = edit.layer  # type: ignore[attr-defined]
        self.layers.select_layer(self.doc.layers.index_of(layer))
        return layer

    def apply_result_layer(
        self,
        rgb: np.ndarray,
        box: BBox | tuple[int, int, int, int] | None,
        name: str = "Result",
        info: dict[str, Any] | None = None,
    ) -> ResultLayer | None:
        """``add_result_layer`` with ``info`` positional (the generation host's calling style)."""
        return self.add_result_layer(rgb, box, name, info=info)

    @property
    def document(self) -> Document | None:
        return self.doc

    @property
    def undo_stack(self):
        """The QUndoStack (edits pushed here directly count against the undo memory limit too)."""
        return self.history.stack

    def _selected_result(self) -> int | None:
        i = self.layers.current_layer_index()
        if i is None or self.doc is None or not isinstance(self.doc.layers[i], ResultLayer):
            return None
        return i

    def rename_layer(self) -> None:
        i = self.layers.current_layer_index()
        if i is None or self.doc is None or "name" not in self.doc.layers[i].editable:
            return
        self.layers.view.edit(self.layers.view.currentIndex())

    def delete_layer(self) -> None:
        i = self._selected_result()
        if i is not None:
            self._apply(lambda d: d.remove_layer(i))

    def move_layer(self, step: int) -> None:
        i = self._selected_result()
        if i is None or self.doc is None:
            return
        dst = i + step
        if not 1 <= dst <= len(self.doc.layers) - 2:
            return
        layer = self.doc.layers[i]
        self._apply(lambda d: d.move_layer(i, dst))
        self.layers.select_layer(self.doc.layers.index_of(layer))

    def merge_down(self) -> None:
        i = self._selected_result()
        if i is not None:
            self._apply(lambda d: d.merge_down(i))
            self.layers.select_layer(max(0, i - 1))

    def flatten(self) -> None:
        self._apply(lambda d: d.flatten_layers(), "There are no layers to flatten.")

    def _layer_changed(self, index: int, layer: Any, name: str) -> None:
        if self.doc is not None and layer is self.doc.mask_layer and name == "visible":
            self.actions.show_overlay.blockSignals(True)
            self.actions.show_overlay.setChecked(layer.visible)
            self.actions.show_overlay.blockSignals(False)
        if self.doc is not None and layer is self.doc.mask_layer and name == "opacity":
            self._overlay_opacity = float(layer.opacity)
        self._update_actions()

    def _layers_structure(self, *_args: Any) -> None:
        self._update_actions()

    def _update_actions(self) -> None:
        a = self.actions
        has_doc = self.doc is not None
        i = self._selected_result()
        n = len(self.doc.layers) if self.doc is not None else 0
        for act in (
            a.export_picture,
            a.export_mask,
            a.invert_mask,
            a.clear_mask,
            a.grow_mask,
            a.shrink_mask,
            a.feather_mask,
            a.load_mask,
            a.fit,
            a.zoom_100,
            a.zoom_in,
            a.zoom_out,
            a.show_overlay,
        ):
            act.setEnabled(has_doc)
        a.mask_from_alpha.setEnabled(has_doc and self.doc.photo.alpha is not None)  # type: ignore[union-attr]
        a.delete_layer.setEnabled(i is not None)
        a.merge_down.setEnabled(i is not None)
        a.move_up.setEnabled(i is not None and i + 1 <= n - 2)
        a.move_down.setEnabled(i is not None and i - 1 >= 1)
        a.flatten.setEnabled(has_doc and bool(self.doc.result_layers))  # type: ignore[union-attr]
        cur = self.layers.current_layer()
        a.rename_layer.setEnabled(cur is not None and "name" in cur.editable)

    # -- brush, memory --------------------------------------------------------------------------------

    def _brush_changed(self) -> None:
        b = self.brush
        for spin, value in (
            (self.size_spin, round(b.size)),
            (self.hardness_spin, round(b.hardness * 100)),
            (self.opacity_spin, round(b.opacity * 100)),
        ):
            if spin.value() != value:
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        (self.actions.eraser if b.erase else self.actions.brush).setChecked(True)
        self.status.set_brush(b)

    def _memory_changed(self, used: int, limit: int) -> None:
        self.status.set_memory(used, limit, self.history.dropped)

    def undo_limit_dialog(self) -> None:
        mib = self.ask_int(
            "Undo memory limit",
            "Memory kept for undo (MiB); the oldest steps are dropped beyond it:",
            self.history.limit_bytes >> 20,
            16,
            65536,
        )
        if mib:
            self.history.set_limit(mib << 20)
            self.settings.setValue("undo/limit_mib", mib)

    # -- help -----------------------------------------------------------------------------------------

    def shortcuts_dialog(self) -> None:
        from .help import ShortcutsDialog

        ShortcutsDialog(self.actions.all(), self).exec()

    def about_dialog(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b><br>Stable Diffusion inpainting on your own machine, "
            "with a classical fill engine that needs no model.",
        )
