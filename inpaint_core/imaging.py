"""Load any photo (path, bytes or http(s) URL) as upright 8-bit sRGB; save PNGs with generation metadata.

Everything that reaches the rest of the engine went through :func:`load_image`, so the rest of the
engine can assume one shape: ``rgb`` HxWx3 uint8 in sRGB, EXIF orientation applied, plus an optional
HxW uint8 ``alpha``. The loader is defensive: byte and pixel limits are checked before anything is
decoded, only a short list of formats is accepted (no EPS/Ghostscript and the like), and every
failure becomes an :class:`~inpaint_core.errors.ImageLoadError` that names the file and the problem.

Choices worth knowing:

- ``alpha`` is ``None`` when the file has no alpha channel *or* its alpha is fully opaque: one check
  (``alpha is None``) then means "opaque", and an 8K opaque RGBA photo does not carry 48 MB of 255s.
- 16-bit samples are scaled to 8 bits (65535 -> 255, 32768 -> 128), never clipped. Pillow itself
  reduces 16-bit RGB(A) PNG/TIFF to 8 bits by keeping the high byte, which is the same scaling.
  A 32-bit integer ("I") image is taken to hold 16-bit values (what Pillow makes of 16-bit files);
  a float ("F") image is taken as 0..1 when all its values lie there, else as 0..255.
- An embedded ICC profile is converted to sRGB with LittleCMS; a profile that says it is sRGB is
  trusted as-is (saves ~0.8 s on a 48 MP photo), a broken or mismatched one is ignored (as browsers do)
  and noted in ``LoadedImage.notes``.
- Animated files (GIF, APNG, WebP) give their first frame.
"""

from __future__ import annotations

import io
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageCms, PngImagePlugin, UnidentifiedImageError

from .errors import ImageLoadError, ImageTooLargeError, MaskError

if TYPE_CHECKING:
    from .request import InpaintRequest

MAX_BYTES = 50 * 1024 * 1024
"""Default byte limit per file (path, bytes or URL download): 50 MiB."""

DEFAULT_MAX_PIXELS = 150_000_000
"""Default pixel ceiling: an 8000x6000 photo (48 MP) or a 12000x9000 scan (108 MP) load; a bomb does not."""

MAX_PIXELS_ENV = "INPAINT_MAX_PIXELS"

# Formats we decode. Restricting the list keeps Pillow's exotic plugins (EPS runs Ghostscript) out.
_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF", "AVIF")
_FORMAT_NAMES = "PNG, JPEG, WebP, BMP, TIFF or GIF"

_USER_AGENT = "inpaint-studio (+https://github.com/)"
_CHUNK = 64 * 1024
# Content types we accept from a server besides image/*: some servers label everything as bytes.
_BINARY_TYPES = ("application/octet-stream", "binary/octet-stream")

_pil_limit_lock = threading.Lock()

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


@dataclass
class LoadedImage:
    """A decoded photo: upright, sRGB, 8-bit RGB, with its alpha kept apart."""

    rgb: np.ndarray  # HxWx3 uint8, sRGB
    alpha: np.ndarray | None = None  # HxW uint8; None = no alpha or fully opaque
    source: str = "<bytes>"  # path, URL or "<bytes>": for messages and titles
    format: str = ""  # Pillow's format name: "PNG", "JPEG", "WEBP", ...
    text: dict[str, str] = field(
        default_factory=dict
    )  # PNG text chunks (A1111 EXIF comment as "parameters")
    notes: tuple[str, ...] = ()  # what the loader did or ignored (ICC profile, orientation, frames)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        h, w = self.rgb.shape[:2]
        return w, h

    @property
    def rgba(self) -> np.ndarray:
        """HxWx4 uint8 (alpha 255 where the image has none)."""
        a = self.alpha if self.alpha is not None else np.full(self.rgb.shape[:2], 255, np.uint8)
        return np.dstack([self.rgb, a])


# -- limits -----------------------------------------------------------------------------------


def max_pixels_from_env() -> int:
    """The pixel ceiling: ``$INPAINT_MAX_PIXELS`` if set, else :data:`DEFAULT_MAX_PIXELS`."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(float(raw)) if "e" in raw.lower() else int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ImageLoadError(f"{MAX_PIXELS_ENV} must be a positive whole number, got {raw!r}")
    return value


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


# -- reading the bytes ------------------------------------------------------------------------


def _is_url(source: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source))


def _read_path(path: Path, max_bytes: int) -> bytes:
    label = str(path)
    try:
        if path.is_dir():
            raise ImageLoadError(f"{label}: is a folder, not an image file")
        size = path.stat().st_size
        if size > max_bytes:
            raise ImageTooLargeError(
                f"{label}: file is {_mb(size)}, over the {_mb(max_bytes)} limit per image"
            )
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)  # +1: notice a file that grew after stat()
    except FileNotFoundError:
        raise ImageLoadError(f"{label}: file not found") from None
    except PermissionError:
        raise ImageLoadError(f"{label}: permission denied") from None
    except OSError as exc:
        raise ImageLoadError(f"{label}: cannot read the file ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"{label}: file is over the {_mb(max_bytes)} limit per image")
    return data


def _fetch_url(url: str, max_bytes: int, timeout: float) -> bytes:
    """Download ``url`` with a byte cap (streamed: stops reading past it) and a total time limit."""
    import requests  # local: keeps `import inpaint_core.imaging` light
    import urllib3

    if not url.lower().startswith(("http://", "https://")):
        raise ImageLoadError(f"{url}: only http:// and https:// addresses can be loaded")
    deadline = time.monotonic() + timeout
    try:
        with requests.get(
            url,
            stream=True,
            timeout=(timeout, timeout),
            headers={"User-Agent": _USER_AGENT, "Accept": "image/*"},
        ) as resp:
            if resp.status_code >= 400:
                reason = f" {resp.reason}" if resp.reason else ""
                raise ImageLoadError(f"{url}: the server answered HTTP {resp.status_code}{reason}")
            ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype and not ctype.startswith("image/") and ctype not in _BINARY_TYPES:
                raise ImageLoadError(
                    f"{url}: the server sent {ctype!r}, not an image (expected an image/* content type)"
                )
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise ImageTooLargeError(
                    f"{url}: the image is {_mb(int(length))}, over the {_mb(max_bytes)} limit per image"
                )
            # read1 returns whatever one socket read gave, so a server that trickles bytes still
            # meets the deadline (iter_content waits to fill each chunk); urllib3 1.x lacks read1.
            raw = resp.raw
            read1 = getattr(raw, "read1", None)
            buf = bytearray()
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError
                if read1 is not None:
                    chunk = read1(_CHUNK, decode_content=True)
                else:
                    chunk = raw.read(4096, decode_content=True)
                if not chunk:
                    return bytes(buf)
                buf += chunk
                if len(buf) > max_bytes:
                    raise ImageTooLargeError(
                        f"{url}: download stopped: over the {_mb(max_bytes)} limit per image"
                    )
    except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        raise ImageLoadError(f"{url}: timed out after {timeout:g} s") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise ImageLoadError(f"{url}: could not download ({type(exc).__name__}: {exc})") from None


def _read_source(
    source: str | PathLike[str] | bytes | bytearray | memoryview, max_bytes: int, timeout: float
) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "<bytes>"
        if len(data) > max_bytes:
            raise ImageTooLargeError(
                f"image data is {_mb(len(data))}, over the {_mb(max_bytes)} limit per image"
            )
    elif isinstance(source, str) and _is_url(source):
        data, label = _fetch_url(source, max_bytes, timeout), source
    elif isinstance(source, (str, PathLike)):
        path = Path(source).expanduser()
        data, label = _read_path(path, max_bytes), str(source)
    else:
        raise TypeError(f"load_image takes a path, URL or bytes, not {type(source).__name__}")
    if not data:
        raise ImageLoadError(f"{label}: is empty (0 bytes), not an image")
    return data, label


# -- decoding ---------------------------------------------------------------------------------


def _open(data: bytes, label: str, max_pixels: int) -> Image.Image:
    """Identify the format and read the header only; check the pixel ceiling before decoding.

    Pillow's own bomb check (a global, warning at 89 MP and failing at 179 MP) is switched off for
    this call — under a lock, restored at once — because ours is the one that applies.
    """
    Image.init()
    formats = [f for f in _FORMATS if f in Image.OPEN]
    with _pil_limit_lock:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            im = Image.open(io.BytesIO(data), formats=formats)
        except UnidentifiedImageError:
            raise ImageLoadError(
                f"{label}: not a recognised image (expected {_FORMAT_NAMES})"
            ) from None
        except Exception as exc:  # a plugin choking on a damaged header
            raise ImageLoadError(f"{label}: damaged image header ({exc})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
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


def _decode(im: Image.Image, label: str) -> None:
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


def _scale16(a: np.ndarray) -> np.ndarray:
    """0..65535 -> 0..255, rounded (65535 -> 255, 32768 -> 128, 257*k -> k)."""
    a = np.clip(a, 0, 65535).astype(np.uint32)
    return ((a * 255 + 32767) // 65535).astype(np.uint8)


def _split_modes(im: Image.Image) -> tuple[Image.Image, np.ndarray | None]:
    """Bring any Pillow mode to an 8-bit base image (L, RGB, CMYK or LAB) and a separate alpha."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(im)
        return Image.fromarray(_scale16(a.astype(np.int64)), "L"), None
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


def load_image(
    source: str | PathLike[str] | bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int | None = None,
    timeout: float = 15.0,
) -> LoadedImage:
    """Load a photo from a path, bytes or an http(s) URL as upright 8-bit sRGB RGB (+ alpha).

    ``max_bytes`` caps the file or download (default 50 MiB); ``max_pixels`` caps width*height,
    checked from the header before decoding (default ``$INPAINT_MAX_PIXELS`` or 150 MP);
    ``timeout`` (seconds) bounds a whole download. Raises :class:`ImageTooLargeError` over a limit
    and :class:`ImageLoadError` for anything that is not a readable image.
    """
    limit = max_pixels if max_pixels is not None else max_pixels_from_env()
    data, label = _read_source(source, max_bytes, timeout)
    im = _open(data, label, limit)
    notes: list[str] = []
    try:
        if getattr(im, "is_animated", False):  # Pillow stays on (or returns to) frame 0
            notes.append("took the first frame of an animation")
    except Exception:  # a damaged later frame: the first one may still decode
        pass
    _decode(im, label)
    fmt = im.format or ""
    orientation = _orientation(im)
    text = _text_chunks(im)
    try:
        base, alpha = _split_modes(im)
        rgb_im = _to_srgb(base, im.info.get("icc_profile"), notes)
    except (ValueError, OSError, ImageCms.PyCMSError) as exc:
        raise ImageLoadError(f"{label}: cannot convert {im.mode} pixels to RGB ({exc})") from None
    transpose = _ORIENTATION.get(orientation)
    if transpose is not None:
        rgb_im = rgb_im.transpose(transpose)
        if alpha is not None:
            alpha = np.asarray(Image.fromarray(alpha).transpose(transpose))
        notes.append(f"applied EXIF orientation {orientation}")
    rgb = np.asarray(rgb_im, dtype=np.uint8)
    if not rgb.flags.writeable:
        rgb = rgb.copy()
    if alpha is not None:
        alpha = np.ascontiguousarray(alpha, dtype=np.uint8)
        if int(alpha.min()) == 255:
            alpha = None
    return LoadedImage(
        rgb=rgb, alpha=alpha, source=label, format=fmt, text=text, notes=tuple(notes)
    )


# -- masks ------------------------------------------------------------------------------------


def load_mask(
    source: str | PathLike[str] | bytes,
    image_size: tuple[int, int] | None = None,
    *,
    resize: bool = False,
    channel: str = "auto",
) -> np.ndarray:
    """Load a mask image as HxW uint8 (255 = fill).

    ``channel``: ``"alpha"`` (transparent = fill), ``"luma"`` (non-black = fill; greyscale or any
    colour) or ``"auto"`` (alpha when the image has transparency, else luma). With ``image_size``
    = (width, height) the mask is checked against the photo: a size mismatch is an error naming both
    sizes unless ``resize=True``; an empty mask is an error.
    """
    from . import masks  # local: masks pulls in OpenCV

    img = load_image(source)
    try:
        mask = masks.mask_from_image(img.rgb, img.alpha, source=channel)
        if image_size is not None:
            mask = masks.validate_mask(mask, image_size, resize=resize)
    except MaskError as exc:
        raise MaskError(f"{img.source}: {exc}") from None
    return np.ascontiguousarray(mask, dtype=np.uint8)


# -- saving -----------------------------------------------------------------------------------


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
    """Write ``rgb`` (HxWx3 uint8, + optional HxW ``alpha``) as a PNG with generation metadata.

    With a ``request``, two text chunks are written: ``parameters`` in the A1111 format (other tools
    read it) and ``inpaint_studio``, our request as JSON, for exactly this image: ``seed`` (the
    seed that made it) replaces the request's seeds. Newlines and non-Latin-1 text survive (iTXt).
    The file is written next to ``path`` and renamed into place, so a crash leaves no half PNG.
    """
    from . import metadata  # local: metadata imports request/schedulers

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

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        im.save(tmp, format="PNG", pnginfo=info, compress_level=compress_level)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
