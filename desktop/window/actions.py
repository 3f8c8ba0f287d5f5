"""Every command of the window as a QAction (one place for texts, shortcuts and icons), and the menus
and toolbar built from them. Shortcuts follow Photoshop/Krita habits (see FIELD_NOTES)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QSpinBox, QToolBar, QWidget

from desktop.icons import icon

if TYPE_CHECKING:
    from desktop.window.main_window import MainWindow


class Actions:
    """Attributes are the window's QActions; ``all()`` lists them (the shortcuts dialog uses it)."""

    def __init__(self, w: MainWindow) -> None:
        self._w = w
        self._list: list[QAction] = []
        a = self._make
        # File
        self.open = a("&Open…", "open", "Ctrl+O", w.opener.open_dialog, "Open a photo")
        self.open_url = a(
            "Open &URL…",
            None,
            "Ctrl+Shift+O",
            w.opener.open_url_dialog,
            "Open a photo from a web address",
        )
        self.open_sample = a("Open &Sample Photo", "sample", None, w.opener.open_sample)
        self.save = a(
            "&Save",
            None,
            "Ctrl+S",
            w.save_project,
            "Save the project (.ora: photo, mask, layers, candidates)",
        )
        self.save_as = a(
            "Save &As…", None, "Ctrl+Shift+S", w.save_project_as, "Save the project as a new file"
        )
        self.export_picture = a(
            "&Export Picture…",
            "export",
            "Ctrl+Alt+E",
            w.exporter.export_picture_dialog,
            "Export the flattened picture as PNG, JPEG or WebP",
        )
        self.export_mask = a(
            "Export &Mask…",
            None,
            "Ctrl+Alt+S",
            w.exporter.export_mask_dialog,
            "Export the mask as a PNG",
        )
        self.quit = a("&Quit", None, "Ctrl+Q", w.close)
        # Edit
        self.undo = w.history.stack.createUndoAction(w, "&Undo")
        self.undo.setShortcuts([QKeySequence("Ctrl+Z")])
        self.undo.setIcon(icon("undo"))
        self.redo = w.history.stack.createRedoAction(w, "&Redo")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo.setIcon(icon("redo"))
        self._list += [self.undo, self.redo]
        self.paste = a(
            "&Paste Image",
            "paste",
            "Ctrl+V",
            w.opener.paste,
            "Open the image (or file, or link) on the clipboard",
        )
        self.undo_limit = a("Undo &Memory Limit…", None, None, w.undo_limit_dialog)
        # View
        self.zoom_in = a("Zoom &In", None, ["Ctrl++", "Ctrl+="], w.canvas.zoom_in)
        self.zoom_out = a("Zoom &Out", None, "Ctrl+-", w.canvas.zoom_out)
        self.fit = a("&Fit to Window", "fit", "Ctrl+0", w.canvas.fit, "Show the whole photo")
        self.zoom_100 = a(
            "&Actual Pixels (100 %)",
            "zoom100",
            "Ctrl+1",
            w.canvas.zoom_100,
            "One photo pixel per screen pixel",
        )
        self.show_overlay = a(
            "Show &Mask Overlay", "overlay", "H", None, "Show or hide the mask overlay"
        )
        self.show_overlay.setCheckable(True)
        self.show_overlay.setChecked(True)
        self.show_overlay.toggled.connect(w.set_overlay_visible)
        self.overlay_colour = a("Mask Overlay &Colour…", None, None, w.overlay_colour_dialog)
        # Tools
        self.brush = a("&Brush", "brush", "B", lambda: w.brush.set_erase(False), "Paint the mask")
        self.eraser = a("&Eraser", "eraser", "E", lambda: w.brush.set_erase(True), "Erase the mask")
        #: the canvas tools, one checked at a time (click tools such as Smart mask join it)
        self.tools = QActionGroup(w)
        for act in (self.brush, self.eraser):
            act.setCheckable(True)
            self.tools.addAction(act)
        self.brush.setChecked(True)
        self.swap = a("S&wap Paint/Erase", "swap", "X", w.brush.swap, "Swap brush and eraser")
        self.bigger = a("B&igger Brush", None, "]", w.brush.bigger)
        self.smaller = a("S&maller Brush", None, "[", w.brush.smaller)
        self.harder = a(
            "&Harder Brush",
            None,
            ["Shift+]", "}"],
            lambda: w.brush.set_hardness(w.brush.hardness + 0.1),
        )
        self.softer = a(
            "&Softer Brush",
            None,
            ["Shift+[", "{"],
            lambda: w.brush.set_hardness(w.brush.hardness - 0.1),
        )
        # Mask
        self.invert_mask = a(
            "&Invert", "invert", "Ctrl+Shift+I", w.edits.invert_mask, "Invert the mask"
        )
        self.clear_mask = a("&Clear", "clear", "Ctrl+D", w.edits.clear_mask, "Clear the mask")
        self.grow_mask = a(
            "&Grow…", "grow", "Ctrl+Alt+G", w.edits.grow_mask, "Grow the mask by some pixels"
        )
        self.shrink_mask = a(
            "&Shrink…",
            "shrink",
            "Ctrl+Alt+H",
            w.edits.shrink_mask,
            "Shrink the mask by some pixels",
        )
        self.feather_mask = a(
            "&Feather…", "feather", "Shift+F6", w.edits.feather_mask, "Soften the mask's edge"
        )
        self.load_mask = a(
            "&Load Mask…", None, "Ctrl+Shift+M", w.edits.load_mask_dialog, "Load a mask image"
        )
        self.mask_from_alpha = a(
            "Mask from Photo's &Transparency", None, None, w.edits.mask_from_transparency
        )
        # Layer
        self.rename_layer = a("&Rename…", None, "F2", w.edits.rename_layer)
        self.delete_layer = a(
            "&Delete", "delete", "Ctrl+Backspace", w.edits.delete_layer, "Delete the selected layer"
        )
        self.move_up = a(
            "Move &Up", "up", "Ctrl+]", lambda: w.edits.move_layer(+1), "Move the layer up"
        )
        self.move_down = a(
            "Move Dow&n", "down", "Ctrl+[", lambda: w.edits.move_layer(-1), "Move the layer down"
        )
        self.merge_down = a(
            "&Merge Down",
            "merge",
            "Ctrl+E",
            w.edits.merge_down,
            "Merge the layer into the one below",
        )
        self.flatten = a(
            "&Flatten",
            "flatten",
            "Ctrl+Shift+E",
            w.edits.flatten,
            "Bake every visible layer into the photo",
        )
        self.import_layer = a(
            "&Import Image as Layer…",
            None,
            None,
            w.import_layer_dialog,
            "Put a picture on a new layer",
        )
        self.export_layers = a(
            "E&xport Layers as PNG…",
            None,
            None,
            w.export_layers_dialog,
            "Write every layer as its own PNG",
        )
        # Help
        self.shortcuts = a("&Keyboard Shortcuts", None, "F1", w.shortcuts_dialog)
        self.about = a("&About Inpaint Studio", None, None, w.about_dialog)

    def _make(self, text, icon_name, shortcut, slot, tip: str | None = None) -> QAction:
        act = QAction(text, self._w)
        if icon_name:
            act.setIcon(icon(icon_name))
        if shortcut:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            act.setShortcuts([QKeySequence(k) for k in keys])
        if tip:
            keys_text = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            act.setToolTip(f"{tip} ({keys_text})" if keys_text and "(" not in tip else tip)
            act.setStatusTip(tip)
        if slot is not None:
            act.triggered.connect(lambda _checked=False, s=slot: s())
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._w.addAction(act)  # shortcuts work even with the menu bar hidden
        self._list.append(act)
        return act

    def all(self) -> list[QAction]:
        return list(self._list)


def build_menus(w: MainWindow, acts: Actions) -> None:
    mb = w.menuBar()
    m = mb.addMenu("&File")
    m.addActions([acts.open, acts.open_url])
    w.recent_menu = m.addMenu("Open &Recent")
    w.recent_menu.setObjectName("recentMenu")
    w.recent_menu.aboutToShow.connect(lambda: w.opener.rebuild_recent_menu(w.recent_menu))
    m.addAction(acts.open_sample)
    m.addSeparator()
    m.addActions([acts.save, acts.save_as])
    m.addSeparator()
    m.addActions([acts.export_picture, acts.export_mask])
    m.addSeparator()
    m.addAction(acts.quit)

    m = mb.addMenu("&Edit")
    m.addActions([acts.undo, acts.redo])
    m.addSeparator()
    m.addAction(acts.paste)
    m.addSeparator()
    m.addAction(acts.undo_limit)

    m = mb.addMenu("&View")
    m.addActions([acts.zoom_in, acts.zoom_out, acts.fit, acts.zoom_100])
    m.addSeparator()
    m.addActions([acts.show_overlay, acts.overlay_colour])
    m.addSeparator()
    w.panels_menu = m.addMenu("&Panels")

    m = mb.addMenu("&Tools")
    m.addActions([acts.brush, acts.eraser, acts.swap])
    m.addSeparator()
    m.addActions([acts.bigger, acts.smaller, acts.harder, acts.softer])

    m = w.mask_menu = mb.addMenu("&Mask")
    m.addActions([acts.invert_mask, acts.clear_mask])
    m.addSeparator()
    m.addActions([acts.grow_mask, acts.shrink_mask, acts.feather_mask])
    m.addSeparator()
    m.addActions([acts.load_mask, acts.mask_from_alpha])

    m = mb.addMenu("&Layer")
    m.addActions([acts.rename_layer, acts.move_up, acts.move_down])
    m.addSeparator()
    m.addActions([acts.merge_down, acts.flatten])
    m.addSeparator()
    m.addActions([acts.import_layer, acts.export_layers])
    m.addSeparator()
    m.addAction(acts.delete_layer)

    w.generate_menu = mb.addMenu("&Generate")  # filled by the generation and compare features
    w.generate_menu.setObjectName("generateMenu")

    m = mb.addMenu("&Help")
    m.addActions([acts.shortcuts, acts.about])


def _spin(suffix: str, lo: int, hi: int, tip: str, name: str) -> QSpinBox:
    s = QSpinBox()
    s.setObjectName(name)
    s.setRange(lo, hi)
    s.setSuffix(suffix)
    s.setToolTip(tip)
    s.setKeyboardTracking(False)
    s.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    return s


def build_toolbar(w: MainWindow, acts: Actions) -> QToolBar:
    tb = QToolBar("Tools")
    tb.setObjectName("mainToolBar")
    tb.setIconSize(QSize(24, 24))
    tb.setMovable(False)
    tb.addActions([acts.open, acts.export_picture])
    tb.addSeparator()
    tb.addActions([acts.undo, acts.redo])
    tb.addSeparator()
    tb.addActions([acts.brush, acts.eraser, acts.swap])
    tb.addSeparator()

    def labelled(text: str, widget: QWidget) -> None:
        lab = QLabel(text)
        lab.setContentsMargins(8, 0, 4, 0)
        tb.addWidget(lab)
        tb.addWidget(widget)

    w.size_spin = _spin(" px", 1, 2000, "Brush size in photo pixels ( [ and ] )", "brushSize")
    w.hardness_spin = _spin(" %", 0, 100, "Brush hardness (Shift+[ and Shift+])", "brushHardness")
    w.opacity_spin = _spin(" %", 1, 100, "Brush opacity", "brushOpacity")
    labelled("Size", w.size_spin)
    labelled("Hardness", w.hardness_spin)
    labelled("Opacity", w.opacity_spin)
    tb.addSeparator()
    tb.addActions([acts.show_overlay, acts.invert_mask, acts.clear_mask])
    tb.addSeparator()
    tb.addActions([acts.fit, acts.zoom_100])
    w.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
    return tb
