"""The main window's editing commands: mask operations, overlay settings, layer operations.

A mixin of :class:`desktop.main_window.MainWindow`: each command calls the document, and the edit
it returns goes on the history as one undo step (``self._apply``/``self.push_edit``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QFileDialog

from desktop.settings import read
from desktop.window.io import IMAGE_FILTER, LOAD_ERRORS
from inpaint_core import masks
from inpaint_core.document import ResultLayer
from inpaint_core.imaging import load_mask
from inpaint_core.masks import BBox


class EditCommandsMixin:
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
        """Apply a result as a new layer (one undo step) and select it."""
        edit = self._apply(lambda d: d.add_result_layer(rgb, box, name, alpha=alpha, info=info))
        if edit is None or self.doc is None:
            return None
        layer = edit.layer  # type: ignore[attr-defined]
        self.layers.select_layer(self.doc.layers.index_of(layer))
        return layer

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
