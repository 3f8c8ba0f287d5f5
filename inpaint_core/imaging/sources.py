"""Get the bytes of an image from a path, bytes or an http(s) URL, within a byte limit and a time limit."""

from __future__ import annotations

import errno
import math
import os
import re
import socket
import stat
import threading
import time
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ImageLoadError, ImageTooLargeError, JobCancelled
from . import url_guard
from .url_guard import UrlRefusedError, check_url_target, is_public_address

if TYPE_CHECKING:
    from ..events import CancelToken

ProgressCallback = Callable[[int, "int | None"], None]
"""``on_progress(bytes_so_far, total)``: ``total`` from Content-Length, None when the server gave none."""

MAX_BYTES = 50 * 1024 * 1024
"""Default byte limit per image (a file, bytes or a download): 50 MiB. Big 16-bit scans can be
larger (a 6000x4000 16-bit RGB PNG is ~100 MB): raise the limit with ``$INPAINT_MAX_MB`` or the
CLI's ``--max-mb``. Layered projects (.ora) have their own caps and are not bound by it."""

MAX_MB_ENV = "INPAINT_MAX_MB"

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


def bytes_from_mib(value: float | str | None, name: str = "--max-mb") -> int | None:
    """A limit given in MiB (a flag or ``$INPAINT_MAX_MB``) in bytes; None stays None (the
    default); anything but a positive finite number is an error naming ``name``."""
    if value is None:
        return None
    try:
        mib = float(value)
    except ValueError:
        mib = 0.0
    if not (math.isfinite(mib) and mib > 0):
        raise ImageLoadError(f"{name} must be a positive number of MiB, got {value!r}")
    return max(1, int(mib * 1024 * 1024))


def max_bytes_from_env() -> int:
    """The byte limit per image: ``$INPAINT_MAX_MB`` (MiB) if set, else :data:`MAX_BYTES`."""
    raw = os.environ.get(MAX_MB_ENV, "").strip()
    return bytes_from_mib(raw, MAX_MB_ENV) if raw else MAX_BYTES


_RAISE_HINT = f"(raise it with --max-mb or ${MAX_MB_ENV})"


def mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


# -- reading the bytes ------------------------------------------------------------------------


def _is_url(source: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source))


def check_timeout(timeout: float) -> float:
    """A download's time limit must be a finite number of seconds above 0 (0, NaN or infinity
    would mean "no limit" or "fail at once" by accident)."""
    if (
        not isinstance(timeout, (int, float))
        or isinstance(timeout, bool)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ImageLoadError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "file not found"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "too many symbolic links (a link loop?)"
    if exc.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    if exc.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    return f"cannot read the file ({exc.strerror or exc})"


def read_regular_file(path: Path, max_bytes: int, what: str = "image") -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_bytes``.

    A FIFO, a device, a socket or a folder is refused with a message before it is read (a FIFO's
    ``open`` alone would block until a writer came): checked with ``os.stat``, opened non-blocking,
    and checked again on the open descriptor (the path may have been swapped in between).
    """
    label = str(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ImageLoadError(f"{label}: is {_kind_of(st.st_mode)}, not an {what} file")
        if st.st_size > max_bytes:
            raise ImageTooLargeError(
                f"{label}: file is {mb(st.st_size)}, over the {mb(max_bytes)} limit per {what} "
                f"{_RAISE_HINT}"
            )
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        flags |= getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise ImageLoadError(f"{label}: is {_kind_of(mode)}, not an {what} file")
            data = f.read(max_bytes + 1)  # +1: notice a file that grew after stat()
    except OSError as exc:
        raise ImageLoadError(f"{label}: {_os_reason(exc)}") from None
    if len(data) > max_bytes:
        raise ImageTooLargeError(
            f"{label}: file is over the {mb(max_bytes)} limit per {what} {_RAISE_HINT}"
        )
    return data


def _read_path(path: Path, max_bytes: int) -> bytes:
    return read_regular_file(path, max_bytes)


def _cancelled(url: str) -> JobCancelled:
    return JobCancelled(f"{url}: download cancelled")


# -- downloading ------------------------------------------------------------------------------


class _Sockets:
    """The sockets one download opened, so a watchdog can shut them down from another thread: a
    blocked connect, header or body read then wakes at once."""

    def __init__(self, deadline: float = math.inf) -> None:
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self.reason = ""  # "timeout" | "cancelled" once the watchdog fired
        self.deadline = deadline  # time.monotonic() at which the whole download must be over

    def resolve(self, host: str, port: int) -> list[str]:
        """``host``'s addresses within what is left of the download's time (DNS, which urllib3
        would run unbounded inside ``socket.getaddrinfo``, is under the one deadline too); stops
        waiting as soon as the watchdog fires (timeout or cancel). Raises :class:`TimeoutError`."""
        try:
            return url_guard.resolve_within(
                host, port, self.deadline - time.monotonic(), stop=lambda: bool(self.reason)
            )
        except TimeoutError:
            self.fire("timeout")  # a no-op when the watchdog already fired (its reason stays)
            raise

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            fired = bool(self.reason)
        if fired:
            self._shut(sock)

    def fire(self, reason: str) -> None:
        with self._lock:
            if self.reason:
                return
            self.reason = reason
            socks = list(self._socks)
        for sock in socks:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _watchdog(
    sockets: _Sockets, deadline: float, cancel: CancelToken | None, finished: threading.Event
) -> None:
    """At the deadline (or once ``cancel`` is set) shut the download's sockets down. One deadline
    for everything: connect, a server that drips its headers, redirects and the body."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            sockets.fire("timeout")
            return
        wait = min(left, _CANCEL_POLL_S) if cancel is not None else left
        if finished.wait(wait):
            return
        if cancel is not None and cancel.cancelled:
            sockets.fire("cancelled")
            return


def _session(sockets: _Sockets, guarded: bool):
    """A requests session whose connections register their sockets with ``sockets`` (and, when
    ``guarded``, refuse a peer that is not public: a DNS answer that changed since the check)."""
    import requests
    import urllib3.connection
    import urllib3.connectionpool
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
    from urllib3.util.connection import create_connection

    def _connect(conn: Any, address: str) -> socket.socket:
        """urllib3's ``HTTPConnection._new_conn`` for an address resolved already."""
        try:
            return create_connection(
                (address, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})"
            ) from exc
        except OSError as exc:
            raise NewConnectionError(conn, f"Failed to establish a new connection: {exc}") from exc

    def new_conn(self: Any) -> socket.socket:
        """Resolve under the download's deadline, then connect to the addresses found in turn
        (TLS still checks the certificate against the host name); a guarded download refuses a
        non-public address before anything is sent to it, and checks the peer it reached."""
        try:
            addresses = sockets.resolve(self._dns_host, self.port)
        except TimeoutError:
            raise  # the watchdog's reason (timeout or cancel) names it
        except OSError as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        if not addresses:
            raise NameResolutionError(self.host, self, socket.gaierror("no address"))
        if guarded:
            for address in addresses:
                if not is_public_address(address):
                    raise UrlRefusedError(f"{self.host}: refused: it is {address}")
        error: Exception | None = None
        for address in addresses:
            if sockets.reason:
                raise TimeoutError(sockets.reason)
            try:
                sock = _connect(self, address)
                break
            except NewConnectionError as exc:  # refused/unreachable: try the next address
                error = exc
        else:
            assert error is not None
            raise error
        sockets.add(sock)
        if guarded:
            try:
                peer = str(sock.getpeername()[0])
            except OSError:
                peer = ""
            if peer and not is_public_address(peer):
                sock.close()
                raise UrlRefusedError(f"{self.host}: refused: connected to {peer}")
        return sock

    class Conn(urllib3.connection.HTTPConnection):
        _new_conn = new_conn

    class SConn(urllib3.connection.HTTPSConnection):
        _new_conn = new_conn

    class Pool(urllib3.connectionpool.HTTPConnectionPool):
        ConnectionCls = Conn

    class SPool(urllib3.connectionpool.HTTPSConnectionPool):
        ConnectionCls = SConn

    pools = {"http": Pool, "https": SPool}

    class Adapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any):
            manager = super().proxy_manager_for(proxy, **kwargs)
            manager.pool_classes_by_scheme = pools
            return manager

    session = requests.Session()
    session.trust_env = not guarded  # a guarded fetch goes straight to the checked address
    adapter = Adapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


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


MAX_REDIRECTS = 5


def _fetch_url(
    url: str,
    max_bytes: int,
    timeout: float,
    *,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
    allow_private: bool = True,
) -> bytes:
    """Download ``url`` with a byte cap (streamed: stops reading past it) and ONE time limit for
    connect, headers, every redirect and the body: a watchdog thread shuts the sockets down at the
    deadline, so a server that drips its headers or a chain of slow redirects cannot outlast it.

    Redirects are followed here (at most :data:`MAX_REDIRECTS`, http/https only), each target
    checked with :func:`check_url_target` first unless ``allow_private``. ``cancel`` (set from any
    thread) stops the download within ~50 ms and raises :class:`JobCancelled`.
    ``on_progress(bytes_so_far, total_or_None)`` is throttled to ~20 calls a second.
    """
    import requests  # local: keeps `import inpaint_core.imaging` light
    import urllib3

    if not url.lower().startswith(("http://", "https://")):
        raise ImageLoadError(f"{url}: only http:// and https:// addresses can be loaded")
    timeout = check_timeout(timeout)
    if cancel is not None and cancel.cancelled:
        raise _cancelled(url)
    deadline = time.monotonic() + timeout
    finished = threading.Event()
    sockets = _Sockets(deadline)
    watchdog = threading.Thread(
        target=_watchdog,
        args=(sockets, deadline, cancel, finished),
        name="download-watchdog",
        daemon=True,
    )
    watchdog.start()
    session = _session(sockets, guarded=not allow_private)

    def stopped() -> Exception | None:
        if sockets.reason == "cancelled" or (cancel is not None and cancel.cancelled):
            return _cancelled(url)
        if sockets.reason == "timeout" or time.monotonic() >= deadline:
            return ImageLoadError(f"{url}: timed out after {timeout:g} s")
        return None

    current = url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if not allow_private:
                try:
                    check_url_target(current, timeout=left, stop=lambda: bool(sockets.reason))
                except UrlRefusedError:
                    raise
                except ImageLoadError:
                    problem = (
                        stopped()
                    )  # the lookup ran out of the download's time, or was cancelled
                    if problem is not None:
                        raise problem from None
                    raise
            resp = session.get(
                current,
                stream=True,
                timeout=(left, left),
                allow_redirects=False,
                headers={"User-Agent": _USER_AGENT, "Accept": "image/*"},
            )
            if not resp.is_redirect:
                break
            target = requests.compat.urljoin(resp.url, resp.headers["Location"])
            resp.close()
            if not target.lower().startswith(("http://", "https://")):
                raise ImageLoadError(f"{url}: redirected to {target}, not an http(s) address")
            current = target
        else:
            raise ImageLoadError(f"{url}: more than {MAX_REDIRECTS} redirects")
        with resp:
            if resp.status_code >= 400:
                reason = f" {resp.reason}" if resp.reason else ""
                raise ImageLoadError(f"{url}: the server answered HTTP {resp.status_code}{reason}")
            if resp.status_code >= 300:
                raise ImageLoadError(f"{url}: the server answered HTTP {resp.status_code}")
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
                problem = stopped()
                if problem is not None:
                    raise problem
                if read1 is not None:
                    chunk = read1(_CHUNK, decode_content=True)
                else:
                    chunk = raw.read(4096, decode_content=True)
                problem = stopped()  # a shut-down socket reads as EOF: not the end of the image
                if problem is not None:
                    raise problem
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
        problem = stopped()
        if isinstance(problem, JobCancelled):
            raise problem from None
        raise ImageLoadError(f"{url}: timed out after {timeout:g} s") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        problem = stopped()  # the watchdog's shutdown broke the read
        if problem is not None:
            raise problem from None
        cause = exc
        while cause.__context__ is not None and not isinstance(cause, UrlRefusedError):
            cause = cause.__context__
        if isinstance(cause, UrlRefusedError):
            raise UrlRefusedError(f"{url}: {cause}") from None
        raise ImageLoadError(f"{url}: could not download ({type(exc).__name__}: {exc})") from None
    finally:
        finished.set()
        session.close()


def read_source(
    source: str | PathLike[str] | bytes | bytearray | memoryview,
    max_bytes: int | None,
    timeout: float,
    *,
    cancel: CancelToken | None = None,
    on_progress: ProgressCallback | None = None,
    allow_private: bool = True,
) -> tuple[bytes, str]:
    """The bytes of ``source`` and a label for messages. ``cancel``, ``on_progress`` and
    ``allow_private`` apply to URL downloads only (a local file or bytes is read in one go).
    ``max_bytes`` None: :func:`max_bytes_from_env` (``$INPAINT_MAX_MB`` or 50 MiB)."""
    if max_bytes is None:
        max_bytes = max_bytes_from_env()
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes <= 0:
        raise ImageLoadError(f"max_bytes must be a positive number of bytes, got {max_bytes!r}")
    check_timeout(timeout)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = "<bytes>"
        if len(data) > max_bytes:
            raise ImageTooLargeError(
                f"image data is {mb(len(data))}, over the {mb(max_bytes)} limit per image"
            )
    elif isinstance(source, str) and _is_url(source):
        data = _fetch_url(
            source,
            max_bytes,
            timeout,
            cancel=cancel,
            on_progress=on_progress,
            allow_private=allow_private,
        )
        label = source
    elif isinstance(source, (str, PathLike)):
        path = Path(source).expanduser()
        data, label = _read_path(path, max_bytes), str(source)
    else:
        raise TypeError(f"load_image takes a path, URL or bytes, not {type(source).__name__}")
    if not data:
        raise ImageLoadError(f"{label}: is empty (0 bytes), not an image")
    return data, label
