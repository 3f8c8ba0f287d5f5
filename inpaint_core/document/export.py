"""Write the flattened picture (PNG/JPEG/WebP) and the mask (PNG)."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np
from PIL import Image

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
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if fmt == "JPEG":
            im.save(tmp, format="JPEG", quality=quality, subsampling=0, optimize=True)
        else:
            im.save(tmp, format="WEBP", quality=quality, method=4)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def export_mask(path: str | PathLike[str], mask: np.ndarray) -> Path:
    """Save a mask as an 8-bit greyscale PNG (255 = fill)."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"masks are exported as PNG, not {path.suffix or 'no extension'}")
    Image.fromarray(np.ascontiguousarray(mask, dtype=np.uint8), "L").save(path, format="PNG")
    return path
