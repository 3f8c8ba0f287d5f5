"""Load any photo (path, bytes or http(s) URL) as upright 8-bit sRGB; save PNGs with generation metadata.

Everything that reaches the rest of the engine went through :func:`load_image`, so the rest of the
engine can assume one shape: ``rgb`` HxWx3 uint8 in sRGB, EXIF orientation applied, plus an optional
HxW uint8 ``alpha``. The loader is defensive: byte and pixel limits are checked before anything is
decoded, only a short list of formats is accepted (no EPS/Ghostscript and the like), and every
failure becomes an :class:`~inpaint_core.errors.ImageLoadError` that names the file and the problem.

Choices worth knowing:

- ``alpha`` is ``None`` when the file has no alpha channel *or* its alpha is fully opaque: one check
  (``alpha is None``) then means "opaque", and an 8K opaque RGBA photo does not carry 48 MB of 255s.
- 16-bit samples are scaled to 8 bits (65535 -> 255, 32768 -> 128, rounded), never clipped, and
  the 16-bit RGB samples are kept as well (``LoadedImage.rgb16``, for 16-bit grey/RGB(A) PNG and
  TIFF): a 16-bit photo is saved and exported with its 16 bits (:mod:`.highbits`).
  A 32-bit integer ("I") image is taken to hold 16-bit values (what Pillow makes of 16-bit files);
  a float ("F") image is taken as 0..1 when all its values lie there, else as 0..255.
- An embedded ICC profile is converted to sRGB with LittleCMS; a profile that says it is sRGB is
  trusted as-is (saves ~0.8 s on a 48 MP photo), a broken or mismatched one is ignored (as browsers do)
  and noted in ``LoadedImage.notes``.
- Animated files (GIF, APNG, WebP) give their first frame.

The package: ``sources`` gets the bytes (path, bytes, URL; byte and time limits), ``url_guard`` says
which hosts a URL may reach, ``decode`` turns them into pixels (pixel ceiling, modes, ICC,
orientation), ``png`` writes PNGs with metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING

import numpy as np

from ..errors import MaskError
from .decode import decode
from .highbits import HighBits, reduce16
from .png import encode_png, save_png
from .sources import (
    DEFAULT_MAX_PIXELS,
    MAX_BYTES,
    MAX_MB_ENV,
    MAX_PIXELS_ENV,
    bytes_from_mib,
    max_pixels_from_env,
    read_source,
)

if TYPE_CHECKING:
    from ..events import CancelToken

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "HighBits",
    "MAX_BYTES",
    "MAX_MB_ENV",
    "MAX_PIXELS_ENV",
    "LoadedImage",
    "bytes_from_mib",
    "load_image",
    "load_mask",
    "max_pixels_from_env",
    "reduce16",
    "encode_png",
    "save_png",
]


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
    #: HxWx3 uint16 RGB of a 16-bit photo (``rgb`` is its rounded reduction); None for 8 bits
    rgb16: np.ndarray | None = None

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


def load_image(
    source: str | PathLike[str] | bytes,
    *,
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    timeout: float = 15.0,
    cancel: CancelToken | None = None,
    on_progress: Callable[[int, int | None], None] | None = None,
    allow_private_urls: bool = True,
) -> LoadedImage:
    """Load a photo from a path, bytes or an http(s) URL as upright 8-bit sRGB RGB (+ alpha).

    ``max_bytes`` caps the file or download (default ``$INPAINT_MAX_MB`` MiB or 50 MiB: raise it
    for big 16-bit scans); ``max_pixels`` caps width*height,
    checked from the header before decoding (default ``$INPAINT_MAX_PIXELS`` or 150 MP);
    ``timeout`` (seconds) bounds a whole download. Raises :class:`ImageTooLargeError` over a limit
    and :class:`ImageLoadError` for anything that is not a readable image.

    For a URL, ``cancel`` (a :class:`~inpaint_core.events.CancelToken`, set from any thread) stops
    the download between streamed chunks and raises :class:`~inpaint_core.errors.JobCancelled`
    (not an ImageLoadError: nothing is wrong with the image); ``on_progress(bytes_so_far, total)``
    reports it, ``total`` from Content-Length or None, at most ~20 times a second.

    Only regular files are read (a FIFO, device or folder is refused, never opened for a blocking
    read). ``timeout`` is one deadline for connect, headers, redirects and body.
    ``allow_private_urls=False`` (for a server fetching URLs for remote clients) refuses a URL or
    redirect whose host resolves to a loopback, private or link-local address, before connecting.
    """
    limit = max_pixels if max_pixels is not None else max_pixels_from_env()
    data, label = read_source(
        source,
        max_bytes,
        timeout,
        cancel=cancel,
        on_progress=on_progress,
        allow_private=allow_private_urls,
    )
    if cancel is not None:
        cancel.raise_if_cancelled()  # cancelled after the last byte: skip the decode
    d = decode(data, label, limit)
    return LoadedImage(
        rgb=d.rgb,
        alpha=d.alpha,
        source=label,
        format=d.format,
        text=d.text,
        notes=tuple(d.notes),
        rgb16=d.rgb16,
    )


# -- masks ------------------------------------------------------------------------------------


def load_mask(
    source: str | PathLike[str] | bytes,
    image_size: tuple[int, int] | None = None,
    *,
    resize: bool = False,
    channel: str = "auto",
    max_bytes: int | None = None,
    max_pixels: int | None = None,
    timeout: float = 15.0,
    cancel: CancelToken | None = None,
    allow_private_urls: bool = True,
    resize_hint: str = "",
) -> np.ndarray:
    """Load a mask image as HxW uint8 (255 = fill).

    ``channel``: ``"alpha"`` (transparent = fill), ``"luma"`` (non-black = fill; greyscale or any
    colour) or ``"auto"`` (alpha when the image has transparency, else luma). With ``image_size``
    = (width, height) the mask is checked against the photo: a size mismatch is an error naming both
    sizes (and ``resize_hint``) unless ``resize=True``; an empty mask is an error. The limits (``max_bytes``,
    ``max_pixels``, ``timeout``, ``cancel``, ``allow_private_urls``) are :func:`load_image`'s.
    """
    from .. import masks  # local: masks pulls in OpenCV

    img = load_image(
        source,
        max_bytes=max_bytes,
        max_pixels=max_pixels,
        timeout=timeout,
        cancel=cancel,
        allow_private_urls=allow_private_urls,
    )
    try:
        mask = masks.mask_from_image(img.rgb, img.alpha, source=channel)
        if image_size is not None:
            mask = masks.validate_mask(mask, image_size, resize=resize, resize_hint=resize_hint)
    except MaskError as exc:
        raise MaskError(f"{img.source}: {exc}") from None
    return np.ascontiguousarray(mask, dtype=np.uint8)
