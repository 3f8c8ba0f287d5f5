"""Get the bytes of an image from a path, bytes or an http(s) URL, within a byte limit and a time limit."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ImageLoadError, ImageTooLargeError, JobCancelled

if TYPE_CHECKING:
    from ..events import CancelToken

ProgressCallback = Callable[[int, "int | None"], None]
"""``on_progress(bytes_so_far, total)``: ``total`` from Content-Length, None when the server gave none."""

MAX_BYTES = 50 * 1024 * 1024
"""Default byte limit per file (path, bytes or URL download): 50 MiB."""

DEFAULT_MAX_PIXELS = 150_000_000
"""Default pixel ceiling: an 8000x6000 photo (48 MP) or a 12000x9000 scan (108 MP) load; a bomb does not."""

MAX_PIXELS_ENV = "INPAINT_MAX_PIXELS"

_USER_AGENT = "inpaint-studio (+https://github.com/)"
_CHUNK = 64 * 1024
# Content types we accept from a server besides image/*: some servers label everything as bytes.
_BINARY_TYPES = ("application/octet-stream", "binary/octet-stream")
PROGRESS_INTERVAL_S = 0.05
"""Least time between two ``on_progress`` calls (at most ~20 a second; the last one always comes)."""
_CANCEL_POLL_S = 0.05

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


def _cancelled(url: str) -> JobCancelled:
    return JobCancelled(f"{url}: download cancelled")


def _watch_cancel(cancel: CancelToken, raw, finished: threading.Event) -> None:
    """Shut the socket down once ``cancel`` is set, waking a read blocked on a stalled server.

    Checking the token between chunks is enough while bytes flow; a server that stops sending
    mid-body would otherwise hold the reader until its read timeout. urllib3 >= 2.3's
    ``HTTPResponse.shutdown`` exists for exactly this (unblocking a read from another thread).
    """
    while not finished.wait(_CANCEL_POLL_S):
        if cancel.cancelled:
            shutdown = getattr(raw, "shutdown", None)
            if shutdown is not None:
                try:
                    shutdown()
                except Exception:  # noqa: BLE001 - best effort: the chunk loop still checks
                    pass
            return


class _Throttle:
    """Calls ``on_progress`` at most every :data:`PROGRESS_INTERVAL_S` (plus a final call)."""

    def __init__(self, on_progress: ProgressCallback | None, total: int | None) -> None:
        self.on_progress = on_progress
        self.total = total
        self.last = float("-inf")

    def __call__(self, done: int, *, final: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if final or now - self.last >= PROGRESS_INTERVAL_S:
            self.last = now
            self.on_progress(done, self.total)


def _fetch_url(
    url: str,
    max_bytes: int,
    timeout: float,
    *,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
) -> bytes:
    """Download ``url`` with a byte cap (streamed: stops reading past it) and a total time limit.

    ``cancel`` is checked between streamed chunks (and a stalled read is woken by shutting the
    socket down): once set, the response is closed and :class:`JobCancelled` raised. While the
    server has not yet answered with its headers a cancel waits for them (or for the timeout).
    ``on_progress(bytes_so_far, total_or_None)`` is throttled to ~20 calls a second.
    """
    import requests  # local: keeps `import inpaint_core.imaging` light
    import urllib3

    if not url.lower().startswith(("http://", "https://")):
        raise ImageLoadError(f"{url}: only http:// and https:// addresses can be loaded")
    if cancel is not None and cancel.cancelled:
        raise _cancelled(url)
    deadline = time.monotonic() + timeout
    finished = threading.Event()
    try:
        with requests.get(
            url,
            stream=True,
            timeout=(timeout, timeout),
            headers={"User-Agent": _USER_AGENT, "Accept": "image/*"},
        ) as resp:
            if cancel is not None:
                if cancel.cancelled:
                    raise _cancelled(url)
                threading.Thread(
                    target=_watch_cancel,
                    args=(cancel, resp.raw, finished),
                    name="download-cancel-watch",
                    daemon=True,
                ).start()
            if resp.status_code >= 400:
                reason = f" {resp.reason}" if resp.reason else ""
                raise ImageLoadError(f"{url}: the server answered HTTP {resp.status_code}{reason}")
            ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if ctype and not ctype.startswith("image/") and ctype not in _BINARY_TYPES:
                raise ImageLoadError(
                    f"{url}: the server sent {ctype!r}, not an image (expected an image/* content type)"
                )
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > max_bytes:
                raise ImageTooLargeError(
                    f"{url}: the image is {mb(total)}, over the {mb(max_bytes)} limit per image"
                )
            progress = _Throttle(on_progress, total)
            progress(0)
            # read1 returns whatever one socket read gave, so a server that trickles bytes still
            # meets the deadline (iter_content waits to fill each chunk); urllib3 1.x lacks read1.
            raw = resp.raw
            read1 = getattr(raw, "read1", None)
            buf = bytearray()
            while True:
                if cancel is not None and cancel.cancelled:
                    raise _cancelled(url)
                if time.monotonic() > deadline:
                    raise TimeoutError
                if read1 is not None:
                    chunk = read1(_CHUNK, decode_content=True)
                else:
                    chunk = raw.read(4096, decode_content=True)
                if cancel is not None and cancel.cancelled:  # a shut-down socket reads as EOF
                    raise _cancelled(url)
                if not chunk:
                    progress(len(buf), final=True)
                    return bytes(buf)
                buf += chunk
                if len(buf) > max_bytes:
                    raise ImageTooLargeError(
                        f"{url}: download stopped: over the {mb(max_bytes)} limit per image"
                    )
                progress(len(buf))
    except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        if cancel is not None and cancel.cancelled:
            raise _cancelled(url) from None
        raise ImageLoadError(f"{url}: timed out after {timeout:g} s") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        if cancel is not None and cancel.cancelled:  # the watcher's shutdown broke the read
            raise _cancelled(url) from None
        raise ImageLoadError(f"{url}: could not download ({type(exc).__name__}: {exc})") from None
    finally:
        finished.set()


def read_source(
    source: str | PathLike[str] | bytes | bytearray | memoryview,
    max_bytes: int,
    timeout: float,
    *,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
) -> tuple[bytes, str]:
    """The bytes of ``source`` and a label for messages. ``cancel`` and ``on_progress`` apply to
    URL downloads only (a local file or bytes is read in one go)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "<bytes>"
        if len(data) > max_bytes:
            raise ImageTooLargeError(
                f"image data is {mb(len(data))}, over the {mb(max_bytes)} limit per image"
            )
    elif isinstance(source, str) and _is_url(source):
        data = _fetch_url(source, max_bytes, timeout, cancel=cancel, on_progress=on_progress)
        label = source
    elif isinstance(source, (str, PathLike)):
        path = Path(source).expanduser()
        data, label = _read_path(path, max_bytes), str(source)
    else:
        raise TypeError(f"load_image takes a path, URL or bytes, not {type(source).__name__}")
    if not data:
        raise ImageLoadError(f"{label}: is empty (0 bytes), not an image")
    return data, label
