"""Layer records and the pixel maths that stacks them (straight alpha, "over")."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..imaging.highbits import HighBits
from ..masks import BBox

_ids = itertools.count(1)


def _next_id() -> int:
    return next(_ids)


@dataclass(eq=False, kw_only=True)
class Layer:
    """Common layer properties. Layers compare by identity."""

    kind: ClassVar[str] = "layer"
    name: str
    visible: bool = True
    opacity: float = 1.0
    id: int = field(default_factory=_next_id)

    #: which properties a user may change on this kind of layer
    editable: ClassVar[frozenset[str]] = frozenset({"name", "visible", "opacity"})

    @property
    def nbytes(self) -> int:
        return 0


@dataclass(eq=False, kw_only=True)
class PhotoLayer(Layer):
    """The photo: always the bottom layer, always visible and opaque (the base of the flattened picture).

    ``high_bits``: the 16-bit samples of a 16-bit photo, never edited; the photo's 16-bit pixels
    are ``high_bits.lift(rgb)`` (see :mod:`inpaint_core.imaging.highbits`), so edits, undo and
    merges work on ``rgb`` alone and a save still keeps every untouched pixel's 16 bits.
    """

    kind: ClassVar[str] = "photo"
    editable: ClassVar[frozenset[str]] = frozenset({"name"})
    rgb: np.ndarray
    alpha: np.ndarray | None = None
    high_bits: HighBits | None = None

    @property
    def nbytes(self) -> int:
        return (
            self.rgb.nbytes
            + (self.alpha.nbytes if self.alpha is not None else 0)
            + (self.high_bits.nbytes if self.high_bits is not None else 0)
        )

    def rgb16(self) -> np.ndarray | None:
        """The photo's 16-bit pixels now (a new HxWx3 uint16 array), or None for an 8-bit photo."""
        return None if self.high_bits is None else self.high_bits.lift(self.rgb)


@dataclass(eq=False, kw_only=True)
class MaskLayer(Layer):
    """The mask, always on top. ``visible``/``opacity``/``colour`` are how its overlay is shown."""

    kind: ClassVar[str] = "mask"
    editable: ClassVar[frozenset[str]] = frozenset({"visible", "opacity", "colour"})
    opacity: float = 0.5
    colour: tuple[int, int, int] = (255, 48, 48)


@dataclass(eq=False, kw_only=True)
class ResultLayer(Layer):
    """Pixels over ``box`` of the photo: RGB uint8 (+ optional alpha, straight)."""

    kind: ClassVar[str] = "result"
    rgb: np.ndarray
    box: BBox
    alpha: np.ndarray | None = None
    #: free-form provenance (seed, request, ...) for the generation panels
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        h, w = self.rgb.shape[:2]
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3 or self.rgb.dtype != np.uint8:
            raise ValueError(
                f"a result layer needs HxWx3 uint8 pixels, got {self.rgb.dtype} {self.rgb.shape}"
            )
        if (w, h) != (self.box.width, self.box.height):
            raise ValueError(
                f"result pixels are {w}x{h} but the box is {self.box.width}x{self.box.height}"
            )
        if self.alpha is not None and (self.alpha.shape != (h, w) or self.alpha.dtype != np.uint8):
            raise ValueError(
                f"alpha must be {w}x{h} uint8, got {self.alpha.dtype} {self.alpha.shape}"
            )

    @property
    def nbytes(self) -> int:
        return self.rgb.nbytes + (self.alpha.nbytes if self.alpha is not None else 0)

    def effective_alpha(self) -> np.ndarray:
        """Per-pixel weight in [0, 1] (float32) including opacity and visibility."""
        h, w = self.rgb.shape[:2]
        o = float(self.opacity) if self.visible else 0.0
        if self.alpha is None:
            return np.full((h, w), o, np.float32)
        return self.alpha.astype(np.float32) * (o / 255.0)


def intersect(a: BBox, b: BBox) -> BBox | None:
    x0, y0 = max(a.x0, b.x0), max(a.y0, b.y0)
    x1, y1 = min(a.x1, b.x1), min(a.y1, b.y1)
    if x0 >= x1 or y0 >= y1:
        return None
    return BBox(x0, y0, x1, y1)


def union(a: BBox | None, b: BBox | None) -> BBox | None:
    if a is None:
        return b
    if b is None:
        return a
    return BBox(min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1))


def composite_into(out: np.ndarray, region: BBox, layers: list[ResultLayer]) -> None:
    """Blend visible ``layers`` (bottom to top) over ``out`` (the photo pixels of ``region``), in place.

    A fully opaque layer pixel replaces the pixel exactly; a zero-weight pixel leaves it exactly.
    """
    for layer in layers:
        if not layer.visible or layer.opacity <= 0:
            continue
        inter = intersect(region, layer.box)
        if inter is None:
            continue
        ly = slice(inter.y0 - layer.box.y0, inter.y1 - layer.box.y0)
        lx = slice(inter.x0 - layer.box.x0, inter.x1 - layer.box.x0)
        oy = slice(inter.y0 - region.y0, inter.y1 - region.y0)
        ox = slice(inter.x0 - region.x0, inter.x1 - region.x0)
        src = layer.rgb[ly, lx]
        if layer.alpha is None and layer.opacity >= 1.0:
            out[oy, ox] = src
            continue
        a = layer.effective_alpha()[ly, lx][..., None]
        dst = out[oy, ox]
        blended = dst.astype(np.float32) * (1.0 - a) + src.astype(np.float32) * a
        out[oy, ox] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def merge_pair(lower: ResultLayer, upper: ResultLayer, name: str | None = None) -> ResultLayer:
    """One layer that looks like ``upper`` over ``lower`` (their opacity and visibility baked in)."""
    box = union(lower.box, upper.box)
    assert box is not None
    h, w = box.height, box.width
    rgb = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    for layer in (lower, upper):
        a = layer.effective_alpha()
        ys = slice(layer.box.y0 - box.y0, layer.box.y1 - box.y0)
        xs = slice(layer.box.x0 - box.x0, layer.box.x1 - box.x0)
        a_dst = alpha[ys, xs]
        a_out = a + a_dst * (1.0 - a)
        with np.errstate(invalid="ignore", divide="ignore"):
            c = (
                layer.rgb.astype(np.float32) * a[..., None]
                + rgb[ys, xs] * (a_dst * (1.0 - a))[..., None]
            ) / a_out[..., None]
        rgb[ys, xs] = np.where(a_out[..., None] > 0, c, 0.0)
        alpha[ys, xs] = a_out
    out_rgb = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    out_alpha = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return ResultLayer(
        name=name or lower.name,
        rgb=out_rgb,
        box=box,
        alpha=None if int(out_alpha.min()) == 255 else out_alpha,
        info=dict(lower.info),
    )
