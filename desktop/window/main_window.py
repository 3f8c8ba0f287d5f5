"""The studio's main window: canvas in the middle, Layers/History/Parameters/Candidates docks,
menus, toolbar, status bar, assembled in one fixed order in :meth:`MainWindow.__init__`. Thin:
every change to the picture is a call into :class:`inpaint_core.document.Document`, whose returned
edit goes on the undo history (one command type: :class:`desktop.undo.EditCommand`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QColorDialog,
    QDockWidget,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from desktop import file_dialogs
from desktop.canvas.brush import BrushSettings
from desktop.canvas.canvas import Canvas
from desktop.compare.action import CompareLauncher
from desktop.generation.host import DocumentHost
from desktop.generation.install import install as install_generation
from desktop.icons import app_icon, icon
from desktop.layers.panel import LayersPanel
from desktop.models.install import ModelsMenu
from desktop.settings import open_settings, read
from desktop.undo import DEFAULT_LIMIT, History
from desktop.widgets import Banner
from desktop.window.actions import Actions, build_menus, build_toolbar
from desktop.window.autosave import AutosaveService
from desktop.window.creative import install_creative
from desktop.window.edits import EditCommands
from desktop.window.help import ShortcutsDialog
from desktop.window.io import IMAGE_FILTER, LOAD_ERRORS, Exporter, Opener
from desktop.window.loader import PhotoLoader
from desktop.window.projects import PROJECT_FILTER, ProjectSaver, document_title
from desktop.window.recovery import RecoverDialog
from desktop.window.status import StatusBar
from desktop.window.unsaved import UnsavedWork
from inpaint_core.autosave import Recoverable
from inpaint_core.candidates import Candidate
from inpaint_core.document import Document, Edit, export_layers, import_layer
from inpaint_core.errors import InpaintError

__all__ = ["APP_NAME", "IMAGE_FILTER", "LOAD_ERRORS", "MainWindow"]

APP_NAME = "Inpaint Studio"


class MainWindow(QMainWindow):
    document_changed = Signal(object)

    def __init__(
        self, settings: QSettings | None = None, autosave: AutosaveService | None = None
    ) -> None:
        """``autosave``: the app's one autosave (a window made alone, e.g. in a test, makes its
        own and ends it when it closes)."""
        super().__init__()
        self.settings = settings if settings is not None else open_settings()
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self.doc: Document | None = None
        self.project_path: Path | None = None  # where File ▸ Save writes the open document
        self._owns_autosave = autosave is None
        self.other_windows: list[MainWindow] = []  # more restored documents (see offer_recovery)
        self.autosave = autosave if autosave is not None else AutosaveService(parent=self)

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

        # 1. docks of the picture  2. status bar  3. the window's parts: project saving, unsaved
        # work, opening, export, edit commands  4. actions, menus, toolbar  5. generation
        # (Parameters + Candidates docks, the Generate menu, status fields)  6. compare  7. the
        # docks' arrangement, then the saved layout over it  8. signals
        self._build_docks()
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.saver = ProjectSaver(  # File ▸ Save / Save As (.ora), written off the GUI thread
            self,
            lambda: self.doc,
            lambda: self.generation.model.candidates,
            self.history.stack,
            self.autosave,
            self.status,
        )
        self.loader = PhotoLoader(self)  # photos load on a background thread
        self.unsaved = UnsavedWork(  # Save / Discard / Cancel before close or open
            self,
            lambda: self.doc,
            self.history.stack,
            self.canvas,
            self.loader,
            self.saver,
            lambda: self.project_path,
            lambda title: self.ask_project_path(title),  # tests replace ask_project_path
        )
        self.opener = Opener(
            self,
            self.settings,
            self.loader,
            self.status,
            self.banner,
            self.history.stack,
            self.canvas,
            self.unsaved.settle,
            self.set_document,
            self.show_error,
        )
        self.exporter = Exporter(
            self, self.settings, lambda: self.doc, self.canvas, self.status, self.show_error
        )
        self.edits = EditCommands(
            self,
            self.settings,
            lambda: self.doc,
            self._apply,
            self.push_edit,
            self.layers,
            self.ask_int,
            lambda title, text: self.confirm(title, text),  # tests replace confirm
            self.show_error,
        )
        self.actions = Actions(self)
        build_menus(self, self.actions)
        self.toolbar = build_toolbar(self, self.actions)
        self._build_layer_buttons()
        host = DocumentHost(
            lambda: self.doc, self.push_edit, self.canvas.set_overlay, self._select_layer
        )
        self.generation = install_generation(
            self,
            host,
            settings=self.settings,
            menu=self.generate_menu,
            document_changed=self.document_changed,
        )
        self.compare = CompareLauncher(  # "Compare side by side…" (Ctrl+Shift+C)
            self,
            self.generation.model,
            self.generation.bridge,
            lambda: self.doc,
            host.keep,  # a kept cell: a result layer, one undo step, like a kept candidate
            self.show_error,
            self.generate_menu,
            settings=self.settings,
        )
        # Models ▸ Manage models… (a download or removal rescans the model picker)
        self.models = ModelsMenu(
            self, self.generation.rescan_models, before=self.generate_menu.menuAction()
        )
        self.creative = install_creative(self)  # Image ▸ Extend canvas…, live preview, smart masks
        self._arrange_docks()
        for dock in self.docks.values():
            self.panels_menu.addAction(dock.toggleViewAction())

        self.canvas.stroke_finished.connect(self.push_edit)
        self.canvas.stroke_active_changed.connect(self._stroke_active)
        self.canvas.zoom_changed.connect(self.status.set_zoom)
        self.canvas.cursor_moved.connect(self.status.set_cursor)
        self.history.memory_changed.connect(self._memory_changed)
        self.history.stack.cleanChanged.connect(self._clean_changed)
        self.autosave.autosave_failed.connect(self._autosave_failed)
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
        self.undo_view.setUniformItemSizes(True)
        self.undo_view.setSpacing(2)
        self._dock("History", "historyDock", self.undo_view, right)

    def _arrange_docks(self) -> None:
        """Layers and Parameters share the right side (Parameters in front: generating is what
        the window is for), History under them, Candidates at the bottom once there are some."""
        for name in ("parametersDock", "candidatesDock"):
            self.docks[name] = self.findChild(QDockWidget, name)
        self.tabifyDockWidget(self.docks["layersDock"], self.docks["parametersDock"])
        self.docks["parametersDock"].raise_()
        self.docks["candidatesDock"].hide()
        self.resizeDocks([self.docks["layersDock"]], [300], Qt.Orientation.Horizontal)
        self.resizeDocks(
            [self.docks["layersDock"], self.docks["historyDock"]],
            [640, 170],
            Qt.Orientation.Vertical,
        )

    def _select_layer(self, layer: object) -> None:
        if self.doc is not None:
            self.layers.select_layer(self.doc.layers.index_of(layer))

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
        if not self.unsaved.close_allowed():  # unsaved changes: Save / Discard / Cancel
            event.ignore()
            return
        self.save_settings()
        if self.doc is not None:  # its changes were saved or discarded: no autosave to keep
            self.autosave.autosaver.forget(self.doc)
        if self._owns_autosave:
            self.autosave.close(clean=True)
        super().closeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        self.unsaved.guard(self.windowHandle())  # asks before a close request reaches the widget
        super().showEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        event.acceptProposedAction()
        self.opener.open_mime(event.mimeData(), "drop")

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

    def set_document(
        self,
        doc: Document,
        *,
        candidates: Iterable[Candidate] = (),
        saved_path: str | Path | None = None,
        unsaved: bool = False,
    ) -> None:
        """Show ``doc`` (the old document is closed: its autosave goes). ``candidates``: its
        candidate history (a project's); ``saved_path``: where File ▸ Save writes it;
        ``unsaved``: it starts with unsaved changes (a restored autosave)."""
        if self.doc is not None and self.doc is not doc:
            self.autosave.autosaver.forget(self.doc)
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
        self.canvas.setFocus()
        self._update_actions()
        self.document_changed.emit(doc)  # the generation model starts an empty history
        history = self.generation.model.candidates
        for cand in candidates:
            cand.document = doc
            history.append(cand)
        self.project_path = Path(saved_path) if saved_path else None
        title = document_title(doc, self.project_path)
        self.setWindowTitle(f"{title}[*] — {APP_NAME}")  # [*]: "*" while there are changes
        if unsaved:
            self.history.stack.resetClean()
        self.setWindowModified(unsaved)
        self.autosave.autosaver.watch(  # its name: what the Recover dialog lists
            doc, history, name=title, saved_path=saved_path, dirty=unsaved
        )

    # -- the mask overlay (a view setting of the window, not an edit) ---------------------------------

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

    # -- the actions' state ---------------------------------------------------------------------------

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
        i = self.edits.selected_result()
        n = len(self.doc.layers) if self.doc is not None else 0
        for act in (
            a.save,
            a.save_as,
            a.import_layer,
            a.export_layers,
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

    # -- projects: save, autosave, recovery, layer files -----------------------------------------------

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)
        if clean and self.doc is not None:  # saved (or undone back to the saved state)
            self.autosave.autosaver.mark_saved(self.doc, self.project_path)

    def _autosave_failed(self, doc: object, exc: object) -> None:
        if doc is self.doc:
            self.status.showMessage(f"Autosave failed: {exc}", 10000)

    def ask_project_path(self, title: str = "Save project") -> Path | None:
        """Where to save the project (a file dialog; tests replace it)."""
        stem = Path(self.doc.photo.name).stem if self.doc is not None else "project"
        path, _ = file_dialogs.save_file(
            self, self.settings, "project", title, f"{stem}.ora", PROJECT_FILTER
        )
        if not path:
            return None
        return Path(path) if path.lower().endswith(".ora") else Path(path + ".ora")

    def save_project(self, path: str | Path | None = None, *, wait: bool = False) -> bool:
        """File ▸ Save: the project where it was last saved (Save As when nowhere yet)."""
        if self.doc is None:
            return False
        self.canvas.finish_stroke()  # a stroke in progress is part of the work
        target = path or self.project_path or self.ask_project_path()
        if target is None:
            return False
        if not self.saver.save(target, wait=wait):
            return False
        self.project_path = Path(target)
        title = document_title(self.doc, self.project_path)
        self.setWindowTitle(f"{title}[*] — {APP_NAME}")
        self.autosave.autosaver.rename(self.doc, title)
        return True

    def save_project_as(self) -> bool:
        """File ▸ Save As: ask where, then save there."""
        path = self.ask_project_path("Save project as") if self.doc is not None else None
        return path is not None and self.save_project(path)

    def restore_recovered(self, item: Recoverable) -> bool:
        """Open an autosave of a crashed session as a new, unsaved document (File ▸ Save writes
        it where the user had saved it, if anywhere); the old autosave goes once this session's
        own autosave of it is written."""
        try:
            project = item.load()
        except LOAD_ERRORS as exc:
            self.show_error(f"Could not restore {item.name}: {exc}")
            return False
        doc = project.document  # its photo keeps its name; the title comes from the saved path
        self.set_document(
            doc, candidates=project.candidates, saved_path=item.saved_path, unsaved=True
        )
        self.autosave.autosaver.save_now(doc).add_done_callback(lambda _f: item.discard())
        self.status.showMessage(
            f"Restored {document_title(doc, self.project_path)} (unsaved)", 8000
        )
        return True

    def offer_recovery(self, ask: Callable[[RecoverDialog], object] | None = None) -> int:
        """At start: what crashed sessions left, in the Recover dialog; restores what the user
        chooses, each as its own unsaved document: the first in this window (unless it holds
        unsaved work), the others in new windows sharing this autosave. Returns how many were
        restored. ``ask(dialog)``: runs the dialog (default ``exec``; tests answer it)."""
        items = self.autosave.recoverable()
        if not items:
            return 0
        dialog = RecoverDialog(items, self)
        (ask or RecoverDialog.exec)(dialog)
        restored = 0
        for item in dialog.restore:
            here = restored == 0 and not self.unsaved.has_changes()
            restored += (self if here else self.new_window()).restore_recovered(item)
        return restored

    def new_window(self) -> MainWindow:
        """Another studio window (same settings, same autosave), shown; kept alive by this one."""
        window = MainWindow(self.settings, self.autosave)
        window.resize(self.size())
        window.show()
        self.other_windows.append(window)
        return window

    def import_layer_dialog(self) -> None:
        path = file_dialogs.open_file(
            self, self.settings, "open", "Import image as layer", IMAGE_FILTER
        )
        if path:
            self.import_layer_file(path)

    def import_layer_file(self, path: str | Path) -> bool:
        """Layer ▸ Import Image as Layer: a new layer under the mask, at the top-left (one step)."""
        return self._apply(lambda doc: import_layer(doc, path)) is not None

    def export_layers_dialog(self) -> None:
        if self.doc is None:
            return
        folder = file_dialogs.choose_folder(
            self, self.settings, "export", "Export layers as PNG into"
        )
        if folder:
            self.export_layers_to(folder)

    def export_layers_to(self, folder: str | Path) -> list[Path]:
        """Layer ▸ Export Layers as PNG: every layer as ``NN-name.png`` in ``folder``."""
        if self.doc is None:
            return []
        self.canvas.finish_stroke()
        try:
            out = export_layers(self.doc, folder)
        except (InpaintError, ValueError, OSError) as exc:
            self.show_error(f"Could not export the layers: {exc}")
            return []
        self.status.showMessage(f"Exported {len(out)} layers to {folder}", 6000)
        return out

    @property
    def document(self) -> Document | None:
        return self.doc

    @property
    def undo_stack(self):
        """The QUndoStack (edits pushed here directly count against the undo memory limit too)."""
        return self.history.stack

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

    # -- brush, memory --------------------------------------------------------------------------------

    def select_paint_tool(self) -> None:
        """Check the brush or the eraser (as the brush is set): the canvas paints again."""
        (self.actions.eraser if self.brush.erase else self.actions.brush).setChecked(True)

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
        paint = (self.actions.brush, self.actions.eraser)
        if self.actions.tools.checkedAction() in (*paint, None):  # a click tool stays the tool
            self.select_paint_tool()
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
        ShortcutsDialog(self.shortcut_actions(), self).exec()

    def shortcut_actions(self) -> list[QAction]:
        """Every action of the window and its features that has a shortcut (the features create
        their own actions: generation, compare, outpaint, live preview, smart mask), once each."""
        seen: set[tuple[str, str]] = set()
        out: list[QAction] = []
        for action in [*self.actions.all(), *self.findChildren(QAction)]:
            keys = ", ".join(k.toString() for k in action.shortcuts())
            key = (action.text(), keys)
            if keys and key not in seen:
                seen.add(key)
                out.append(action)
        return out

    def about_dialog(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b><br>Stable Diffusion inpainting on your own machine, "
            "with a classical fill engine that needs no model.",
        )
