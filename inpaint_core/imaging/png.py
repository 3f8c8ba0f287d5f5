"""Write a PNG with generation metadata: A1111 ``parameters`` + our request JSON (``inpaint_studio``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageCms, PngImagePlugin

from ..files import atomic_write

if TYPE_CHECKING:
    from ..request import InpaintRequest


@functools.cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in): every picture we write is sRGB and says so."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def save_png(
    path: str | PathLike[str],
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    request: InpaintRequest | None = None,
    seed: int | None = None,
    model_name: str | None = None,
    extra_text: Mapping[str, str] | None = None,
    compress_level: int = 6,
    seam_score: float | None = None,
) -> Path:
    """Write ``rgb`` (HxWx3 uint8, + optional HxW ``alpha``) as a PNG with generation metadata.

    With a ``request``, two text chunks are written: ``parameters`` in the A1111 format (other tools
    read it) and ``inpaint_studio``, our request as JSON, for exactly this image: ``seed`` (the
    seed that made it) replaces the request's seeds. Newlines and non-Latin-1 text survive (iTXt).
    An sRGB ICC profile is embedded (the pixels are sRGB).
    ``seam_score`` (:mod:`inpaint_core.seam`) goes into both chunks (``Seam score`` / ``seam_score``).
    Written atomically (:func:`inpaint_core.files.atomic_write`): a failed save keeps the old file.
    """
    from .. import metadata  # local: metadata imports request/schedulers

    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"save_png needs an HxWx3 uint8 image, got {rgb.dtype} {rgb.shape}")
    if alpha is not None:
        alpha = np.asarray(alpha)
        if alpha.shape != rgb.shape[:2] or alpha.dtype != np.uint8:
            raise ValueError(
                f"alpha must be HxW uint8 matching the image {rgb.shape[:2]}, got {alpha.dtype} {alpha.shape}"
            )
        im = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    else:
        im = Image.fromarray(np.ascontiguousarray(rgb), "RGB")

    chunks: dict[str, str] = {str(k): str(v) for k, v in (extra_text or {}).items()}
    if request is not None:  # ours win over stale copies passed along in extra_text
        used = metadata.request_for_output(request, seed)
        chunks[metadata.PARAMETERS_CHUNK] = metadata.format_parameters(
            used, seed, model_name, seam_score
        )
        chunks[metadata.JSON_CHUNK] = metadata.request_json(used, seam_score)
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)  # tEXt, or iTXt (UTF-8) when the text is not Latin-1

    return atomic_write(
        path,
        lambda f: im.save(
            f,
            format="PNG",
            pnginfo=info,
            compress_level=compress_level,
            icc_profile=srgb_profile(),
        ),
    )
