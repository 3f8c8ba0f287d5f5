"""Paste an engine's result into the full-resolution photo.

Engines (diffusion especially: the VAE round trip) change pixels outside the mask, and the diffusers
pipeline binarises the mask, so the seam is ours to make: grow the mask, feather it, blend, and keep
every pixel where the blend weight is zero bit-identical to the photo.
"""

from __future__ import annotations

import math

import numpy as np

from . import masks


def composite_margin(grow: int, feather: int) -> int:
    """How far (pixels) beyond the mask compositing can change anything."""
    return grow + int(math.ceil(2.5 * feather)) + 1


def blend_alpha(mask_crop: np.ndarray, grow: int, feather: int) -> np.ndarray:
    """Blend weight in [0, 1] (float32): 1 on the grown mask, falling off smoothly outside it."""
    grown = masks.grow(mask_crop, grow)
    if feather <= 0:
        return grown.astype(np.float32) / 255.0
    soft = masks.feather(masks.grow(grown, feather), feather)
    return np.maximum(grown, soft).astype(np.float32) / 255.0


def color_match(
    result: np.ndarray, original: np.ndarray, mask_crop: np.ndarray, ring: int = 8
) -> np.ndarray:
    """Shift ``result``'s colours so that, in a ring just outside the mask, it matches the photo.

    The ring is where the result *should* equal the photo; a constant offset there (VAE colour shift,
    exposure drift) is removed from the whole fill.
    """
    outer = masks.grow(mask_crop, ring) > 0
    inner = mask_crop > 0
    band = outer & ~inner
    if band.sum() < 16:
        return result
    diff = original[band].astype(np.float32).mean(axis=0) - result[band].astype(np.float32).mean(
        axis=0
    )
    return np.clip(result.astype(np.float32) + diff, 0, 255).round().astype(np.uint8)


def composite(original_crop: np.ndarray, result_crop: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Blend ``result_crop`` over ``original_crop`` by ``alpha``; alpha == 0 keeps the original exactly."""
    a = alpha[..., None]
    blended = original_crop.astype(np.float32) * (1.0 - a) + result_crop.astype(np.float32) * a
    out = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    keep = alpha <= 0.0
    out[keep] = original_crop[keep]
    return out
