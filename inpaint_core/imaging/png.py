"""Write a PNG with generation metadata: A1111 ``parameters`` + our request JSON (``inpaint_studio``)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, PngImagePlugin

from ..files import atomic_write_bytes

if TYPE_CHECKING:
    from ..request import InpaintRequest


def encode_png(
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    request: InpaintRequest | None = None,
    seed: int | None = None,
    model_name: str | None = None,
    extra_text: Mapping[str, str] | None = None,
    compress_level: int = 6,
) -> bytes:
    """Write ``rgb`` (HxWx3 uint8, + optional HxW ``alpha``) as a PNG with generation metadata.

    With a ``request``, two text chunks are written: ``parameters`` in the A1111 format (other tools
    read it) and ``inpaint_studio``, our request as JSON, for exactly this image: ``seed`` (the
    seed that made it) replaces the request's seeds. Newlines and non-Latin-1 text survive (iTXt).
    Returns the file's bytes (:func:`save_png` writes them; a batch worker encodes in parallel
    and its driver writes).
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
        chunks[metadata.PARAMETERS_CHUNK] = metadata.format_parameters(used, seed, model_name)
        chunks[metadata.JSON_CHUNK] = used.to_json()
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)  # tEXt, or iTXt (UTF-8) when the text is not Latin-1

    buffer = io.BytesIO()
    im.save(buffer, format="PNG", pnginfo=info, compress_level=compress_level)
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
) -> Path:
    """Write :func:`encode_png`'s bytes atomically (:func:`inpaint_core.files.atomic_write_bytes`):
    a failed save keeps the old file."""
    data = encode_png(
        rgb,
        alpha=alpha,
        request=request,
        seed=seed,
        model_name=model_name,
        extra_text=extra_text,
        compress_level=compress_level,
    )
    return atomic_write_bytes(path, data)
