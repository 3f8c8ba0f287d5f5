"""The main window's editing commands: mask operations and layer operations.

:class:`EditCommands`, made by :class:`desktop.window.main_window.MainWindow`: each command calls
the document, and the edit it returns goes on the history as one undo step (``apply`` /
``push_edit``, the window's).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QWidget

from desktop import file_dialogs
from desktop.layers.panel import LayersPanel
from desktop.settings import read
from desktop.window.io import IMAGE_FILTER, LOAD_ERRORS
from inpaint_core import masks
from inpaint_core.document import Document, Edit, ResultLayer
from inpaint_core.imaging import load_mask
from inpaint_core.masks import BBox

Apply = Callable[[Callable[[Document], Edit | None], str], Edit | None]


class EditCommands:
    """Image ▸ Mask and Layer menu commands.

    ``document``: the open document; ``apply(fn, nothing)``: run ``fn`` on the document and put
    its edit on the history (``nothing``: the status message when there was nothing to do);
    ``push_edit``: put an edit made here on the history; ``layers``: the Layers panel (selection);
    ``ask_int``, ``confirm``, ``show_error``: the window's questions and messages.
    """

    def __init__(
        self,
        parent: QWidget,
        settings: QSettings,
        document: Callable[[], Document | None],
        apply: Apply,
        push_edit: Callable[[Edit | None], None],
        layers: LayersPanel,
        ask_int: Callable[[str, str, int, int, int], int | None],
        confirm: Callable[[str, str], bool],
        show_error: Callable[[str], None],
    ) -> None:
        self._parent, self.settings, self._document = parent, settings, document
        self._apply_fn, self.push_edit, self.layers = apply, push_edit, layers
        self.ask_int, self.confirm, self.show_error = ask_int, confirm, show_error

    @property
    def doc(self) -> Document | None:
        return self._document()

    def _apply(self, fn: Callable[[Document], Edit | None], nothing: str = "") -> Edit | None:
        return self._apply_fn(fn, nothing)

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
        path = file_dialogs.open_file(
            self._parent, self.settings, "open", "Load mask", IMAGE_FILTER
        )
        if path:
            self.load_mask(path)

    def mask_from_transparency(self) -> None:
        self._apply(lambda d: d.mask_from_transparency())

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
        """Apply a result as a new layer (one undo step) and select it."""
        edit = self._apply(lambda d: d.add_result_layer(rgb, box, name, alpha=alpha, info=info))
        if edit is None or self.doc is None:
            return None
        layer = edit.layer  # type: ignore[attr-defined]
        self.layers.select_layer(self.doc.layers.index_of(layer))
        return layer

    def selected_result(self) -> int | None:
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
        i = self.selected_result()
        if i is not None:
            self._apply(lambda d: d.remove_layer(i))

    def move_layer(self, step: int) -> None:
        i = self.selected_result()
        if i is None or self.doc is None:
            return
        dst = i + step
        if not 1 <= dst <= len(self.doc.layers) - 2:
            return
        layer = self.doc.layers[i]
        self._apply(lambda d: d.move_layer(i, dst))
        self.layers.select_layer(self.doc.layers.index_of(layer))

    def merge_down(self) -> None:
        i = self.selected_result()
        if i is not None:
            self._apply(lambda d: d.merge_down(i))
            self.layers.select_layer(max(0, i - 1))

    def flatten(self) -> None:
        self._apply(lambda d: d.flatten_layers(), "There are no layers to flatten.")
