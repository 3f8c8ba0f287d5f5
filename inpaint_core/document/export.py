"""Write the flattened picture (PNG/JPEG/WebP) and the mask (PNG)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
from PIL import Image

from ..files import atomic_write

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def picture_format(path: str | PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise ValueError(
            f"cannot export as {suffix or 'a file without an extension'}: use .png, .jpg or .webp"
        ) from None


def export_picture(
    path: str | PathLike[str],
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    quality: int = 92,
    text: dict[str, str] | None = None,
) -> Path:
    """Save ``rgb`` in the format its suffix names. PNG goes through :func:`imaging.save_png`
    (text chunks kept); JPEG drops ``alpha``."""
    path = Path(path)
    fmt = picture_format(path)
    if fmt == "PNG":
        from ..imaging import save_png

        return save_png(path, rgb, alpha=alpha, extra_text=text)
    if fmt == "JPEG" or alpha is None:
        im = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    else:
        im = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    if fmt == "JPEG":
        return atomic_write(
            path, lambda f: im.save(f, format="JPEG", quality=quality, subsampling=0, optimize=True)
        )
    return atomic_write(path, lambda f: im.save(f, format="WEBP", quality=quality, method=4))


def export_mask(path: str | PathLike[str], mask: np.ndarray) -> Path:
    """Save a mask as an 8-bit greyscale PNG (255 = fill)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"masks are exported as PNG, not {path.suffix or 'no extension'}")
    im = Image.fromarray(np.ascontiguousarray(mask, dtype=np.uint8), "L")
    return atomic_write(path, lambda f: im.save(f, format="PNG"))
