"""Write a PNG with generation metadata: A1111 ``parameters`` + our request JSON (``inpaint_studio``)."""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageCms, PngImagePlugin

from ..files import atomic_write

if TYPE_CHECKING:
    from ..request import InpaintRequest


#: the ICC header's creation date (bytes 24-35), fixed: LittleCMS stamps the current time, which
#: would make the same picture encode to different bytes in two processes (batch vs run, Ray)
_ICC_DATE = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)


@functools.cache
def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in): every picture we write is sRGB and says so.
    The same bytes in every process (its header date is fixed; LittleCMS leaves the profile ID 0,
    so no checksum covers the date)."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[24:36] = _ICC_DATE
    return bytes(data)


def encode_png(
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    request: InpaintRequest | None = None,
    seed: int | None = None,
    model_name: str | None = None,
    extra_text: Mapping[str, str] | None = None,
    compress_level: int = 6,
    seam_score: float | None = None,
) -> bytes:
    """The bytes :func:`save_png` writes for the same arguments (a batch worker encodes in
    parallel and its driver writes them)."""
    im, info = _png_image(rgb, alpha, request, seed, model_name, extra_text, seam_score)
    buffer = io.BytesIO()
    _write_png(im, info, buffer, compress_level)
    return buffer.getvalue()


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
    Written atomically (:func:`inpaint_core.files.atomic_write`, encoded straight into the temp
    file): a failed save keeps the old file. A user's picture goes through
    :func:`inpaint_core.document.export_picture` (the one picture writer), which calls this.
    """
    im, info = _png_image(rgb, alpha, request, seed, model_name, extra_text, seam_score)
    return atomic_write(path, lambda f: _write_png(im, info, f, compress_level))


def _write_png(im: Image.Image, info: PngImagePlugin.PngInfo, f: Any, compress_level: int) -> None:
    im.save(
        f, format="PNG", pnginfo=info, compress_level=compress_level, icc_profile=srgb_profile()
    )


def _png_image(
    rgb: np.ndarray,
    alpha: np.ndarray | None,
    request: InpaintRequest | None,
    seed: int | None,
    model_name: str | None,
    extra_text: Mapping[str, str] | None,
    seam_score: float | None,
) -> tuple[Image.Image, PngImagePlugin.PngInfo]:
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
    return im, info
