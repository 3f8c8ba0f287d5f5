"""A PNG encoder that works in bands of rows, for the big layers of a project and 16-bit pictures.

Why not Pillow or OpenCV for these (they still write every small and 8-bit exported PNG):

- **progress**: a band at a time, so a save of one 8K photo can say how far it is (``on_rows``),
  where one ``Image.save`` call is one long silent step;
- **16 bits**: Pillow cannot write 16-bit RGB; a band is lifted from the 8-bit picture and the
  16-bit samples (:mod:`inpaint_core.imaging.highbits`) when it is encoded, so a 48 MP 16-bit
  picture never exists whole in memory (~300 MB saved), and any chunks (text, ICC) go in directly;
- **short steps**: each band is ~1 MB of pixels; numpy's filter and zlib both run without the GIL,
  so a GUI thread next to an autosave never waits long for it;
- **speed**: one filter (PNG "Up": each row minus the row above, per byte) instead of Pillow's
  adaptive choice per row: measured on a 6000x4000 photo at zlib level 1, 1.3 s instead of 3.0 s
  (Pillow) or 2.2 s (OpenCV), for a file 1 % larger.

The output is a plain PNG (signature, IHDR, optional PLTE/tRNS, the caller's chunks, IDAT per band,
IEND) that every reader opens; the tests read it back with Pillow and OpenCV.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

import numpy as np

from .highbits import HighBits

SIGNATURE = b"\x89PNG\r\n\x1a\n"
BAND_BYTES = 1 << 20
"""Raw pixel bytes per band (a few dozen rows of a big photo)."""

_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)
_UP = 2  # PNG filter type "Up"

RowsCallback = Callable[[int], None]
"""``on_rows(n)``: ``n`` more rows are encoded (called from the encoding thread)."""


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC of type + data."""
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_bands(
    width: int,
    height: int,
    channels: int,
    band: Callable[[int, int], np.ndarray],
    *,
    bit_depth: int = 8,
    palette: bytes | None = None,
    transparency: bytes | None = None,
    chunks: bytes = b"",
    compress_level: int = 6,
    on_rows: RowsCallback | None = None,
) -> bytes:
    """A PNG of ``height`` rows that ``band(y0, y1)`` gives a band at a time: an array of
    ``(y1 - y0, width, channels)`` (or ``(y1 - y0, width)``) samples, uint8 for ``bit_depth`` 8 and
    uint16 for 16. ``palette`` (RGB triplets) makes it an indexed PNG (``channels`` 1, the
    samples are indices; ``transparency``: the tRNS alpha per index). ``chunks``: whole chunks
    (text, ICC profile...) written before the pixels."""
    if bit_depth not in (8, 16) or channels not in _COLOUR_TYPE or width < 1 or height < 1:
        raise ValueError(f"cannot encode {width}x{height}, {channels} channels of {bit_depth} bits")
    row_bytes = width * channels * bit_depth // 8
    colour_type = 3 if palette is not None else _COLOUR_TYPE[channels]
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    out = [SIGNATURE, chunk(b"IHDR", header)]
    if palette is not None:
        out.append(chunk(b"PLTE", palette))
        if transparency is not None:
            out.append(chunk(b"tRNS", transparency))
    out.append(chunks)
    z = zlib.compressobj(min(max(int(compress_level), 0), 9))
    prev = np.zeros(row_bytes, np.uint8)  # the row above the first one: zeros, as PNG says
    step = max(1, BAND_BYTES // row_bytes)
    for y0 in range(0, height, step):
        y1 = min(height, y0 + step)
        samples = np.asarray(band(y0, y1))
        expected = np.uint8 if bit_depth == 8 else np.uint16
        if samples.dtype != expected or samples.size != (y1 - y0) * width * channels:
            raise ValueError(f"band {y0}-{y1}: got {samples.dtype} {samples.shape}")
        if bit_depth == 16:
            samples = samples.astype(">u2")  # PNG is big-endian
        raw = np.ascontiguousarray(samples).view(np.uint8).reshape(y1 - y0, row_bytes)
        rows = np.empty((y1 - y0, row_bytes + 1), np.uint8)
        rows[:, 0] = _UP
        np.subtract(raw[0], prev, out=rows[0, 1:])  # bytes wrap around, as the filter wants
        np.subtract(raw[1:], raw[:-1], out=rows[1:, 1:])
        prev = raw[-1].copy()
        data = z.compress(rows)
        if data:
            out.append(chunk(b"IDAT", data))
        if on_rows is not None:
            on_rows(y1 - y0)
    out.append(chunk(b"IDAT", z.flush()))
    out.append(chunk(b"IEND", b""))
    return b"".join(out)


def encode_picture(
    rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    *,
    high_bits: HighBits | None = None,
    compress_level: int = 6,
    chunks: bytes = b"",
    on_rows: RowsCallback | None = None,
) -> bytes:
    """``rgb`` (HxWx3 uint8, + HxW uint8 ``alpha``) as an RGB(A) PNG; with ``high_bits`` a 16-bit
    one of ``high_bits.lift(rgb)`` (alpha scaled x257), lifted band by band."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"a picture must be HxWx3 uint8, got {rgb.dtype} {rgb.shape}")
    h, w = rgb.shape[:2]
    if alpha is not None and (alpha.shape != (h, w) or alpha.dtype != np.uint8):
        raise ValueError(f"alpha must be {w}x{h} uint8, got {alpha.dtype} {alpha.shape}")
    channels = 3 if alpha is None else 4

    def band(y0: int, y1: int) -> np.ndarray:
        if high_bits is None:
            return rgb[y0:y1] if alpha is None else np.dstack([rgb[y0:y1], alpha[y0:y1]])
        out = np.empty((y1 - y0, w, channels), np.uint16)
        moved = HighBits(high_bits.samples, high_bits.x, high_bits.y - y0)
        moved.lift(rgb[y0:y1], out=out[..., :3])
        if alpha is not None:
            np.multiply(alpha[y0:y1], 257, out=out[..., 3], dtype=np.uint16)
        return out

    return encode_bands(
        w,
        h,
        channels,
        band,
        bit_depth=8 if high_bits is None else 16,
        chunks=chunks,
        compress_level=compress_level,
        on_rows=on_rows,
    )


def encode_grey(
    grey: np.ndarray,
    *,
    palette: bytes | None = None,
    transparency: bytes | None = None,
    compress_level: int = 6,
    on_rows: RowsCallback | None = None,
) -> bytes:
    """HxW uint8 as a grey PNG, or, with ``palette``, as indices into it (an indexed PNG)."""
    grey = np.asarray(grey)
    if grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError(f"a grey picture must be HxW uint8, got {grey.dtype} {grey.shape}")
    h, w = grey.shape
    return encode_bands(
        w,
        h,
        1,
        lambda y0, y1: grey[y0:y1],
        palette=palette,
        transparency=transparency,
        compress_level=compress_level,
        on_rows=on_rows,
    )
