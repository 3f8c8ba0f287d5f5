"""One generation end to end: region around the mask → engine → paste back at full resolution."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from . import compose, masks, region, seam
from .engines import registry, soft_inpaint
from .engines.base import Engine
from .errors import InpaintError
from .events import CancelToken, EngineEvent, EventCallback, ignore_events
from .masks import BBox
from .request import InpaintRequest


@dataclass
class InpaintResult:
    """One output. ``patch`` holds the final pixels of ``box``; the rest of the photo is unchanged.

    Keeping results as patches (not full-size copies) makes a 6000x4000 scan as cheap as a 512² crop
    and lets the GUI keep many candidates.
    """

    box: BBox
    patch: np.ndarray
    seed: int | None
    request: InpaintRequest
    nsfw_flagged: bool = False
    grid_image: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def composite(self, photo: np.ndarray) -> np.ndarray:
        """A full-size copy of ``photo`` with this result pasted in."""
        out = photo.copy()
        self.apply_inplace(out)
        return out

    def apply_inplace(self, photo: np.ndarray) -> None:
        photo[self.box.slices] = self.patch


def _rgb_of(image: Any) -> np.ndarray:
    rgb = getattr(image, "rgb", image)
    if (
        not isinstance(rgb, np.ndarray)
        or rgb.ndim != 3
        or rgb.shape[2] != 3
        or rgb.dtype != np.uint8
    ):
        raise InpaintError("the photo must be an RGB uint8 image (H, W, 3)")
    return rgb


def plan_for(
    request: InpaintRequest, mask: np.ndarray, engine: str | type | Engine
) -> region.Region:
    """The region a request will work on. ``engine``: a registered name, an engine class or an
    instance; only its declared capabilities are read (no engine is created)."""
    margin = compose.composite_margin(request.mask_grow, request.mask_feather)
    return region.plan_region(
        mask,
        padding=request.mask_padding,
        margin=margin,
        native=registry.capabilities(engine).native_resolution,
        target_size=request.target_size,
        width=request.width,
        height=request.height,
    )


def _placing_previews(on_event: EventCallback, reg: region.Region, mask_crop: np.ndarray):
    """Wrap ``on_event`` so previews leave here placed on the photo: ``box`` set, and the mask as
    ``preview_alpha`` at the preview's size (front ends draw them without any maths)."""
    alpha: list[np.ndarray] = []

    def forward(event: EngineEvent) -> None:
        if event.kind == "preview" and event.preview is not None and event.box is None:
            h, w = event.preview.shape[:2]
            if not alpha or alpha[0].shape != (h, w):
                binary = np.where(mask_crop > 0, 255, 0).astype(np.uint8)
                if binary.shape != (h, w):
                    binary = cv2.resize(binary, (w, h), interpolation=cv2.INTER_AREA)
                alpha[:] = [binary]
            event.box = reg.box
            event.preview_alpha = alpha[0]
        on_event(event)

    return forward


def inpaint(
    request: InpaintRequest,
    image: Any,
    mask: np.ndarray,
    engine: Engine,
    on_event: EventCallback = ignore_events,
    cancel: CancelToken | None = None,
    *,
    resize_mask: bool = False,
) -> list[InpaintResult]:
    """Fill ``mask`` in ``image`` (LoadedImage or RGB uint8 array) with ``engine``.

    Pixels outside the grown + feathered mask are bit-identical to the input. The region is
    planned here, once; ``preview`` events reach ``on_event`` placed on the photo (``box``).
    """
    rgb = _rgb_of(image)
    h, w = rgb.shape[:2]
    mask = masks.validate_mask(mask, (w, h), resize=resize_mask)
    cancel = cancel or CancelToken()
    resolved = request.resolved()
    reg = plan_for(resolved, mask, engine)

    original_crop = rgb[reg.box.slices]
    mask_crop = np.ascontiguousarray(mask[reg.box.slices])
    engine_mask_full = masks.grow(mask_crop, resolved.mask_grow)
    grid_image = region.to_grid(reg, rgb)
    grid_mask = region.mask_to_grid(
        region.Region(BBox(0, 0, reg.box.width, reg.box.height), reg.grid), engine_mask_full
    )
    alpha = compose.blend_alpha(mask_crop, resolved.mask_grow, resolved.mask_feather)
    if resolved.soft_inpainting_active() and getattr(engine, "soft_masks", False):
        # soft inpainting: the feather band rides in the mask as 1..254 (engines/soft_inpaint.py)
        grid_mask = soft_inpaint.soft_grid_mask(reg, alpha, grid_mask)
    cancel.raise_if_cancelled()
    outputs = engine.run(
        resolved, grid_image, grid_mask, _placing_previews(on_event, reg, mask_crop), cancel
    )

    results: list[InpaintResult] = []
    for out in outputs:
        # An output made in a batch (an engine's ``max_batch`` > 1) records it: kernels round per
        # batch size, so re-running its saved parameters makes the same batch and keeps this one
        # output (bit for bit). One made alone records none (a stale one from a loaded PNG goes).
        batch = tuple(int(s) for s in out.info.pop("batch_seeds", None) or ())
        options = replace(
            resolved.options,
            batch_seeds=batch or None,
            max_batch=len(batch) if batch else resolved.options.max_batch,
            # the CPU thread count it was made with (a diffusion run on the CPU; else none)
            cpu_threads=out.info.pop("cpu_threads", None),
        )
        filled = region.from_grid(reg, out.image)
        if resolved.color_match:
            filled = compose.color_match(filled, original_crop, engine_mask_full)
        patch = compose.composite(original_crop, filled, alpha)
        # -- seam score (inpaint_core.seam): lower = the fill meets the photo more smoothly
        score = seam.seam_score(patch, original_crop, alpha, known=mask_crop == 0)
        single = replace(
            resolved,
            seed=out.seed if out.seed is not None else resolved.seed,
            seeds=None,
            num_outputs=1,
            options=options,
        )
        results.append(
            InpaintResult(
                box=reg.box,
                patch=patch,
                seed=out.seed,
                request=single,
                nsfw_flagged=out.nsfw_flagged,
                grid_image=out.image,
                info={
                    **out.info,
                    "grid": reg.grid,
                    "seam_score": None if score is None else round(score, 4),
                },
            )
        )
    return results
