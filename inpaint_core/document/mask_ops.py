"""Mask operations of the document (a mixin of :class:`~inpaint_core.document.Document`).

Each works on the mask's bounding box (padded by the operation's reach), not the whole image, and
returns an :class:`ArrayPatch` with the changed box's old and new values (None when nothing changed).
"""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING

import numpy as np

from .. import masks
from ..errors import MaskError
from ..masks import BBox
from .edits import ArrayPatch, InvertMask, Tile

if TYPE_CHECKING:
    from .layers import PhotoLayer


def diff_box(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int, int] | None:
    """(row0, row1, col0, col1) of the pixels where ``a`` and ``b`` differ, or None."""
    diff = a != b
    if diff.ndim == 3:
        diff = diff.any(axis=2)
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(diff.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


class MaskOpsMixin:
    mask: np.ndarray
    photo: PhotoLayer
    width: int
    height: int
    size: tuple[int, int]
    full_box: BBox

    # -- mask operations ------------------------------------------------------------------------

    def _patch_mask(self, box: BBox, new: np.ndarray, label: str) -> ArrayPatch | None:
        old = self.mask[box.slices]
        d = diff_box(old, new)
        if d is None:
            return None
        r0, r1, c0, c1 = d
        sub = BBox(box.x0 + c0, box.y0 + r0, box.x0 + c1, box.y0 + r1)
        tile = Tile(sub, old[r0:r1, c0:c1].copy(), np.array(new[r0:r1, c0:c1], np.uint8))
        patch = ArrayPatch("mask", [tile], label)
        patch.apply(self, undo=False)
        return patch

    def set_mask(self, mask: np.ndarray, label: str = "Set mask") -> ArrayPatch | None:
        """Replace the mask (HxW uint8, same size as the photo)."""
        mask = np.asarray(mask)
        if mask.shape != self.mask.shape:
            mh, mw = mask.shape[:2]
            raise MaskError(
                f"mask size {mw}x{mh} does not match the photo size {self.width}x{self.height}"
            )
        return self._patch_mask(self.full_box, mask.astype(np.uint8, copy=False), label)

    def clear_mask(self) -> ArrayPatch | None:
        b = masks.bbox(self.mask)
        if b is None:
            return None
        return self._patch_mask(b, np.zeros((b.height, b.width), np.uint8), "Clear mask")

    def invert_mask(self) -> InvertMask:
        edit = InvertMask()
        edit.apply(self, undo=False)
        return edit

    def grow_mask(self, pixels: int) -> ArrayPatch | None:
        """Dilate by ``pixels`` (negative shrinks); works on the mask's box, not the whole image."""
        pixels = int(pixels)
        if pixels < 0:
            return self.shrink_mask(-pixels)
        b = masks.bbox(self.mask)
        if b is None or pixels == 0:
            return None
        box = b.pad(pixels + 1, self.width, self.height)
        return self._patch_mask(
            box, masks.grow(self.mask[box.slices], pixels), f"Grow mask {pixels} px"
        )

    def shrink_mask(self, pixels: int) -> ArrayPatch | None:
        pixels = int(pixels)
        if pixels < 0:
            return self.grow_mask(-pixels)
        b = masks.bbox(self.mask)
        if b is None or pixels == 0:
            return None
        box = b.pad(1, self.width, self.height)
        return self._patch_mask(
            box, masks.shrink(self.mask[box.slices], pixels), f"Shrink mask {pixels} px"
        )

    def feather_mask(self, pixels: int) -> ArrayPatch | None:
        pixels = int(pixels)
        b = masks.bbox(self.mask)
        if b is None or pixels <= 0:
            return None
        reach = int(np.ceil(3 * pixels / 2.0)) + 2
        box = b.pad(reach, self.width, self.height)
        return self._patch_mask(
            box, masks.feather(self.mask[box.slices], pixels), f"Feather mask {pixels} px"
        )

    def load_mask(
        self, source: str | PathLike[str] | bytes, *, resize: bool = False, channel: str = "auto"
    ) -> ArrayPatch | None:
        """Load a mask file; a size other than the photo's is a :class:`MaskError` unless ``resize``."""
        from ..imaging import load_mask

        mask = load_mask(source, self.size, resize=resize, channel=channel)
        return self.set_mask(mask, "Load mask")

    def mask_from_transparency(self) -> ArrayPatch | None:
        """Mask = the photo's transparent pixels (fully transparent = fill)."""
        if self.photo.alpha is None:
            raise MaskError("the photo has no transparency (alpha channel) to make a mask from")
        mask = masks.mask_from_image(alpha=self.photo.alpha, source="alpha")
        return self.set_mask(mask, "Mask from transparency")
