"""16-bit photos: the samples a 16-bit file had, kept beside the 8-bit working copy.

The engine works in 8 bits (models, masks, compositing, the canvas). A 16-bit scan keeps its 16-bit
samples in a :class:`HighBits`, never edited. Whenever the picture is written, its 16-bit version
is *lifted* from the 8-bit one (:meth:`HighBits.lift`): a sample whose 8-bit value is still the
8-bit reduction (:func:`reduce16`) of the original keeps the original 16-bit value; a changed
sample (a fill, a merged layer, a new canvas area) is its 8-bit value scaled (x257, so 255 ->
65535). Hence:

- pixels nobody touched come back bit for bit (the product's promise: outside the mask, untouched);
- the 8-bit reduction of a lift is the 8-bit picture exactly, so what is saved is what was shown;
- no edit ever copies or writes the 16-bit photo (an undo history of a 6000x4000 scan keeps 8-bit
  boxes, as before): the 16-bit samples are read only when a file is written.

Work goes in bands of :data:`ROWS` rows, so a 48 MP lift needs a few MB of temporaries, not
hundreds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ROWS = 256
"""Rows per band of :func:`reduce16` and :meth:`HighBits.lift` (bounds their temporaries)."""


def reduce16(samples: np.ndarray) -> np.ndarray:
    """0..65535 -> 0..255, rounded to nearest (65535 -> 255, 32768 -> 128, 257*k -> k).

    ``(v + 128) // 257`` is ``round(v * 255 / 65535)`` for every 16-bit ``v`` (checked over all
    of them in the tests).
    """
    a = np.asarray(samples)
    out = np.empty(a.shape, np.uint8)
    for i in range(0, max(a.shape[0], 1), ROWS):
        band = a[i : i + ROWS].astype(np.uint32)
        band += 128
        band //= 257
        out[i : i + ROWS] = band
    return out


@dataclass(frozen=True, eq=False)
class HighBits:
    """The 16-bit RGB samples (HxWx3 uint16) of a photo, placed at (``x``, ``y``) of its canvas
    (not (0, 0) after the canvas grew around the photo). Never written to: edits change the 8-bit
    picture, and :meth:`lift` tells which samples still hold."""

    samples: np.ndarray
    x: int = 0
    y: int = 0

    def __post_init__(self) -> None:
        s = self.samples
        if not isinstance(s, np.ndarray) or s.ndim != 3 or s.shape[2] != 3 or s.dtype != np.uint16:
            raise ValueError(
                f"16-bit samples must be HxWx3 uint16, got {getattr(s, 'dtype', type(s))} "
                f"{getattr(s, 'shape', '')}"
            )

    @classmethod
    def of(cls, samples: np.ndarray | None) -> HighBits | None:
        """``HighBits(samples)``, or None for None (a photo that had 8 bits)."""
        return None if samples is None else cls(samples)

    @property
    def nbytes(self) -> int:
        return int(self.samples.nbytes)

    def moved(self, dx: int, dy: int) -> HighBits:
        """The same samples, ``(dx, dy)`` further on a new canvas (no copy)."""
        return HighBits(self.samples, self.x + int(dx), self.y + int(dy))

    def lift(self, rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The 16-bit version of ``rgb`` (HxWx3 uint8, the canvas): see the module docstring.

        ``out`` (HxWx3 uint16, may be a strided view, e.g. the BGR channels of a BGRA buffer)
        receives it; a new array otherwise.
        """
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"lift needs an HxWx3 uint8 picture, got {rgb.dtype} {rgb.shape}")
        h, w = rgb.shape[:2]
        if out is None:
            out = np.empty((h, w, 3), np.uint16)
        elif out.shape != (h, w, 3) or out.dtype != np.uint16:
            raise ValueError(f"out must be {w}x{h}x3 uint16, got {out.dtype} {out.shape}")
        sh, sw = self.samples.shape[:2]
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(w, self.x + sw), min(h, self.y + sh)
        for i in range(0, h, ROWS):
            j = min(h, i + ROWS)
            np.multiply(rgb[i:j], 257, out=out[i:j], dtype=np.uint16)
            a, b = max(i, y0), min(j, y1)
            if a < b and x0 < x1:
                deep = self.samples[a - self.y : b - self.y, x0 - self.x : x1 - self.x]
                keep = reduce16(deep) == rgb[a:b, x0:x1]
                np.copyto(out[a:b, x0:x1], deep, where=keep)
        return out
