"""Decode image bytes into upright 8-bit sRGB RGB + alpha: Pillow modes, ICC profiles, EXIF orientation.

A 16-bit photo also keeps its 16-bit RGB samples (:attr:`Decoded.rgb16`, see
:mod:`inpaint_core.imaging.highbits`), and its 8-bit picture is their rounded reduction. Pillow
reads 16-bit grey itself; 16-bit RGB(A) PNG and TIFF, which Pillow brings to 8 bits, are decoded
again by OpenCV. The 16-bit samples are dropped (with a note) when the photo's ICC profile needs a
conversion to sRGB: LittleCMS converts our 8-bit picture, and the 16-bit one would then disagree.
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageCms, PngImagePlugin

from ..errors import ImageLoadError, ImageTooLargeError
from .highbits import reduce16
from .sources import MAX_PIXELS_ENV

# Formats we decode. Restricting the list keeps Pillow's exotic plugins (EPS runs Ghostscript) out.
_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF", "AVIF")
_FORMAT_NAMES = "PNG, JPEG, WebP, BMP, TIFF or GIF"

# EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


# -- decoding ---------------------------------------------------------------------------------


def _identify(data: bytes, label: str) -> Image.Image:
    """``Image.open`` restricted to :data:`_FORMATS`, minus its decompression-bomb check.

    Pillow's check reads a process-wide global (``Image.MAX_IMAGE_PIXELS``: a warning at 89 MP, an
    error at 179 MP). Ours is per call (``max_pixels``) and applied right after, from the header;
    switching the global off meanwhile would switch it off for every other thread too. So this does
    what ``Image.open`` does (each plugin's ``accept`` on the first bytes, then its factory, which
    reads the header only) without the global: nothing here touches Pillow's settings.
    """
    Image.init()
    prefix = data[:16]
    for fmt in _FORMATS:
        entry = Image.OPEN.get(fmt)
        if entry is None:
            continue
        factory, accept = entry
        try:
            result = not accept or accept(prefix)
            if not result or isinstance(result, str):
                continue
            return factory(io.BytesIO(data), "")
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue  # this plugin does not take it: try the next, as Image.open does
        except Image.DecompressionBombError as exc:  # a plugin's own check (GIF frames)
            raise ImageTooLargeError(f"{label}: {exc}") from None
        except Exception as exc:  # a plugin choking on a damaged header
            raise ImageLoadError(f"{label}: damaged image header ({exc})") from None
    raise ImageLoadError(f"{label}: not a recognised image (expected {_FORMAT_NAMES})")


def open_header(data: bytes, label: str, max_pixels: int) -> Image.Image:
    """Identify the format and read the header only; check the pixel ceiling before decoding."""
    if not isinstance(max_pixels, int) or isinstance(max_pixels, bool) or max_pixels <= 0:
        raise ImageLoadError(f"max_pixels must be a positive number of pixels, got {max_pixels!r}")
    im = _identify(data, label)
    w, h = im.size
    if w <= 0 or h <= 0:
        raise ImageLoadError(f"{label}: the image claims a size of {w}x{h}")
    if w * h > max_pixels:
        raise ImageTooLargeError(
            f"{label}: {w}x{h} is {w * h / 1e6:.1f} megapixels, over the limit of "
            f"{max_pixels / 1e6:.1f} megapixels (a decompression bomb, or a very large image: raise "
            f"the limit with max_pixels= or the {MAX_PIXELS_ENV} environment variable)"
        )
    return im


def decode_pixels(im: Image.Image, label: str) -> None:
    try:
        im.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeError(f"{label}: {exc}") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        msg = str(exc) or type(exc).__name__
        if "truncated" in msg or isinstance(exc, EOFError):
            msg = f"the file is truncated or damaged ({msg})"
        raise ImageLoadError(f"{label}: cannot decode the image: {msg}") from None
    except MemoryError:
        raise ImageTooLargeError(f"{label}: not enough memory to decode the image") from None


def _split_modes(im: Image.Image) -> tuple[Image.Image, np.ndarray | None]:
    """Bring any Pillow mode to an 8-bit base image (L, RGB, CMYK or LAB) and a separate alpha."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        a = np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
        return Image.fromarray(reduce16(a), "L"), None
    if mode == "F":
        a = np.nan_to_num(np.asarray(im, dtype=np.float32))
        a = a * 255.0 if a.size and 0.0 <= a.min() and a.max() <= 1.0 else a
        return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L"), None
    if mode == "1":
        return im.convert("L"), None
    if mode in ("P", "PA"):
        if mode == "PA" or im.has_transparency_data:
            im = im.convert("RGBA")
            mode = "RGBA"
        else:
            return im.convert("RGB"), None
    if mode == "La":
        im, mode = im.convert("LA"), "LA"
    if mode == "RGBa":
        im, mode = im.convert("RGBA"), "RGBA"
    if mode in ("LA", "RGBA"):
        alpha = np.asarray(im.getchannel("A"))
        base = im.convert(mode[:-1])
        return base, alpha
    if mode in ("L", "RGB", "CMYK", "LAB"):
        return im, None
    if mode == "RGBX":
        return im.convert("RGB"), None
    return im.convert("RGB"), None  # YCbCr, HSV and anything else Pillow knows how to convert


_SPACE_FOR_MODE = {"RGB": "RGB", "L": "GRAY", "CMYK": "CMYK", "LAB": "LAB"}


def _to_srgb(base: Image.Image, icc: bytes | None, notes: list[str]) -> Image.Image:
    srgb = ImageCms.createProfile("sRGB")
    if base.mode == "LAB" and not icc:
        return ImageCms.profileToProfile(
            base, ImageCms.createProfile("LAB"), srgb, outputMode="RGB"
        )
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            space = profile.profile.xcolor_space.strip().upper()
            desc = (profile.profile.profile_description or "").strip()
        except (OSError, ImageCms.PyCMSError, ValueError, TypeError) as exc:
            notes.append(f"ignored a damaged ICC profile ({exc})")
        else:
            if space != _SPACE_FOR_MODE.get(base.mode):
                notes.append(f"ignored an ICC profile for {space} on a {base.mode} image")
            elif space == "RGB" and re.match(r"srgb\b", desc, re.IGNORECASE):
                pass  # already sRGB: a transform would be an ~identity costing 0.8 s per 48 MP
            else:
                try:
                    if base.mode == "L":
                        return _grey_to_srgb(base, profile, srgb, desc or space, notes)
                    out = ImageCms.profileToProfile(
                        base,
                        profile,
                        srgb,
                        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
                        outputMode="RGB",
                    )
                except (ImageCms.PyCMSError, ValueError, OSError) as exc:
                    notes.append(f"ignored an ICC profile LittleCMS could not use ({exc})")
                else:
                    assert out is not None
                    notes.append(f"converted from ICC profile {desc or space!r} to sRGB")
                    return out
    if base.mode == "LAB":
        return ImageCms.profileToProfile(
            base, ImageCms.createProfile("LAB"), srgb, outputMode="RGB"
        )
    return base if base.mode == "RGB" else base.convert("RGB")


def _grey_to_srgb(
    base: Image.Image, profile: ImageCms.ImageCmsProfile, srgb: object, name: str, notes: list[str]
) -> Image.Image:
    """Grey has 256 levels: transform a ramp exactly (no LittleCMS 8-bit shortcuts, which are off by
    up to 10 levels in the darks of a linear-light profile) and look every pixel up in it."""
    ramp = Image.fromarray(np.arange(256, dtype=np.uint8)[None, :], "L")
    out = ImageCms.profileToProfile(
        ramp,
        profile,
        srgb,
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        outputMode="RGB",
        flags=ImageCms.Flags.NOOPTIMIZE,
    )
    assert out is not None
    lut = np.asarray(out)[0]
    notes.append(f"converted from ICC profile {name!r} to sRGB")
    return Image.fromarray(lut[np.asarray(base)], "RGB")


def _orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(0x0112, 1)
        return int(value)
    except Exception:  # a damaged EXIF block must not stop the photo from loading
        return 1


def _text_chunks(im: Image.Image) -> dict[str, str]:
    text: dict[str, str] = {}
    if isinstance(im, PngImagePlugin.PngImageFile):
        try:
            text = {str(k): str(v) for k, v in im.text.items()}
        except Exception:
            text = {}
    else:
        comment = _exif_user_comment(im)
        if comment:
            text["parameters"] = comment  # where A1111 puts its parameters in JPEG/WebP
    return text


def _exif_user_comment(im: Image.Image) -> str | None:
    try:
        raw = im.getexif().get_ifd(0x8769).get(0x9286)
    except Exception:
        return None
    if isinstance(raw, str):
        return raw.strip("\x00 ") or None
    if not isinstance(raw, bytes) or len(raw) < 8:
        return None
    prefix, body = raw[:8], raw[8:]
    if prefix.startswith(b"UNICODE"):
        # EXIF says UCS-2 in the file's byte order; writers disagree, so take the one that reads as text
        for enc in ("utf-16-be", "utf-16-le"):
            try:
                s = body.decode(enc)
            except UnicodeDecodeError:
                continue
            if s and sum(c.isprintable() or c in "\n\t" for c in s) >= 0.95 * len(s):
                return s.rstrip("\x00")
        return None
    try:
        return body.decode("utf-8").rstrip("\x00 ") or None
    except UnicodeDecodeError:
        return body.decode("latin-1").rstrip("\x00 ") or None


@dataclass
class Decoded:
    """What :func:`decode` makes of a file (see the package docstring)."""

    rgb: np.ndarray  # HxWx3 uint8 sRGB, upright
    alpha: np.ndarray | None  # HxW uint8, None when opaque
    format: str
    text: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: HxWx3 uint16 RGB of a 16-bit file (grey repeated), upright; ``rgb`` is its reduction
    rgb16: np.ndarray | None = None


def _orient(a: np.ndarray, orientation: int) -> np.ndarray:
    """numpy's version of ``Image.transpose(_ORIENTATION[orientation])`` (rows, columns, ...)."""
    if orientation == 2:
        return a[:, ::-1]
    if orientation == 3:
        return a[::-1, ::-1]
    if orientation == 4:
        return a[::-1]
    if orientation == 5:
        return a.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(a, -1)
    if orientation == 7:
        return a[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(a, 1)
    return a


def _deep_kind(data: bytes, im: Image.Image) -> str | None:
    """ "grey" for 16-bit grey (Pillow has it), "colour" for 16-bit RGB(A) PNG/TIFF (OpenCV
    decodes it), None for anything else (8-bit, palettes, CMYK, animations...)."""
    if getattr(im, "is_animated", False):
        return None
    if im.mode.startswith("I;16") or im.mode == "I":
        return "grey"
    if im.mode not in ("RGB", "RGBA", "LA"):
        return None
    if im.format == "PNG":
        return "colour" if len(data) > 25 and data[24] == 16 and data[25] in (2, 4, 6) else None
    if im.format == "TIFF":
        try:
            bits = im.tag_v2.get(258)  # type: ignore[attr-defined]
        except Exception:
            return None
        bits = tuple(bits) if isinstance(bits, tuple | list) else (bits,)
        return "colour" if bits and all(b == 16 for b in bits) else None
    return None


def _deep_samples(
    data: bytes, im: Image.Image, kind: str
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(HxWx3 uint16 RGB, HxW uint16 alpha or None) as stored (not yet upright), or None.
    For "colour", ``im`` may be closed already: only its size is read."""
    if kind == "grey":
        grey = np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
        return np.repeat(grey[..., None], 3, axis=2), None
    try:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None
    if pixels is None or pixels.dtype != np.uint16 or pixels.shape[:2] != im.size[::-1]:
        return None
    if pixels.ndim == 2:
        return np.repeat(pixels[..., None], 3, axis=2), None
    if pixels.shape[2] == 4:
        rgb = np.ascontiguousarray(pixels[..., 2::-1])
        return rgb, np.ascontiguousarray(pixels[..., 3])
    if pixels.shape[2] == 3:
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB, dst=pixels), None  # in place
    return None


def decode(data: bytes, label: str, max_pixels: int, *, keep_16: bool = True) -> Decoded:
    """``data`` -> :class:`Decoded` (rgb, alpha, format, text, notes, rgb16); see the package
    docstring. ``keep_16=False``: 8 bits only (``rgb16`` None)."""
    im = open_header(data, label, max_pixels)
    notes: list[str] = []
    try:
        if getattr(im, "is_animated", False):  # Pillow stays on (or returns to) frame 0
            notes.append("took the first frame of an animation")
    except Exception:  # a damaged later frame: the first one may still decode
        pass
    decode_pixels(im, label)
    try:
        deep_kind = _deep_kind(data, im) if keep_16 else None
    except Exception:  # a damaged animation or tag: read it as 8-bit
        deep_kind = None
    fmt = im.format or ""
    orientation = _orientation(im)
    text = _text_chunks(im)
    try:
        base, alpha = _split_modes(im)
        rgb_im: Image.Image | None = _to_srgb(base, im.info.get("icc_profile"), notes)
    except (ValueError, OSError, ImageCms.PyCMSError) as exc:
        raise ImageLoadError(f"{label}: cannot convert {im.mode} pixels to RGB ({exc})") from None
    rgb16 = None
    if deep_kind is not None:
        if any(n.startswith("converted from ICC") for n in notes):
            notes.append("kept 8 bits per channel: the colour profile was converted in 8 bits")
        else:
            if deep_kind == "colour":  # OpenCV decodes it: free Pillow's 8-bit copy first
                rgb_im = base = None
                im.close()
            deep = _deep_samples(data, im, deep_kind)
            if deep is None:  # OpenCV refused what Pillow read: read it again, in 8 bits
                again = decode(data, label, max_pixels, keep_16=False)
                again.notes.append("read 8 bits per channel: OpenCV could not decode the file")
                return again
            rgb16 = np.ascontiguousarray(_orient(deep[0], orientation))
            rgb_im = None  # the 8-bit picture is the 16-bit one's reduction (below)
            if deep[1] is not None:
                alpha = reduce16(deep[1])
    transpose = _ORIENTATION.get(orientation)
    if transpose is not None:
        if rgb_im is not None:
            rgb_im = rgb_im.transpose(transpose)
        if alpha is not None:
            alpha = np.asarray(Image.fromarray(alpha).transpose(transpose))
        notes.append(f"applied EXIF orientation {orientation}")
    if rgb16 is not None:
        rgb = reduce16(rgb16)
    else:
        assert rgb_im is not None
        rgb = np.asarray(rgb_im, dtype=np.uint8)
        if not rgb.flags.writeable:
            rgb = rgb.copy()
    if alpha is not None:
        alpha = np.ascontiguousarray(alpha, dtype=np.uint8)
        if int(alpha.min()) == 255:
            alpha = None
    return Decoded(rgb, alpha, fmt, text, notes, rgb16)
