"""The "Extend canvas…" action (Image menu and toolbar): outpainting, step one.

It grows the document (:meth:`inpaint_core.document.Document.resize_canvas`) in ONE undoable
step: the new area pre-filled (:func:`inpaint_core.outpaint.prepare_outpaint`: the photo's edge
stretched and blurred, or the classical fill) so the model sees plausible colours, and the mask
set to the new area plus the overlap band (what was masked before stays masked). Then the user
generates as usual; the normal region/compose path keeps every photo pixel beyond the overlap band
bit-identical.

:class:`CanvasExtender` gets what it needs from the window that assembles it: the open document,
"push an edit" (the undo history), the current request (its grow + feather decide how far the
paste reaches, so the smallest overlap) and a way to tell the user something.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMenu, QToolBar, QWidget

from desktop.icons import icon
from desktop.outpaint.dialog import ExtendCanvasDialog, ExtendChoice
from inpaint_core import compose
from inpaint_core.document import Document, Edit
from inpaint_core.errors import InpaintError
from inpaint_core.outpaint import prepare_outpaint
from inpaint_core.request import InpaintRequest

SHORTCUT = "Ctrl+Alt+C"  # Photoshop's Canvas Size


def min_overlap(request: InpaintRequest) -> int:
    """The smallest overlap the request allows: how far its grow + feather carry the paste."""
    if request.mask_grow == 0 and request.mask_feather == 0:
        return 0
    return compose.composite_margin(request.mask_grow, request.mask_feather)


class CanvasExtender(QObject):
    def __init__(
        self,
        window: QWidget,
        document: Callable[[], Document | None],
        push_edit: Callable[[Edit | None], None],
        request: Callable[[], InpaintRequest],
        tell: Callable[[str], None],
    ) -> None:
        super().__init__(window)
        self.window, self.document, self.push_edit = window, document, push_edit
        self.request, self.tell = request, tell
        self.action = QAction(icon("extend"), "E&xtend canvas…", window)
        self.action.setObjectName("extendCanvasAction")
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setToolTip(
            f"Outpaint: grow the picture on any side; the new area becomes the mask ({SHORTCUT})"
        )
        self.action.triggered.connect(lambda: self.extend())
        window.addAction(self.action)
        #: the dialog of the last :meth:`extend` (tests fill it in through ``ask``)
        self.ask: Callable[[ExtendCanvasDialog], bool] = lambda d: d.exec() == QDialog.Accepted

    def install(self, menu: QMenu, toolbar: QToolBar | None = None) -> None:
        menu.addAction(self.action)
        if toolbar is not None:
            toolbar.addAction(self.action)

    def extend(self, choice: ExtendChoice | None = None) -> Edit | None:
        """Ask (unless ``choice`` is given), then grow the document as one undo step."""
        doc = self.document()
        if doc is None:
            return None
        request = self.request()
        if choice is None:
            dialog = ExtendCanvasDialog(doc.size, min_overlap(request), self.window)
            if not self.ask(dialog):
                return None
            try:
                choice = dialog.choice()
            except InpaintError as exc:
                self.tell(str(exc))
                return None
        try:
            edit = self.apply(doc, choice, request)
        except (InpaintError, ValueError) as exc:
            self.tell(f"Could not extend the canvas: {exc}")
            return None
        self.push_edit(edit)
        return edit

    @staticmethod
    def apply(doc: Document, choice: ExtendChoice, request: InpaintRequest) -> Edit:
        """The grown canvas on ``doc`` (applied; returns the edit)."""
        canvas = prepare_outpaint(
            doc.display_rgb(),  # the pre-fill continues what the user sees (kept layers too)
            choice.extension,
            overlap=choice.overlap,
            request=request,
            prefill=choice.prefill,
            alpha=doc.photo.alpha,
        )
        box = canvas.photo_box
        rgb = canvas.image
        rgb[box.slices] = doc.photo.rgb  # the photo layer stays the photo (layers move over it)
        mask = canvas.mask
        mask[box.slices] = np.maximum(mask[box.slices], doc.mask)
        return doc.resize_canvas(rgb, mask, (box.x0, box.y0), alpha=canvas.alpha)
