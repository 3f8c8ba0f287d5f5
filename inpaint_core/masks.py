"""Mask maths in one place. A mask is a 2-D uint8 array: 0 = keep, 255 = fill (soft values allowed)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import MaskError


@dataclass(frozen=True)
class BBox:
    """Half-open box: rows ``y0:y1``, columns ``x0:x1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    def pad(self, amount: int, width: int, height: int) -> BBox:
        """Grow by ``amount`` on every side, clamped to a ``width`` x ``height`` image."""
        return BBox(
            max(0, self.x0 - amount),
            max(0, self.y0 - amount),
            min(width, self.x1 + amount),
            min(height, self.y1 + amount),
        )


def mask_from_image(
    rgb: np.ndarray | None = None, alpha: np.ndarray | None = None, *, source: str = "auto"
) -> np.ndarray:
    """Make a mask from a loaded mask image.

    ``source``: ``"alpha"`` uses transparency (transparent = fill), ``"luma"`` uses grey/colour
    (non-black = fill), ``"auto"`` uses alpha when it is not fully opaque, else luma.
    """
    if source not in ("auto", "alpha", "luma"):
        raise ValueError(f"mask source must be auto, alpha or luma, got {source!r}")
    if source == "alpha" or (source == "auto" and alpha is not None and int(alpha.min()) < 255):
        if alpha is None:
            raise MaskError(
                "the mask image has no transparency (alpha channel) to take a mask from"
            )
        return (255 - alpha).astype(np.uint8)
    if rgb is None:
        raise MaskError("no mask image given")
    if rgb.ndim == 2:
        return rgb.astype(np.uint8)
    # any channel lit = paint; keeps coloured brush masks (red overlays etc.) working
    return rgb.max(axis=2).astype(np.uint8)


def binarize(mask: np.ndarray, threshold: int = 128) -> np.ndarray:
    return np.where(mask >= threshold, 255, 0).astype(np.uint8)


def _disk(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate by ``pixels`` (negative shrinks)."""
    if pixels == 0:
        return mask.copy()
    if pixels < 0:
        return shrink(mask, -pixels)
    return cv2.dilate(mask, _disk(pixels))


def shrink(mask: np.ndarray, pixels: int) -> np.ndarray:
    if pixels <= 0:
        return grow(mask, -pixels)
    return cv2.erode(mask, _disk(pixels))


def feather(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Soften edges with a Gaussian of roughly ``pixels`` reach outward and inward."""
    if pixels <= 0:
        return mask.copy()
    sigma = pixels / 2.0
    k = 2 * int(np.ceil(3 * sigma)) + 1
    return cv2.GaussianBlur(mask, (k, k), sigma, borderType=cv2.BORDER_REPLICATE)


def invert(mask: np.ndarray) -> np.ndarray:
    return (255 - mask).astype(np.uint8)


def bbox(mask: np.ndarray) -> BBox | None:
    """Tight box around non-zero pixels, or None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return BBox(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


#: What the command line's refusal of a mask of another size adds (its opt-in flag).
RESIZE_FLAG_HINT = "--resize-mask scales it to the photo"


def validate_mask(
    mask: np.ndarray,
    image_size: tuple[int, int],
    *,
    resize: bool = False,
    resize_hint: str = "",
) -> np.ndarray:
    """Check a mask against a photo of ``image_size`` = (width, height).

    A different size is an error naming both sizes unless ``resize`` (explicit opt-in) is set;
    ``resize_hint`` says how the caller's user opts in (a flag), when they can. A mask that is
    the photo turned a quarter is named as such: a photo turned upright by its EXIF orientation
    beside a mask drawn on its stored pixels. An empty mask is an error. Returns the (possibly
    resized) mask.
    """
    if mask.ndim != 2:
        raise MaskError(f"a mask must be a single-channel image, got shape {mask.shape}")
    w, h = image_size
    mh, mw = mask.shape
    if (mw, mh) != (w, h):
        if not resize:
            notes = []
            if (mw, mh) == (h, w):
                notes.append(
                    "it is the photo's size turned a quarter: the photo is shown upright as its "
                    "EXIF orientation says, so turn the mask the same way"
                )
            elif resize_hint:  # (scaling a turned mask would squash it)
                notes.append(resize_hint)
            raise MaskError(
                f"mask size {mw}x{mh} does not match the photo size {w}x{h}"
                + (f" ({'; '.join(notes)})" if notes else "")
            )
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    if not mask.any():
        raise MaskError("the mask is empty: paint or load the area to fill")
    return mask.astype(np.uint8, copy=False)
