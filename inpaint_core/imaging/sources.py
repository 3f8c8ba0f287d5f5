"""Get the bytes of an image from a path, bytes or an http(s) URL, within a byte limit and a time limit."""

from __future__ import annotations

import os
import re
import time
from os import PathLike
from pathlib import Path

from ..errors import ImageLoadError, ImageTooLargeError

MAX_BYTES = 50 * 1024 * 1024
"""Default byte limit per file (path, bytes or URL download): 50 MiB."""

DEFAULT_MAX_PIXELS = 150_000_000
"""Default pixel ceiling: an 8000x6000 photo (48 MP) or a 12000x9000 scan (108 MP) load; a bomb does not."""

MAX_PIXELS_ENV = "INPAINT_MAX_PIXELS"

_USER_AGENT = "inpaint-studio (+https://github.com/)"
_CHUNK = 64 * 1024
# Content types we accept from a server besides image/*: some servers label everything as bytes.
_BINARY_TYPES = ("application/octet-stream", "binary/octet-stream")

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


def mb(n: int) -> str:
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
                f"{label}: file is {mb(size)}, over the {mb(max_bytes)} limit per image"
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
        raise ImageTooLargeError(f"{label}: file is over the {mb(max_bytes)} limit per image")
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
                    f"{url}: the image is {mb(int(length))}, over the {mb(max_bytes)} limit per image"
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
                        f"{url}: download stopped: over the {mb(max_bytes)} limit per image"
                    )
    except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        raise ImageLoadError(f"{url}: timed out after {timeout:g} s") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise ImageLoadError(f"{url}: could not download ({type(exc).__name__}: {exc})") from None


def read_source(
    source: str | PathLike[str] | bytes | bytearray | memoryview, max_bytes: int, timeout: float
) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "<bytes>"
        if len(data) > max_bytes:
            raise ImageTooLargeError(
                f"image data is {mb(len(data))}, over the {mb(max_bytes)} limit per image"
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
