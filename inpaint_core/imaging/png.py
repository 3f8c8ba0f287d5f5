"""Write a PNG with generation metadata: A1111 ``parameters`` + our request JSON (``inpaint_studio``).

A picture made from a 16-bit photo is written as a 16-bit PNG (``high_bits``, see
:mod:`inpaint_core.imaging.highbits`) by :mod:`inpaint_core.imaging.png_bands` (Pillow cannot
write 16-bit RGB); its text and ICC chunks are the ones Pillow writes for the same metadata
(:func:`metadata_chunks`), so 8-bit and 16-bit exports carry the same bytes of metadata.
"""

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
from .highbits import HighBits
from .png_bands import SIGNATURE, encode_picture

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
    high_bits: HighBits | None = None,
) -> bytes:
    """The bytes :func:`save_png` writes for the same arguments (a batch worker encodes in
    parallel and its driver writes them)."""
    im, info = _png_image(rgb, alpha, request, seed, model_name, extra_text, seam_score)
    if high_bits is not None:
        return _encode16(rgb, high_bits, alpha, info, compress_level)
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
    high_bits: HighBits | None = None,
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
    ``high_bits``: the 16-bit samples of the photo ``rgb`` was made from: the file is then a
    16-bit PNG of ``high_bits.lift(rgb)`` (untouched pixels keep their 16-bit values exactly).
    """
    im, info = _png_image(rgb, alpha, request, seed, model_name, extra_text, seam_score)
    if high_bits is not None:
        data = _encode16(rgb, high_bits, alpha, info, compress_level)
        return atomic_write(path, lambda f: f.write(data))
    return atomic_write(path, lambda f: _write_png(im, info, f, compress_level))


def _encode16(
    rgb: np.ndarray,
    high_bits: HighBits,
    alpha: np.ndarray | None,
    info: PngImagePlugin.PngInfo,
    compress_level: int,
) -> bytes:
    """A 16-bit PNG of ``high_bits.lift(rgb)`` (+ alpha) with the metadata of ``info`` and the
    sRGB profile."""
    return encode_picture(
        rgb,
        alpha,
        high_bits=high_bits,
        compress_level=compress_level,
        chunks=metadata_chunks(info, srgb_profile()),
    )


_CRITICAL = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole chunk bytes) of every chunk of ``png``."""
    out = []
    pos = len(SIGNATURE)
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        end = pos + 12 + length
        out.append((kind, png[pos:end]))
        pos = end
    return out


def metadata_chunks(info: PngImagePlugin.PngInfo | None, icc_profile: bytes | None) -> bytes:
    """The ancillary chunks (iCCP, tEXt, iTXt, zTXt ...) Pillow writes for ``info`` and
    ``icc_profile``: taken from Pillow's encoding of a 1x1 picture, so the text and profile are
    encoded by the same code as in every 8-bit PNG we write."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, format="PNG", pnginfo=info, icc_profile=icc_profile)
    return b"".join(c for kind, c in _chunks(buffer.getvalue()) if kind not in _CRITICAL)


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
