"""Brush strokes on a mask: continuous (capsule) coverage between mouse positions, per-stroke
"wash" accumulation, and a tiled undo patch of only what the stroke touched.

How a stroke works (napari labels' ``_begin_stroke``/``_commit_stroke``, tiled):

* the first time a stroke touches a 64x64 tile, the tile's old mask values are saved into a scratch
  copy (``_old``); the scratch buffers are allocated with ``np.zeros`` per stroke and dropped at its
  end, so the operating system only backs the pages a stroke touches, and only while it lasts;
* each segment between two mouse positions is a capsule (a disc swept along the segment): the
  distance from every pixel in the segment's box to the segment gives a soft coverage, so a fast
  mouse never leaves dots, whatever the spacing of the events;
* coverage accumulates by ``max`` within one stroke (crossing your own stroke at 50 % opacity stays
  50 %), and the mask is recomputed from the *old* values: paint ``old + (255-old)*c``, erase
  ``old*(1-c)``;
* ``end`` crops each touched tile to the pixels that really changed and returns an
  :class:`~inpaint_core.document.edits.ArrayPatch` with their old and new values.

Every operation costs time proportional to the segment's box, never to the image.
"""

from __future__ import annotations

import math

import numpy as np

from ..masks import BBox
from .edits import ArrayPatch, Tile
from .layers import union

TILE = 64


def capsule_box(
    p0: tuple[float, float], p1: tuple[float, float], radius: float, width: int, height: int
) -> BBox | None:
    """Pixels a capsule of ``radius`` around segment p0-p1 can touch, clipped to the image."""
    reach = radius + 1.0
    x0 = max(0, int(math.floor(min(p0[0], p1[0]) - reach)))
    y0 = max(0, int(math.floor(min(p0[1], p1[1]) - reach)))
    x1 = min(width, int(math.ceil(max(p0[0], p1[0]) + reach)) + 1)
    y1 = min(height, int(math.ceil(max(p0[1], p1[1]) + reach)) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return BBox(x0, y0, x1, y1)


def capsule_alpha(
    box: BBox, p0: tuple[float, float], p1: tuple[float, float], radius: float, hardness: float
) -> np.ndarray:
    """Coverage in [0, 1] (float32, ``box``-shaped) of a soft capsule; pixel centres are at +0.5.

    Full coverage inside ``radius * hardness``, a smooth fall-off to zero at ``radius`` (+0.5 px of
    anti-aliasing, so a hard brush has a clean edge).
    """
    xs = np.arange(box.x0, box.x1, dtype=np.float32) + np.float32(0.5 - p0[0])
    ys = np.arange(box.y0, box.y1, dtype=np.float32) + np.float32(0.5 - p0[1])
    px = xs[None, :]
    py = ys[:, None]
    dx, dy = np.float32(p1[0] - p0[0]), np.float32(p1[1] - p0[1])
    len2 = float(dx * dx + dy * dy)
    if len2 < 1e-9:
        d2 = px * px + py * py
    else:
        t = np.clip((px * dx + py * dy) * np.float32(1.0 / len2), 0.0, 1.0)
        qx = px - t * dx
        qy = py - t * dy
        d2 = qx * qx + qy * qy
    outer = radius + 0.5
    inner = max(radius * hardness - 0.5, 0.0)
    if outer - inner < 1.0:
        inner = outer - 1.0
    t = np.clip((np.float32(outer) - np.sqrt(d2)) * np.float32(1.0 / (outer - inner)), 0.0, 1.0)
    return t * t * (np.float32(3.0) - np.float32(2.0) * t)


class StrokeBuffer:
    """Paints strokes into ``mask`` (HxW uint8, modified in place)."""

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask
        h, w = mask.shape
        self.height, self.width = h, w
        self._grid = ((h + TILE - 1) // TILE, (w + TILE - 1) // TILE)
        self._old: np.ndarray | None = None
        self._cov: np.ndarray | None = None
        self._touched: np.ndarray | None = None
        self.erase: bool | None = None
        self.bbox: BBox | None = None

    @property
    def active(self) -> bool:
        return self._touched is not None

    def begin(self) -> None:
        # Fresh zeroed scratch per stroke, dropped again in end(): np.zeros comes from calloc
        # (mmap for big arrays), so only the pages this stroke touches ever take memory, and they
        # are given back when the stroke ends. (Not zeros_like: that writes every page.)
        self._old = np.zeros(self.mask.shape, np.uint8)
        self._cov = np.zeros(self.mask.shape, np.uint8)
        self._touched = np.zeros(self._grid, bool)
        self.erase = None
        self.bbox = None

    def paint(
        self,
        p0: tuple[float, float],
        p1: tuple[float, float],
        radius: float,
        hardness: float = 1.0,
        opacity: float = 1.0,
        erase: bool = False,
    ) -> BBox | None:
        """Paint (or erase) a capsule from ``p0`` to ``p1``; returns the changed box (dirty rect)."""
        if self._touched is None:
            raise RuntimeError("begin_stroke() first")
        if self.erase is None:
            self.erase = bool(erase)
        elif self.erase != bool(erase):
            raise ValueError("one stroke either paints or erases; end the stroke to switch")
        if not radius > 0:
            raise ValueError(f"brush radius must be > 0, got {radius}")
        hardness = min(max(float(hardness), 0.0), 1.0)
        opacity = min(max(float(opacity), 0.0), 1.0)
        # long fast moves are cut into pieces so each box stays small (a diagonal's box is a square)
        length = math.hypot(p1[0] - p0[0], p1[1] - p0[1])
        step = max(4.0 * radius, 64.0)
        n = max(1, int(math.ceil(length / step)))
        dirty = None
        for i in range(n):
            a = (p0[0] + (p1[0] - p0[0]) * i / n, p0[1] + (p1[1] - p0[1]) * i / n)
            b = (p0[0] + (p1[0] - p0[0]) * (i + 1) / n, p0[1] + (p1[1] - p0[1]) * (i + 1) / n)
            dirty = union(dirty, self._paint_capsule(a, b, radius, hardness, opacity))
        self.bbox = union(self.bbox, dirty)
        return dirty

    def _paint_capsule(self, p0, p1, radius, hardness, opacity) -> BBox | None:
        box = capsule_box(p0, p1, radius, self.width, self.height)
        if box is None or opacity <= 0:
            return None
        self._back_up(box)
        assert self._old is not None and self._cov is not None
        cov_new = capsule_alpha(box, p0, p1, radius, hardness)
        cov_new *= np.float32(opacity * 255.0)
        cov_new += np.float32(0.5)
        sl = box.slices
        cov = np.maximum(self._cov[sl], cov_new.astype(np.uint8))
        self._cov[sl] = cov
        old = self._old[sl].astype(np.uint16)
        c = cov.astype(np.uint16)
        if self.erase:
            new = old - (old * c + 127) // 255
        else:
            new = old + ((255 - old) * c + 127) // 255
        self.mask[sl] = new
        return box

    def _back_up(self, box: BBox) -> None:
        """Save the pre-stroke values of tiles this box touches for the first time."""
        assert self._touched is not None and self._old is not None
        ty0, ty1 = box.y0 // TILE, (box.y1 - 1) // TILE + 1
        tx0, tx1 = box.x0 // TILE, (box.x1 - 1) // TILE + 1
        sub = self._touched[ty0:ty1, tx0:tx1]
        if sub.all():
            return
        for ty, tx in np.argwhere(~sub):
            ys, xs = self._tile_slices(ty + ty0, tx + tx0)
            self._old[ys, xs] = self.mask[ys, xs]
        sub[...] = True

    def _tile_slices(self, ty: int, tx: int) -> tuple[slice, slice]:
        return (
            slice(ty * TILE, min(self.height, (ty + 1) * TILE)),
            slice(tx * TILE, min(self.width, (tx + 1) * TILE)),
        )

    def end(self, label: str | None = None) -> ArrayPatch | None:
        """Finish the stroke: a patch of the changed pixels (old + new), or None if nothing changed."""
        if self._touched is None:
            raise RuntimeError("no stroke in progress")
        assert self._old is not None and self._cov is not None
        tiles: list[Tile] = []
        for ty, tx in np.argwhere(self._touched):
            ys, xs = self._tile_slices(int(ty), int(tx))
            old = self._old[ys, xs]
            new = self.mask[ys, xs]
            diff = old != new
            if not diff.any():
                continue
            rows = np.flatnonzero(diff.any(axis=1))
            cols = np.flatnonzero(diff.any(axis=0))
            r0, r1, c0, c1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
            box = BBox(xs.start + c0, ys.start + r0, xs.start + c1, ys.start + r1)
            tiles.append(Tile(box, old[r0:r1, c0:c1].copy(), new[r0:r1, c0:c1].copy()))
        erase = bool(self.erase)
        self._release()
        if not tiles:
            return None
        return ArrayPatch("mask", tiles, label or ("Erase" if erase else "Brush stroke"))

    def cancel(self) -> BBox | None:
        """Abandon the stroke: put back the old values; returns the box to repaint."""
        if self._touched is None:
            return None
        assert self._old is not None and self._cov is not None
        for ty, tx in np.argwhere(self._touched):
            ys, xs = self._tile_slices(int(ty), int(tx))
            self.mask[ys, xs] = self._old[ys, xs]
        box = self.bbox
        self._release()
        return box

    def _release(self) -> None:
        self._old = self._cov = self._touched = None
        self.erase = None
