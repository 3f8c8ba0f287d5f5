"""Which hosts a URL may reach: refuse loopback, private and link-local targets after DNS resolution.

Off for the CLI and the studio (a user may load from their own NAS); on for a server that fetches
URLs for remote clients (``load_image(..., allow_private_urls=False)``), where following a URL or a
redirect to ``127.0.0.1`` or ``169.254.169.254`` would let a client read what only the server can
reach. :func:`check_url_target` runs before each connection (the first URL and every redirect); the
downloader also checks the address it actually connected to (a DNS answer that changed meanwhile).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ..errors import ImageLoadError

_STOP_POLL_S = 0.05


class UrlRefusedError(ImageLoadError):
    """A URL (or a redirect) points at an address this caller may not reach (loopback, private,
    link-local...)."""


def resolve_host(host: str, port: int) -> list[str]:
    """The IP addresses ``host`` resolves to (``socket.getaddrinfo``; tests stub this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, shared, reserved, multicast and unspecified ones
    (an IPv4-mapped IPv6 address is judged by its IPv4 part)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return ip.is_global and not ip.is_multicast


def _literal_address(host: str) -> str | None:
    """``host`` itself when it is an IP address (nothing to resolve), else None."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return host


def resolve_within(
    host: str, port: int, seconds: float, *, stop: Callable[[], bool] | None = None
) -> list[str]:
    """:func:`resolve_host` bounded in time: ``getaddrinfo`` takes no timeout (a dead DNS server
    keeps it ~20 s or more), so it runs on a daemon thread that is left behind at the deadline
    (:class:`TimeoutError`), or as soon as ``stop()`` turns true (checked every 50 ms; also a
    :class:`TimeoutError`: the caller knows why it stopped). An IP address is returned as it is.
    The one resolver of every URL fetch, guarded or not, so ``--timeout`` covers DNS too."""
    literal = _literal_address(host)
    if literal is not None:
        return [literal]
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["addresses"] = resolve_host(host, port)
        except Exception as exc:  # noqa: BLE001 - handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=run, name="resolve-host", daemon=True)
    thread.start()
    deadline = time.monotonic() + max(0.0, seconds)
    while True:
        left = deadline - time.monotonic()
        thread.join(max(0.0, min(left, _STOP_POLL_S) if stop is not None else left))
        if not thread.is_alive():
            break
        if left <= 0 or (stop is not None and stop()):
            raise TimeoutError(f"resolving {host} took too long")
    if "error" in box:
        raise box["error"]
    # one address once, in the resolver's order (IPv6 and IPv4 answers for each socket type)
    return list(dict.fromkeys(box["addresses"]))


def check_url_target(
    url: str, *, timeout: float = 15.0, stop: Callable[[], bool] | None = None
) -> None:
    """Refuse ``url`` when its host is, or resolves to, an address that is not public (loopback,
    private, link-local...): what a server that fetches URLs for remote clients must check, per
    redirect, before connecting. Raises :class:`UrlRefusedError` (nothing is sent). The lookup
    gives up after ``timeout`` or once ``stop()`` is true (see :func:`resolve_within`)."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise UrlRefusedError(f"{url}: the address names no host")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise UrlRefusedError(f"{url}: the port is not a number") from None
    try:
        addresses = resolve_within(host, port, timeout, stop=stop)
    except TimeoutError:
        raise ImageLoadError(f"{url}: timed out after {timeout:g} s") from None
    except OSError as exc:
        raise ImageLoadError(f"{url}: cannot resolve {host} ({exc})") from None
    if not addresses:
        raise ImageLoadError(f"{url}: cannot resolve {host}")
    for address in addresses:
        if not is_public_address(address):
            raise UrlRefusedError(
                f"{url}: refused: {host} is {address}, a loopback, private or link-local address"
            )
