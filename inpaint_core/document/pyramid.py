"""Level-of-detail copies (1/2, 1/4, ...) of an image, kept up to date box by box.

A canvas zoomed out to fit an 8K photo draws from the level nearest its zoom, which looks smooth
(each level is a 2x2 area average) and costs the same as drawing a small photo. After a stroke only
the stroke's box is recomputed on each level.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..masks import BBox


def _half(src: np.ndarray) -> np.ndarray:
    """2x2 area average of an even-sized crop (the same maths for full builds and box updates)."""
    h, w = src.shape[:2]
    return cv2.resize(src, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


class Pyramid:
    """``levels[0]`` is the base array itself (no copy); ``levels[k]`` is ``1/2**k`` of it."""

    def __init__(self, base: np.ndarray, min_size: int = 256) -> None:
        self.min_size = min_size
        self.levels: list[np.ndarray] = [base]
        self._build()

    def _build(self) -> None:
        base = self.levels[0]
        self.levels = [base]
        while (
            max(self.levels[-1].shape[:2]) > self.min_size and min(self.levels[-1].shape[:2]) >= 4
        ):
            cur = self.levels[-1]
            h, w = cur.shape[:2]
            self.levels.append(np.ascontiguousarray(_half(cur[: h // 2 * 2, : w // 2 * 2])))

    @property
    def base(self) -> np.ndarray:
        return self.levels[0]

    def rebase(self, base: np.ndarray, box: BBox | None = None) -> None:
        """Point level 0 at a new array. Same shape: the other levels are kept and only ``box``
        (if given) is recomputed — the caller updates the boxes that differ. New shape: rebuild."""
        if base.shape != self.levels[0].shape:
            self.levels = [base]
            self._build()
            return
        self.levels[0] = base
        if box is not None:
            self.update(box)

    def level_for(self, zoom: float) -> int:
        """The coarsest level that still has at least one pixel per screen pixel at ``zoom``."""
        if zoom >= 1.0:
            return 0
        return max(0, min(len(self.levels) - 1, int(math.floor(math.log2(1.0 / zoom) + 1e-9))))

    def scale(self, level: int) -> float:
        """Size of ``levels[level]`` relative to the base (exactly 1/2**level, up to edge rounding)."""
        return 1.0 / (1 << level)

    def update(self, box: BBox) -> None:
        """Recompute every level under ``box`` (base coordinates) after the base changed there."""
        x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
        for k in range(1, len(self.levels)):
            src = self.levels[k - 1]
            dst = self.levels[k]
            h, w = dst.shape[:2]
            x0, y0 = x0 // 2, y0 // 2
            x1, y1 = min(w, (x1 + 1) // 2), min(h, (y1 + 1) // 2)
            if x0 >= x1 or y0 >= y1:
                return
            dst[y0:y1, x0:x1] = _half(src[2 * y0 : 2 * y1, 2 * x0 : 2 * x1])
