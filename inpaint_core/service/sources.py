"""Where an input image comes from: an uploaded file, a ``data:`` URI or a public http(s) URL.

:func:`classify` is the cheap check made when a prediction is created (a ``file:`` URL or an
unknown upload is a 422 naming the field); the slow part runs on a worker thread (decode a
``data:`` URI, read an upload, or download an http(s) URL with
:func:`inpaint_core.imaging.load_image` within its byte and time limits).

URLs sent by a remote caller must not make the server reach into its own network (SSRF): the
download runs with ``allow_private_urls=False`` unless the server runs with
``--allow-private-urls``, so :mod:`inpaint_core.imaging.url_guard` checks the first URL and *every
redirect* before connecting (loopback, private, link-local, multicast, reserved and unspecified
addresses are refused), and the address actually connected to as well. One guard for the CLI, the
studio and the service.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urlsplit

from ..errors import ImageLoadError, ImageTooLargeError
from ..imaging.sources import mb

_FILE_PATH = re.compile(r"^/v1/files/([A-Za-z0-9_-]+)(?:/download)?/?$")
_OUTPUT_PATH = re.compile(r"^/v1/predictions/([A-Za-z0-9_-]+)/output/(\d+)\.png$")


class SourceError(ValueError):
    """An input that can be refused without fetching it; ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Source:
    """``kind``: ``data`` (``value`` is the URI), ``file`` (``value`` is an upload id),
    ``output`` (``value`` is ``prediction_id/k``) or ``remote`` (``value`` is the URL)."""

    kind: str
    value: str


def classify(field: str, value: str, own_netloc: str) -> Source:
    """What kind of source ``value`` is. URLs on this server (``own_netloc``) that name an upload
    or an output are read from disk, never fetched over HTTP."""
    text = value.strip()
    lower = text.lower()
    if lower.startswith("data:"):
        if "," not in text:
            raise SourceError(field, "malformed data: URI (no comma before the data)")
        return Source("data", text)
    if lower.startswith(("http://", "https://")):
        parts = urlsplit(text)
        if not parts.hostname:
            raise SourceError(field, f"{text[:100]!r} has no host")
        if parts.netloc.lower() == own_netloc.lower():
            m = _FILE_PATH.match(parts.path)
            if m:
                return Source("file", m.group(1))
            m = _OUTPUT_PATH.match(parts.path)
            if m:
                return Source("output", f"{m.group(1)}/{m.group(2)}")
        return Source("remote", text)
    scheme = lower.split(":", 1)[0] if ":" in lower else ""
    shown = f"a {scheme}: URL" if scheme and "/" not in scheme else repr(text[:60])
    raise SourceError(
        field,
        f"must be an uploaded file's URL (POST /v1/files), a data: URI or an http(s) URL, "
        f"got {shown}",
    )


def decode_data_uri(uri: str, max_bytes: int) -> bytes:
    """The bytes of a ``data:`` URI (base64 or percent-encoded), refusing more than ``max_bytes``
    before decoding."""
    header, _, payload = uri.partition(",")
    is_b64 = header.lower().endswith(";base64")
    if (len(payload) * 3 // 4 if is_b64 else len(payload) // 3) > max_bytes:
        raise ImageTooLargeError(f"data: URI holds over the {mb(max_bytes)} limit per image")
    if is_b64:
        try:
            data = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
        except (binascii.Error, ValueError):
            raise ImageLoadError("data: URI is not valid base64") from None
    else:
        data = unquote_to_bytes(payload)
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"data: URI holds over the {mb(max_bytes)} limit per image")
    return data
