"""``--timeout`` is one deadline for a whole URL fetch, DNS included, with the URL guard off (the CLI
and studio default) as with it on: ``socket.getaddrinfo`` takes no timeout, so a dead DNS server
would hold a download far past it. A fake slow resolver (``socket.getaddrinfo`` that sleeps) stands
in for the dead DNS server; the only traffic is to a loopback server this test starts.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from inpaint_core.errors import ImageLoadError, JobCancelled
from inpaint_core.events import CancelToken
from inpaint_core.imaging import load_image, sources, url_guard

SLOW_HOST = "slow-dns.test"
FAST_HOST = "photos.test"
DNS_DELAY_S = 3.0


def _png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((12, 16, 3), 200, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


class _Handler(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        type(self).hosts.append(self.headers.get("Host", ""))
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)


@pytest.fixture(scope="module")
def port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def resolver(monkeypatch):
    """``socket.getaddrinfo`` where SLOW_HOST takes DNS_DELAY_S to answer (then gives the
    loopback server) and FAST_HOST answers at once; every other name as usual. Records lookups."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in (SLOW_HOST, FAST_HOST):
            looked_up.append(host)
            if host == SLOW_HOST:
                time.sleep(DNS_DELAY_S)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def _bounded(call, limit_s: float = DNS_DELAY_S + 2.0):
    """Run ``call`` on a thread: (its result or exception, seconds it took); a hang fails here
    instead of stalling the suite."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            box["error"] = exc

    t0 = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit_s)
    assert not thread.is_alive(), f"still fetching after {limit_s} s"
    return box.get("error", box.get("value")), time.monotonic() - t0


@pytest.mark.parametrize("guarded", [False, True], ids=["guard-off", "guard-on"])
def test_a_slow_dns_lookup_is_under_the_timeout(port, resolver, monkeypatch, guarded):
    if guarded:  # the loopback server stands for a public host here
        monkeypatch.setattr(url_guard, "is_public_address", lambda a: a == "127.0.0.1")
        monkeypatch.setattr(sources, "is_public_address", lambda a: a == "127.0.0.1")
    url = f"http://{SLOW_HOST}:{port}/photo.png"
    outcome, seconds = _bounded(
        lambda: load_image(url, timeout=0.5, allow_private_urls=not guarded)
    )
    assert isinstance(outcome, ImageLoadError), outcome
    assert "timed out after 0.5 s" in str(outcome)
    assert seconds < 1.5, seconds  # not the resolver's 3 s
    assert resolver == [SLOW_HOST]


@pytest.mark.parametrize("guarded", [False, True], ids=["guard-off", "guard-on"])
def test_cancel_stops_a_slow_dns_lookup(port, resolver, guarded):
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    url = f"http://{SLOW_HOST}:{port}/photo.png"
    outcome, seconds = _bounded(
        lambda: load_image(url, timeout=10.0, cancel=token, allow_private_urls=not guarded)
    )
    assert isinstance(outcome, JobCancelled), outcome
    assert seconds < 1.0, seconds


@pytest.mark.parametrize("guarded", [False, True], ids=["guard-off", "guard-on"])
def test_a_name_resolved_in_time_is_fetched_from_its_address(port, resolver, monkeypatch, guarded):
    """The fetch connects to the address the bounded lookup found, and still asks the server for
    the host by name (Host header; for https, the certificate is checked against the name)."""
    if guarded:
        monkeypatch.setattr(url_guard, "is_public_address", lambda a: a == "127.0.0.1")
        monkeypatch.setattr(sources, "is_public_address", lambda a: a == "127.0.0.1")
    _Handler.hosts.clear()
    image, _ = _bounded(
        lambda: load_image(
            f"http://{FAST_HOST}:{port}/photo.png", timeout=5.0, allow_private_urls=not guarded
        )
    )
    assert not isinstance(image, BaseException), image
    assert image.size == (16, 12)
    assert _Handler.hosts == [f"{FAST_HOST}:{port}"]
    assert set(resolver) == {FAST_HOST}


def test_a_name_that_does_not_resolve_is_a_clear_error(monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    outcome, seconds = _bounded(lambda: load_image("http://nowhere.test/a.png", timeout=2.0))
    assert isinstance(outcome, ImageLoadError), outcome
    assert "nowhere.test" in str(outcome) and "resolve" in str(outcome).lower()


def test_resolve_within_returns_ip_addresses_as_they_are(monkeypatch):
    def getaddrinfo(*args, **kwargs):
        raise AssertionError("an IP address needs no lookup")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert url_guard.resolve_within("127.0.0.1", 80, 1.0) == ["127.0.0.1"]
    assert url_guard.resolve_within("::1", 80, 1.0) == ["::1"]


# -- https: connected to the address found, the certificate still checked against the name ---------
def _certificate(folder, name: str):
    """A self-signed certificate for ``name`` (and its key) as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("cert_name, ok", [(FAST_HOST, True), ("other.test", False)])
def test_https_checks_the_certificate_against_the_name(
    tmp_path, resolver, monkeypatch, cert_name, ok
):
    import ssl

    cert, key = _certificate(tmp_path, cert_name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))  # trust this certificate only
    url = f"https://{FAST_HOST}:{server.server_address[1]}/photo.png"
    try:
        outcome, _ = _bounded(lambda: load_image(url, timeout=5.0))
    finally:
        server.shutdown()
        server.server_close()
    if ok:
        assert not isinstance(outcome, BaseException), outcome
        assert outcome.size == (16, 12)
    else:  # connected to 127.0.0.1, but the certificate names another host: refused
        assert isinstance(outcome, ImageLoadError), outcome
        assert "certificate" in str(outcome).lower() or "ssl" in str(outcome).lower()
    assert set(resolver) == {FAST_HOST}
