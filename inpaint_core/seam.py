"""Seam score: one number for how well a fill meets the photo around it. **Lower is better.**

Definition (computed on the result's box only, so it costs about what the paste costs):

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
    touched = (a > 0).astype(np.uint8)
    if not inside.any() or inside.all():
        return None
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    boundary = inside.astype(bool) & ~cv2.erode(
        inside, kernel, borderType=cv2.BORDER_REPLICATE
    ).astype(bool)
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ring + 1, 2 * ring + 1))
    reference = cv2.dilate(touched, disk).astype(bool) & ~touched.astype(bool)
    if boundary.sum() == 0 or reference.sum() < 8:
        return None

    grad_c = _gradient_magnitude(composite)
    grad_o = _gradient_magnitude(original)
    gradient_term = float(grad_c[boundary].mean()) / (float(grad_o[reference].mean()) + _EPS)

    mean_in = _masked_mean(composite, inside, window)
    mean_out = _masked_mean(composite, 1 - inside, window)
    step = np.sqrt(((mean_in - mean_out) ** 2).sum(axis=2))
    texture = _local_std(original, window)
    colour_term = float(step[boundary].mean()) / (float(texture[reference].mean()) + _EPS)
    terms = [gradient_term, colour_term]
    if known is not None:
        overlap = touched.astype(bool) & (known > 0)
        if overlap.any():
            diff = np.sqrt(((composite.astype(np.float32) - original) ** 2).sum(axis=2))
            terms.append(float(diff[overlap].mean()) / (float(texture[reference].mean()) + _EPS))
    return float(np.mean(terms))
