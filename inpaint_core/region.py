"""Crop a context region around the mask and map it to an engine's working grid, and back.

The work of a generation is proportional to the region, not the photo: a 6000x4000 scan with a small
mask costs about what a 512² photo with the same mask costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import MaskError
from .masks import BBox


@dataclass(frozen=True)
class Region:
    """Where the engine works: ``box`` in photo pixels, ``grid`` = (width, height) the engine sees."""

    box: BBox
    grid: tuple[int, int]

    @property
    def native(self) -> bool:
        return self.grid == (self.box.width, self.box.height)


def mask_bbox(mask: np.ndarray) -> BBox | None:
    """Bounding box of non-zero mask pixels without allocating a full-size temporary."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return None
    return BBox(x, y, x + w, y + h)


def _round_to(value: float, multiple: int) -> int:
    return max(multiple, int(round(value / multiple)) * multiple)


def _expand_to_aspect(box: BBox, aspect: float, width: int, height: int) -> BBox:
    """Grow ``box`` (never shrink) towards ``aspect`` = w/h, keeping it centred and inside the photo."""
    bw, bh = box.width, box.height
    if bw / bh < aspect:
        bw = min(width, int(round(bh * aspect)))
    else:
        bh = min(height, int(round(bw / aspect)))
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    x0 = int(round(cx - bw / 2))
    y0 = int(round(cy - bh / 2))
    x0 = min(max(0, x0), width - bw)
    y0 = min(max(0, y0), height - bh)
    return BBox(x0, y0, x0 + bw, y0 + bh)


def plan_region(
    mask: np.ndarray,
    *,
    padding: int = 32,
    margin: int = 0,
    native: bool = False,
    target_size: int = 512,
    width: int | None = None,
    height: int | None = None,
    multiple: int = 8,
) -> Region:
    """Choose the crop and the working grid for ``mask`` (HxW uint8, full photo size).

    ``margin`` is how far compositing reaches beyond the mask (grow + feather); the crop always
    contains it plus ``padding`` pixels of context. ``native`` keeps the crop's own pixels (no
    resize; classical engines). Otherwise the grid is ``width`` x ``height`` when given, else the
    crop's aspect at ``target_size`` long side, in multiples of ``multiple``; the crop is widened
    to the grid's aspect where the photo allows, so nothing is stretched.
    """
    h, w = mask.shape
    tight = mask_bbox(mask)
    if tight is None:
        raise MaskError("the mask is empty: paint or load the area to fill")
    box = tight.pad(margin + padding, w, h)
    if native:
        return Region(box, (box.width, box.height))
    if width is not None and height is not None:
        grid = (width, height)
    else:
        scale = target_size / max(box.width, box.height)
        gw, gh = box.width * scale, box.height * scale
        if width is not None:
            gw, gh = width, width * box.height / box.width
        elif height is not None:
            gw, gh = height * box.width / box.height, height
        grid = (_round_to(gw, multiple), _round_to(gh, multiple))
    box = _expand_to_aspect(box, grid[0] / grid[1], w, h)
    return Region(box, grid)


def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (arr.shape[1], arr.shape[0]) == size:
        return arr.copy()
    shrinking = size[0] < arr.shape[1] or size[1] < arr.shape[0]
    interp = cv2.INTER_AREA if shrinking else cv2.INTER_LANCZOS4
    return cv2.resize(arr, size, interpolation=interp)


def to_grid(region: Region, image: np.ndarray) -> np.ndarray:
    """Crop ``image`` (full photo) to the region and resize to the grid."""
    return _resize(np.ascontiguousarray(image[region.box.slices]), region.grid)


def mask_to_grid(region: Region, mask: np.ndarray) -> np.ndarray:
    """The engine's binary mask on the grid: any coverage counts as fill (255)."""
    crop = np.ascontiguousarray(mask[region.box.slices])
    if not region.native:
        crop = cv2.resize(crop, region.grid, interpolation=cv2.INTER_AREA)
    return np.where(crop > 0, 255, 0).astype(np.uint8)


def from_grid(region: Region, result: np.ndarray) -> np.ndarray:
    """Map an engine result on the grid back to the crop's size in photo pixels."""
    return _resize(result, (region.box.width, region.box.height))
