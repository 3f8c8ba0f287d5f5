"""Write a PNG with generation metadata: A1111 ``parameters`` + our request JSON (``inpaint_studio``).

A picture made from a 16-bit photo is written as a 16-bit PNG (``high_bits``, see
:mod:`inpaint_core.imaging.highbits`). Pillow cannot write 16-bit RGB PNGs, OpenCV can (and
releases the GIL while it compresses) but writes no text or ICC chunks: so OpenCV encodes the
pixels and Pillow's own encoding of the same metadata (on a 1x1 picture) gives the chunks, spliced
in after the header (:func:`encode_png16`).
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from PIL import Image, ImageCms, PngImagePlugin

from ..files import atomic_write
from .highbits import HighBits

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
    return encode_png16(
        rgb,
        high_bits,
        alpha=alpha,
        compress_level=compress_level,
        chunks=metadata_chunks(info, srgb_profile()),
    )


def encode_png16(
    rgb: np.ndarray,
    high_bits: HighBits,
    *,
    alpha: np.ndarray | None = None,
    compress_level: int = 6,
    chunks: bytes = b"",
) -> bytes:
    """A 16-bit RGB (RGBA with ``alpha``, scaled x257) PNG of ``high_bits.lift(rgb)``, with
    ``chunks`` (whole PNG chunks, e.g. :func:`metadata_chunks`) after the header.

    Built in one buffer in OpenCV's channel order (no RGB copy besides it): an 8K picture costs
    its 16-bit size once (~200 MB), and the encoder runs without the GIL.
    """
    h, w = rgb.shape[:2]
    buf = np.empty((h, w, 3 if alpha is None else 4), np.uint16)
    high_bits.lift(rgb, out=buf[..., 2::-1])  # BGR: OpenCV's order
    if alpha is not None:
        if alpha.shape != (h, w) or alpha.dtype != np.uint8:
            raise ValueError(f"alpha must be {w}x{h} uint8, got {alpha.dtype} {alpha.shape}")
        np.multiply(alpha, 257, out=buf[..., 3], dtype=np.uint16)
    level = min(max(int(compress_level), 0), 9)
    ok, encoded = cv2.imencode(".png", buf, [cv2.IMWRITE_PNG_COMPRESSION, level])
    del buf
    if not ok:
        raise ValueError(f"OpenCV could not encode a {w}x{h} 16-bit PNG")
    return splice_chunks(encoded.tobytes(), chunks)


_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IHDR_END = 8 + 4 + 4 + 13 + 4  # signature, then IHDR: length, type, 13 bytes, CRC
_CRITICAL = {b"IHDR", b"PLTE", b"IDAT", b"IEND"}


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole chunk bytes) of every chunk of ``png``."""
    out = []
    pos = len(_SIGNATURE)
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


def splice_chunks(png: bytes, chunks: bytes) -> bytes:
    """``png`` with ``chunks`` inserted right after its IHDR (where iCCP must come, before IDAT)."""
    if png[:8] != _SIGNATURE or png[12:16] != b"IHDR":
        raise ValueError("not a PNG starting with its IHDR chunk")
    return png[:_IHDR_END] + chunks + png[_IHDR_END:] if chunks else png


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
