"""What a server was started with (``inpaint-studio-cli serve`` flags, or a test's choice)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from ..imaging import MAX_BYTES

DEFAULT_PORT = 5123
TOKEN_ENV = "INPAINT_STUDIO_TOKEN"


@dataclass
class ServiceConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    #: the model behind ``inpaint-studio/stable-diffusion-inpainting`` (path or repo id); None: the
    #: slug is not offered
    model: str | None = None
    #: with a token, every route but ``/openapi.json`` wants ``Authorization: Bearer <token>``
    token: str | None = None
    #: allow input URLs that resolve to loopback/private/link-local addresses
    allow_private_urls: bool = False
    #: predictions waiting behind the running one; one more is answered 429
    queue_size: int = 32
    #: seconds a finished prediction (and its outputs) and an uploaded file are kept
    keep_seconds: float = 3600.0
    #: bytes per image (uploaded file, data: URI or download) and per request body
    max_image_bytes: int = MAX_BYTES
    #: seconds allowed to download an http(s) input
    url_timeout: float = 15.0
    #: predictions per page of ``GET /v1/predictions``
    page_size: int = 100
    device: str | None = None
    dtype: str | None = None
    #: offer one model per model found on this machine (``inpaint-studio-cli models``)
    discover_models: bool = True
    extra_model_dirs: list[Path] = field(default_factory=list)
    #: where outputs and uploads live; None: a temporary folder removed at shutdown
    data_dir: Path | None = None

    @property
    def max_body_bytes(self) -> int:
        """One image plus a little room for the JSON or multipart framing around it."""
        return self.max_image_bytes + 1024 * 1024


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1): safe to serve without a
    token. Anything else (``0.0.0.0``, a LAN address, a hostname) is reachable from elsewhere."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
