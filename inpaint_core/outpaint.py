"""Outpainting: grow the canvas on any side and fill the new area through the normal inpaint path.

The new area becomes the mask, plus a band of the photo along the old edge (``overlap``) so the
model continues the picture instead of butting new content against a hard line. Before the engine
sees it, the new area is pre-filled with plausible colours (the photo's edge stretched outwards and
blurred, or the classical engine's fill): a diffusion model starting from black would be pulled
towards a dark frame. Then :func:`inpaint_core.inpaint.inpaint` does the rest (region, engine,
compositing), so everything it guarantees holds here too.

**Which photo pixels can change.** ``overlap`` is the whole band, in photo pixels from the old
edge, that may change: the mask reaches ``overlap - reach`` pixels into the photo, where ``reach``
(:func:`inpaint_core.compose.composite_margin`) is how far the request's grow + feather carry the
paste beyond the mask. Every photo pixel farther than ``overlap`` from a grown edge is bit-identical.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

import cv2
import numpy as np

from . import compose
from .engines.base import Engine
from .errors import InpaintError
from .events import CancelToken, EventCallback, ignore_events
from .imaging.sources import max_pixels_from_env
from .inpaint import InpaintResult, inpaint
from .masks import BBox
from .request import InpaintRequest

PREFILLS = ("edge", "classical")
#: PNG text chunk recording how a picture was outpainted (JSON: extend, overlap, prefill, photo box)
OUTPAINT_CHUNK = "inpaint_studio_outpaint"
DEFAULT_OVERLAP = 32
#: the most one side may grow (pixels): beyond it the new area is mostly invention anyway
MAX_EXTEND = 8192


@dataclass(frozen=True)
class Extension:
    """How many pixels to add on each side."""

    left: int = 0
    top: int = 0
    right: int = 0
    bottom: int = 0

    def __post_init__(self) -> None:
        for side in ("left", "top", "right", "bottom"):
            v = getattr(self, side)
            if not isinstance(v, int) or isinstance(v, bool) or not (0 <= v <= MAX_EXTEND):
                raise InpaintError(
                    f"extend {side} must be a whole number of pixels from 0 to {MAX_EXTEND}, "
                    f"got {v!r}"
                )

    @property
    def empty(self) -> bool:
        return not (self.left or self.top or self.right or self.bottom)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)

    @classmethod
    def parse(cls, text: str) -> Extension:
        """``"L,T,R,B"`` (pixels per side) or one number for every side."""
        parts = [p.strip() for p in str(text).split(",")]
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise InpaintError(
                f"--extend must be LEFT,TOP,RIGHT,BOTTOM in pixels (or one number), got {text!r}"
            ) from None
        if len(values) == 1:
            values *= 4
        if len(values) != 4:
            raise InpaintError(
                f"--extend must list 4 numbers (LEFT,TOP,RIGHT,BOTTOM) or one, got {text!r}"
            )
        return cls(*values)


def extension_to_aspect(width: int, height: int, aspect: str | float) -> Extension:
    """The extension that brings a ``width`` x ``height`` photo to ``aspect`` (``"16:9"`` or w/h),
    growing only the short direction, split evenly between its two sides (odd pixel: right/bottom).
    """
    if isinstance(aspect, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[:x/]\s*(\d+(?:\.\d+)?)\s*", aspect)
        if not m or float(m.group(2)) == 0 or float(m.group(1)) == 0:
            raise InpaintError(f"--extend-to-aspect must look like 16:9, got {aspect!r}")
        ratio = float(m.group(1)) / float(m.group(2))
    else:
        ratio = float(aspect)
        if not ratio > 0:
            raise InpaintError(f"aspect ratio must be positive, got {aspect!r}")
    if width / height < ratio:
        extra = int(round(height * ratio)) - width
        return Extension(left=extra // 2, right=extra - extra // 2)
    extra = int(round(width / ratio)) - height
    return Extension(top=extra // 2, bottom=extra - extra // 2)


@dataclass
class OutpaintCanvas:
    """The grown canvas (pre-filled), the mask to fill, and where the photo sits in it."""

    image: np.ndarray
    mask: np.ndarray
    alpha: np.ndarray | None
    extension: Extension
    photo_box: BBox
    overlap: int

    def describe(self, prefill: str) -> str:
        """JSON for :data:`OUTPAINT_CHUNK`: what was added and where the photo sits."""
        b = self.photo_box
        return json.dumps(
            {
                "extend": list(self.extension.as_tuple()),
                "overlap": self.overlap,
                "prefill": prefill,
                "photo_box": [b.x0, b.y0, b.x1, b.y1],
            },
            sort_keys=True,
        )


def _wide_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur of any width at the cost of a small one: blur a copy shrunk so that sigma
    is ~4 px there, then scale it back (a wide blur keeps no detail a shrink would lose)."""
    factor = max(1.0, sigma / 4.0)
    h, w = image.shape[:2]
    if factor <= 1.0:
        return cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    small_size = (max(1, int(round(w / factor))), max(1, int(round(h / factor))))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _edge_prefill(canvas: np.ndarray, new_area: np.ndarray, photo_box: BBox) -> np.ndarray:
    """Stretch the photo's edge outwards, then blur the new area more the farther it lies: the
    model sees the photo's colours continuing, without sharp streaks to copy."""
    left, t = photo_box.x0, photo_box.y0
    r = canvas.shape[1] - photo_box.x1
    b = canvas.shape[0] - photo_box.y1
    photo = canvas[photo_box.slices]
    stretched = cv2.copyMakeBorder(photo, t, b, left, r, cv2.BORDER_REPLICATE)
    reach = max(left, t, r, b)
    blurred = _wide_blur(stretched, max(2.0, reach / 4.0))
    dist = cv2.distanceTransform(new_area.astype(np.uint8), cv2.DIST_L2, 3)
    # fully blurred from ``ramp`` px out (short sides too, so no streak survives to their edge)
    ramp = float(min([32] + [side for side in (left, t, r, b) if side > 0]))
    weight = np.minimum(dist * (1.0 / ramp), 1.0)  # 0 on the photo itself
    out = cv2.blendLinear(stretched, blurred, 1.0 - weight, weight)
    out[photo_box.slices] = photo  # bit for bit (the blend rounds through float)
    return out


def _classical_prefill(canvas: np.ndarray, new_area: np.ndarray) -> np.ndarray:
    from .engines.classical import ClassicalEngine

    mask = np.where(new_area, 255, 0).astype(np.uint8)
    request = InpaintRequest(engine="classical", options={"method": "telea"})
    return ClassicalEngine().run(request, canvas, mask, ignore_events, CancelToken())[0].image


def prepare_outpaint(
    rgb: np.ndarray,
    extension: Extension,
    *,
    overlap: int = DEFAULT_OVERLAP,
    request: InpaintRequest | None = None,
    prefill: str = "edge",
    alpha: np.ndarray | None = None,
    max_pixels: int | None = None,
) -> OutpaintCanvas:
    """The grown canvas and its mask (see the module docstring for ``overlap``).

    ``max_pixels`` (default: the loader's ceiling, ``$INPAINT_MAX_PIXELS`` or 150 MP) bounds the
    grown canvas as it bounds any photo we open."""
    if extension.empty:
        raise InpaintError("nothing to extend: give at least one side a size above 0")
    if prefill not in PREFILLS:
        raise InpaintError(f"prefill must be one of {', '.join(PREFILLS)}, got {prefill!r}")
    if not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 0:
        raise InpaintError(f"--overlap must be a whole number of pixels >= 0, got {overlap!r}")
    req = request or InpaintRequest()
    reach = compose.composite_margin(req.mask_grow, req.mask_feather)
    if req.mask_grow == 0 and req.mask_feather == 0:
        reach = 0
    if overlap < reach:
        raise InpaintError(
            f"--overlap {overlap} px is less than the paste's reach into the photo ({reach} px from "
            f"grow {req.mask_grow} + feather {req.mask_feather}): raise --overlap or lower "
            "--grow/--feather"
        )
    h, w = rgb.shape[:2]
    left, t, r, b = extension.as_tuple()
    limit = max_pixels if max_pixels is not None else max_pixels_from_env()
    if (w + left + r) * (h + t + b) > limit:
        raise InpaintError(
            f"the extended canvas {w + left + r}x{h + t + b} is over the {limit / 1e6:.0f} MP limit: "
            "extend less"
        )
    canvas = np.zeros((h + t + b, w + left + r, 3), np.uint8)
    box = BBox(left, t, left + w, t + h)
    canvas[box.slices] = rgb
    new_area = np.ones(canvas.shape[:2], bool)
    new_area[box.slices] = False
    image = (
        _edge_prefill(canvas, new_area, box)
        if prefill == "edge"
        else _classical_prefill(_edge_prefill(canvas, new_area, box), new_area)
    )
    # the mask: the new area, plus (overlap - reach) px of the photo along each grown edge
    band = overlap - reach
    mask = np.where(new_area, 255, 0).astype(np.uint8)
    # the photo's rectangle that stays out of the mask, in photo coordinates
    y0, y1 = (band if t else 0), h - (band if b else 0)
    x0, x1 = (band if left else 0), w - (band if r else 0)
    if x1 <= x0 or y1 <= y0:
        raise InpaintError(f"--overlap {overlap} px covers the whole {w}x{h} photo: lower it")
    photo_part = mask[box.slices]
    photo_part[:] = 255
    photo_part[y0:y1, x0:x1] = 0
    out_alpha = None
    if alpha is not None:
        out_alpha = np.full(canvas.shape[:2], 255, np.uint8)
        out_alpha[box.slices] = alpha
    return OutpaintCanvas(image, mask, out_alpha, extension, box, overlap)


def outpaint(
    request: InpaintRequest,
    image: np.ndarray,
    extension: Extension,
    engine: Engine,
    on_event: EventCallback = ignore_events,
    cancel: CancelToken | None = None,
    *,
    overlap: int = DEFAULT_OVERLAP,
    prefill: str = "edge",
    alpha: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> tuple[OutpaintCanvas, list[InpaintResult]]:
    """Grow ``image`` by ``extension`` and fill the new area with ``engine``.

    ``mask`` (optional, photo-sized): more to fill inside the photo in the same run. Returns the
    canvas (composite each result onto ``canvas.image``) and the results.
    """
    canvas = prepare_outpaint(
        image, extension, overlap=overlap, request=request, prefill=prefill, alpha=alpha
    )
    if mask is not None:
        if mask.shape != image.shape[:2]:
            raise InpaintError(
                f"the mask is {mask.shape[1]}x{mask.shape[0]} but the photo is "
                f"{image.shape[1]}x{image.shape[0]}"
            )
        canvas.mask[canvas.photo_box.slices] = np.maximum(
            canvas.mask[canvas.photo_box.slices], mask
        )
    results = inpaint(request, canvas.image, canvas.mask, engine, on_event, cancel)
    return canvas, [replace(r, info={**r.info, "extend": extension.as_tuple()}) for r in results]
