"""Synthetic scan damage on real photos, for tests and benchmarks of restoration.

Thin scratches (random polylines 1-4 px wide, half of them curved) and small blotches (irregular
blobs 5-25 px across), drawn from a caller's RNG so a test or a bench draws the same damage every
run. One place for them, so the benchmark and the tests that guard the defaults score the same
damage. Score with :func:`psnr_inside`: PSNR over the damaged pixels only (the rest is unchanged by
a correct restoration, so counting it would only dilute the figure).
"""

from __future__ import annotations

import cv2
import numpy as np

#: What a method sees under the damage: junk of a scan's dust colour, never the truth.
DAMAGE_COLOUR = (245, 240, 225)


def scratches(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """About 12 scratches per 512²: polylines 1-4 px wide, 20-60 % of the long side, some curved.

    Returns an HxW uint8 mask, 255 = damaged.
    """
    m = np.zeros((h, w), np.uint8)
    length_px = max(h, w)
    for _ in range(max(3, round(12 * h * w / 512**2))):
        width = int(rng.integers(1, 5))
        length = rng.uniform(0.2, 0.6) * length_px
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        angle = rng.uniform(0, 2 * np.pi)
        bend = rng.uniform(-3, 3) / length if rng.random() < 0.5 else 0.0
        pts = []
        for _ in range(40):
            pts.append((x, y))
            angle += bend * length / 40 + rng.normal(0, 0.02)
            x += np.cos(angle) * length / 40
            y += np.sin(angle) * length / 40
        cv2.polylines(m, [np.round(pts).astype(np.int32)], False, 255, width, cv2.LINE_8)
    return m


def blotches(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """About 25 blotches per 512²: unions of 1-3 ellipses, 5-25 px across (HxW uint8, 255)."""
    m = np.zeros((h, w), np.uint8)
    for _ in range(max(4, round(25 * h * w / 512**2))):
        size = rng.uniform(5, 25)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        for _ in range(int(rng.integers(1, 4))):
            ax = max(1, int(size / 2 * rng.uniform(0.5, 1.0)))
            ay = max(1, int(size / 2 * rng.uniform(0.5, 1.0)))
            ox, oy = rng.normal(0, size / 6, 2)
            centre = (int(cx + ox), int(cy + oy))
            cv2.ellipse(m, centre, (ax, ay), rng.uniform(0, 180), 0, 360, 255, -1)
    return m


def damage(photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A copy of ``photo`` with the masked pixels overwritten by :data:`DAMAGE_COLOUR`."""
    broken = photo.copy()
    broken[mask > 0] = DAMAGE_COLOUR
    return broken


def psnr_inside(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """PSNR (dB) of ``a`` against ``b`` over the pixels where ``mask`` is set."""
    d = a[mask > 0].astype(np.float64) - b[mask > 0].astype(np.float64)
    return float(10 * np.log10(255.0**2 / max(float(np.mean(d * d)), 1e-10)))
