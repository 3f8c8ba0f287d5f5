"""Seam score: one number for how well a fill meets the photo around it. **Lower is better.**

Definition (computed on the result's box only, and there only on tiles that hold the seam or its
reference ring, so it costs about what the paste costs: ~1 s for a 12 MP box on 2 cores):

* ``S`` = where the result dominates (blend weight ``alpha >= 0.5``); its *seam* ``B`` is the
  one-pixel inner boundary of ``S`` (where a hard paste would show its edge, and the middle of a
  feathered one). ``R`` = a ring of ``ring`` pixels outside everything the paste touched
  (``alpha == 0``): photo pixels that say what edges and colour changes are normal *here*.
* **Gradient term**: the mean gradient magnitude (Sobel of the Gaussian-smoothed RGB, sigma 1) of
  the composite on ``B``, divided by the photo's own mean gradient magnitude on ``R``.
* **Colour term**: at each seam pixel, the distance between the mean colour just inside ``S`` and
  just outside it (``window`` pixels), divided by the photo's mean local standard deviation (same
  window) on ``R``.
* **Overlap term** (when the user's mask is known): the paste reaches beyond the user's mask (mask
  grow + feather), over pixels the photo really has. There a good fill agrees with the photo; the
  mean colour distance of the composite from the photo over that overlap, divided by the same
  local standard deviation, catches what a soft feather hides from the two terms above (a shifted
  or wrong-coloured fill blended over 20 px shows as a ghost, not as an edge).
* **Score** = the mean of the terms. Both are ratios to the photo's own statistics, so the score
  is comparable across photos: about 1 or below means the seam is no rougher than the photo's own
  texture near it; a visible edge (a shifted paste, a flat patch) scores clearly higher.

``None`` when there is no seam to judge (the result covers the whole box, or the ring is empty).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import cv2
import numpy as np

#: default ring width (photo pixels) of the reference statistics, and colour-window size
RING = 12
WINDOW = 7
_EPS = 1.0  # one grey level: keeps flat photos (zero texture) from dividing by ~0


def _gradient_magnitude(image: np.ndarray) -> np.ndarray:
    f = cv2.GaussianBlur(image.astype(np.float32), (0, 0), 1.0)
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return np.sqrt((gx * gx + gy * gy).sum(axis=2))


def _masked_mean(image: np.ndarray, weight: np.ndarray, window: int) -> np.ndarray:
    """Per-pixel mean of ``image`` over the ``weight`` pixels of a ``window`` box."""
    w = weight.astype(np.float32)
    num = cv2.boxFilter(
        image.astype(np.float32) * w[..., None], -1, (window, window), normalize=False
    )
    den = cv2.boxFilter(w, -1, (window, window), normalize=False)
    return num / np.maximum(den, 1e-6)[..., None]


def _local_std(image: np.ndarray, window: int) -> np.ndarray:
    f = image.astype(np.float32)
    mean = cv2.blur(f, (window, window))
    sq = cv2.blur(f * f, (window, window))
    return np.sqrt(np.maximum(sq - mean * mean, 0.0).sum(axis=2))


def seam_score(
    composite: np.ndarray,
    original: np.ndarray,
    alpha: np.ndarray,
    *,
    known: np.ndarray | None = None,
    ring: int = RING,
    window: int = WINDOW,
) -> float | None:
    """Seam score of ``composite`` (the result pasted over ``original``, same HxWx3 crop).

    ``alpha`` (HxW, float in [0, 1] or uint8 0..255) is the blend weight of the paste; ``known``
    (HxW, non-zero = the photo's pixels there are real, i.e. outside the user's mask) enables the
    overlap term. Lower is better; see the module docstring for the definition.
    """
    if composite.shape != original.shape or composite.shape[:2] != alpha.shape:
        raise ValueError(
            f"seam_score: shapes differ: {composite.shape}, {original.shape}, {alpha.shape}"
        )
    a = alpha.astype(np.float32)
    if alpha.dtype == np.uint8:
        a /= 255.0
    inside = (a >= 0.5).astype(np.uint8)
    touched = a > 0
    if not inside.any() or inside.all():
        return None
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    eroded = cv2.erode(inside, kernel, borderType=cv2.BORDER_REPLICATE)
    boundary = inside.astype(bool) & ~eroded.astype(bool)
    # the reference ring: untouched pixels within ``ring`` px (Euclidean) of the paste
    away = cv2.distanceTransform(
        np.where(touched, 0, 255).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE
    )
    reference = ~touched & (away <= ring)
    n_boundary, n_reference = int(boundary.sum()), int(reference.sum())
    if n_boundary == 0 or n_reference < 8:
        return None

    # the filters run only on tiles holding seam or ring pixels (plus a halo wider than any
    # filter's reach), so a big box with a thin seam costs what the seam costs
    sums = np.zeros(4, np.float64)  # grad on B, grad of photo on R, colour step on B, texture on R
    for sl, inner in _tiles(boundary | reference, inside.shape):
        b = boundary[sl][inner]
        r = reference[sl][inner]
        comp, orig, ins = composite[sl], original[sl], inside[sl]
        if b.any():
            sums[0] += float(_gradient_magnitude(comp)[inner][b].sum())
            mean_in = _masked_mean(comp, ins, window)[inner]
            mean_out = _masked_mean(comp, 1 - ins, window)[inner]
            step = np.sqrt(((mean_in - mean_out) ** 2).sum(axis=2))
            sums[2] += float(step[b].sum())
        if r.any():
            sums[1] += float(_gradient_magnitude(orig)[inner][r].sum())
            sums[3] += float(_local_std(orig, window)[inner][r].sum())
    texture = sums[3] / n_reference
    gradient_term = (sums[0] / n_boundary) / (sums[1] / n_reference + _EPS)
    colour_term = (sums[2] / n_boundary) / (texture + _EPS)
    terms = [gradient_term, colour_term]
    if known is not None:
        overlap = touched & (known > 0)
        if overlap.any():
            diff = composite[overlap].astype(np.float32) - original[overlap]
            terms.append(float(np.sqrt((diff * diff).sum(axis=1)).mean()) / (texture + _EPS))
    return float(np.mean(terms))


T = TypeVar("T")


def rank_by_seam(results: Iterable[T], key: Any = None) -> list[T]:
    """``results`` best seam first (lowest score); those without a score keep their order, last.

    ``key`` gets the score from an item (default: ``item.info["seam_score"]``, an InpaintResult).
    """

    def score(item: T) -> float | None:
        if key is not None:
            return key(item)
        return getattr(item, "info", {}).get("seam_score")

    items = list(results)
    scored = [(s, i) for i, s in enumerate(score(x) for x in items)]
    order = sorted(scored, key=lambda p: (p[0] is None, p[0] if p[0] is not None else 0.0, p[1]))
    return [items[i] for _, i in order]


_TILE = 128
_HALO = 8  # > Gaussian (sigma 1: 4 px) + Sobel (1 px), and > half the colour window


def _tiles(need: np.ndarray, shape: tuple[int, int]):
    """(halo'd slices, inner slices within them) for every tile holding a ``need`` pixel."""
    h, w = shape
    th, tw = -(-h // _TILE), -(-w // _TILE)
    padded = np.zeros((th * _TILE, tw * _TILE), bool)
    padded[:h, :w] = need
    active = padded.reshape(th, _TILE, tw, _TILE).any(axis=(1, 3))
    for ty, tx in zip(*np.nonzero(active), strict=True):
        y0, x0 = int(ty) * _TILE, int(tx) * _TILE
        y1, x1 = min(h, y0 + _TILE), min(w, x0 + _TILE)
        hy0, hx0 = max(0, y0 - _HALO), max(0, x0 - _HALO)
        hy1, hx1 = min(h, y1 + _HALO), min(w, x1 + _HALO)
        yield (
            (slice(hy0, hy1), slice(hx0, hx1)),
            (slice(y0 - hy0, y1 - hy0), slice(x0 - hx0, x1 - hx0)),
        )
