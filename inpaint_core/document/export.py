"""The one writer of flattened pictures (PNG/JPEG/WebP) and masks (PNG).

Every picture a user keeps, from the window or the CLI, goes through :func:`export_picture`, so
they all follow the same rules:

- **alpha**: kept in PNG and WebP; JPEG has none (dropped);
- **parameters**: with a ``request``, PNG gets the A1111 ``parameters`` chunk and our JSON
  (``inpaint_studio``) through :func:`inpaint_core.imaging.save_png`; JPEG and WebP get the A1111
  text in EXIF ``UserComment`` (where A1111 puts it, and where our loader reads it back);
  other ``text`` goes into PNG text chunks;
- **colour profile**: the document's pixels are sRGB (the loader converts everything), and every
  file says so with an embedded sRGB ICC profile;
- **bit depth**: a picture made from a 16-bit photo (``high_bits``) is a 16-bit PNG whose untouched
  pixels are the photo's own 16-bit values (:mod:`inpaint_core.imaging.highbits`); JPEG and WebP
  are 8-bit;
- **atomic**: written through :mod:`inpaint_core.files`, so a failed save keeps the old file.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .. import metadata
from ..errors import UnsupportedFormatError
from ..files import atomic_write
from ..imaging.png import save_png, srgb_profile

if TYPE_CHECKING:
    from ..imaging.highbits import HighBits
    from ..request import InpaintRequest

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def picture_format(path: str | PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise UnsupportedFormatError(
            f"cannot export as {suffix or 'a file without an extension'}: use .png, .jpg or .webp"
        ) from None


def _user_comment(text: str) -> bytes:
    """EXIF UserComment as A1111 writes it: ``UNICODE\\0`` + UTF-16 (big-endian)."""
    return b"UNICODE\0" + text.encode("utf-16-be")


def export_picture(
    path: str | PathLike[str],
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    quality: int = 92,
    text: dict[str, str] | None = None,
    request: InpaintRequest | None = None,
    seed: int | None = None,
    model_name: str | None = None,
    seam_score: float | None = None,
    high_bits: HighBits | None = None,
) -> Path:
    """Save ``rgb`` (HxWx3 uint8, + optional HxW ``alpha``) in the format its suffix names, with
    the rules of the module docstring. ``request``/``seed``/``model_name``: the generation that
    made the picture (``seed`` the one used). ``high_bits``: the 16-bit samples of the photo
    ``rgb`` was made from (a PNG is then 16-bit)."""
    path = Path(path)
    fmt = picture_format(path)
    if fmt == "PNG":
        return save_png(
            path,
            rgb,
            alpha=alpha,
            request=request,
            seed=seed,
            model_name=model_name,
            extra_text=text,
            seam_score=seam_score,
            high_bits=high_bits,
        )
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"export_picture needs an HxWx3 uint8 image, got {rgb.dtype} {rgb.shape}")
    if fmt == "JPEG" or alpha is None:
        im = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    else:
        im = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    exif = Image.Exif()
    parameters = (text or {}).get(metadata.PARAMETERS_CHUNK)
    if request is not None:
        used = metadata.request_for_output(request, seed)
        parameters = metadata.format_parameters(used, seed, model_name, seam_score)
    if parameters:
        exif.get_ifd(0x8769)[0x9286] = _user_comment(parameters)
    options = {"icc_profile": srgb_profile(), "exif": exif.tobytes(), "quality": quality}
    if fmt == "JPEG":
        return atomic_write(
            path, lambda f: im.save(f, format="JPEG", subsampling=0, optimize=True, **options)
        )
    return atomic_write(path, lambda f: im.save(f, format="WEBP", method=4, **options))


def export_mask(path: str | PathLike[str], mask: np.ndarray) -> Path:
    """Save a mask as an 8-bit greyscale PNG (255 = fill)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"masks are exported as PNG, not {path.suffix or 'no extension'}")
    im = Image.fromarray(np.ascontiguousarray(mask, dtype=np.uint8), "L")
    return atomic_write(path, lambda f: im.save(f, format="PNG"))
