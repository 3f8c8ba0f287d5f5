"""Is a Ray address worth handing to ``ray.init``? A bounded check before Ray's own long retries.

``ray.init`` retries an address for minutes when nothing answers there (its GCS client keeps
reconnecting) and just as long when something answers that is not Ray: a web server, the Ray
dashboard's port, any other listener. The knob that shortens that wait
(``RAY_gcs_rpc_server_reconnect_timeout_s``) also governs the whole run afterwards, where it ends
the process outright rather than raising. So the batch command checks the address first, in a
few seconds, and says in one line what is wrong:

1. the name resolves (bounded: ``getaddrinfo`` has no timeout of its own) and a TCP connect
   succeeds;
2. the peer speaks gRPC (Ray's GCS and the Ray Client server are both gRPC servers) and has the
   method the address form calls for: the GCS health check (``CheckAlive``, what ``ray
   health-check`` asks) for ``HOST:PORT``, the Ray Client ping (``ClusterInfo`` ``PING``, what
   ``ray.init("ray://...")`` asks first) for ``ray://HOST:PORT``.

Step 2 is one raw unary call by method path with Python's ``grpc`` package (which Ray's client
uses; Ray core does not require it, so without it step 2 is skipped). It does not depend on Ray's
private Python helpers, whose names change between releases: a refusal for a missing token
(Ray's token authentication) proves the method is there, as an answer does, and a method that
is missing is the one thing that tells "some other gRPC server" apart.
"""

from __future__ import annotations

import importlib
import os
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .errors import InpaintError
from .imaging.url_guard import resolve_within

#: how long each step of the check waits (the TCP connect, the gRPC answer; the name lookup gets
#: twice this) before it calls the address unreachable or not Ray
PROBE_TIMEOUT_S = 5.0
#: Ray's default ports: the head's GCS (``HOST`` alone) and the Ray Client server (``ray://HOST``)
GCS_PORT, CLIENT_PORT = 6379, 10001
#: the GCS health check, by the service that holds it today and in older Ray (2.9 and before)
GCS_METHODS = (
    "/ray.rpc.NodeInfoGcsService/CheckAlive",
    "/ray.rpc.HeartbeatInfoGcsService/CheckAlive",
)
#: the Ray Client server's ping
CLIENT_METHOD = "/ray.rpc.RayletDriver/ClusterInfo"
GCS_KIND, CLIENT_KIND = "Ray head node (GCS)", "Ray Client server"

_HINT = (
    f"the head's GCS port ({GCS_PORT} by default; `ray start --head` prints the address) or "
    f"ray://HOST:PORT for the Ray Client server ({CLIENT_PORT} by default); the dashboard's "
    f"port (8265) is not a Ray address"
)


@dataclass(frozen=True)
class RayTarget:
    """Where a Ray address connects first: the GCS, or the Ray Client server for ``ray://``."""

    host: str
    port: int
    client: bool

    @property
    def kind(self) -> str:
        return CLIENT_KIND if self.client else GCS_KIND


def probe_target(address: str, source: str = "--ray-address") -> RayTarget | None:
    """Where a Ray address connects first, or None for the addresses Ray resolves itself
    (``auto``, ``local``). ``ray://HOST[:PORT]`` is the Ray Client server (default port 10001);
    ``HOST[:PORT]`` the head node's GCS (default 6379)."""
    address = address.strip()
    if address.lower() in ("auto", "local", ""):
        return None
    client = address.lower().startswith("ray://")
    try:
        parts = urlsplit(address if client else f"//{address}")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number, or out of range
        raise InpaintError(
            f"{source} {address}: not an address (HOST:PORT or ray://HOST:PORT)"
        ) from None
    if not host:
        raise InpaintError(f"{source} {address}: not an address (HOST:PORT or ray://HOST:PORT)")
    return RayTarget(host, port or (CLIENT_PORT if client else GCS_PORT), client)


def check_reachable(
    address: str, *, source: str = "--ray-address", timeout_s: float = PROBE_TIMEOUT_S
) -> None:
    """Raise an :class:`InpaintError` (one line: the address, what answers there, what to check)
    unless a Ray server of the kind the address names answers at ``address``, within a few
    times ``timeout_s``. ``auto`` and ``local`` are left to Ray."""
    target = probe_target(address, source)
    if target is None:
        return
    ip = _connect(target, address, source, timeout_s)
    if ip is None or _tls_on():
        # a TLS cluster needs Ray's certificates to be spoken to: the TCP answer is all we check
        return
    problem = _grpc_problem(ip, target, timeout_s)
    if problem:
        host_port = f"{target.host}:{target.port}"
        raise InpaintError(
            f"{source} {address}: what answers at {host_port} is not a {target.kind} "
            f"({problem}); check the address: {_HINT}"
        )


def _connect(target: RayTarget, address: str, source: str, timeout_s: float) -> str | None:
    """The IP address a TCP connect to ``target`` succeeded at, or an :class:`InpaintError`.
    None when the name lookup gave nothing and raised nothing (left to Ray)."""
    problem: list[str] = []
    try:
        addresses = resolve_within(target.host, target.port, 2 * timeout_s)
    except TimeoutError:
        addresses = []
        problem.append(f"cannot resolve {target.host} within {2 * timeout_s:g} s")
    except OSError as exc:  # socket.gaierror
        addresses = []
        problem.append(f"cannot resolve {target.host}: {exc.strerror or exc}")
    for ip in addresses:
        try:
            with socket.create_connection((ip, target.port), timeout=timeout_s):
                return ip
        except TimeoutError:
            problem.append(f"no answer within {timeout_s:g} s")
        except OSError as exc:
            problem.append(exc.strerror or str(exc) or type(exc).__name__)
    if problem:
        raise InpaintError(
            f"{source} {address}: nothing answers at {target.host}:{target.port} ({problem[0]}); "
            f"check that the Ray head node is running there (`ray status` on it), the host and "
            f"the port (the head's GCS port, {GCS_PORT} by default, or ray://HOST:{CLIENT_PORT} "
            f"for Ray Client) and that no firewall is in the way"
        )
    return None


def _tls_on() -> bool:
    """Ray's switch for TLS on every gRPC connection of a cluster."""
    return os.environ.get("RAY_USE_TLS", "0").strip().lower() in ("1", "true")


def _grpc_problem(ip: str, target: RayTarget, timeout_s: float) -> str | None:
    """Why the server at ``ip`` is not the kind ``target`` names, or None when it is (or when
    ``grpc`` is not installed and there is no telling)."""
    try:
        grpc = importlib.import_module("grpc")
    except ImportError:
        return None
    endpoint = f"[{ip}]:{target.port}" if ":" in ip else f"{ip}:{target.port}"
    # straight to the address the TCP check reached: no proxy from http_proxy/grpc_proxy
    with grpc.insecure_channel(endpoint, options=[("grpc.enable_http_proxy", 0)]) as channel:
        found, why = _answers(grpc, channel, target.client, timeout_s)
        if found:
            return None
        if why is not None:
            return why
        # a gRPC server without the method: is it the other kind of Ray server?
        if _answers(grpc, channel, not target.client, timeout_s)[0]:
            if target.client:
                return (
                    f"it is the head node's GCS: use {target.host}:{target.port} without "
                    f"ray://, or the Ray Client port (ray://{target.host}:{CLIENT_PORT} by default)"
                )
            return f"it is a {CLIENT_KIND}: use ray://{target.host}:{target.port}"
        method = "ClusterInfo" if target.client else "CheckAlive"
        return f"a gRPC server without Ray's {method} method answers"


def _answers(grpc: Any, channel: Any, client: bool, timeout_s: float) -> tuple[bool, str | None]:
    """(True, None) when the server has the method of its kind (Ray Client ping or GCS health
    check); (False, None) when it speaks gRPC without it; (False, why) when it does not speak
    gRPC within ``timeout_s``."""
    if client:
        try:
            pb2 = importlib.import_module("ray.core.generated.ray_client_pb2")
        except ImportError:
            return True, None  # no way to build the ping here: left to Ray
        ping = pb2.ClusterInfoRequest(type=pb2.ClusterInfoType.PING).SerializeToString()
        calls = [(CLIENT_METHOD, ping)]
    else:
        calls = [(method, b"") for method in GCS_METHODS]  # an empty CheckAliveRequest
    for method, request in calls:
        try:
            channel.unary_unary(method)(request, timeout=timeout_s)
        except grpc.RpcError as exc:
            code = exc.code()
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return False, f"no gRPC answer within {timeout_s:g} s"
            if code == grpc.StatusCode.UNAVAILABLE:
                return False, "it does not speak gRPC"
            if code == grpc.StatusCode.UNIMPLEMENTED:
                continue
        # answered, or refused for a missing token (token authentication) or another
        # server-side reason: the method is there
        return True, None
    return False, None
