"""Hardening of image/mask reading: only regular files, one deadline per URL, a URL target guard,
the same limits for the mask, and no process-wide Pillow setting touched while decoding."""

from __future__ import annotations

import io
import math
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from inpaint_core.errors import ImageLoadError, ImageTooLargeError
from inpaint_core.imaging import load_image, load_mask, sources, url_guard
from inpaint_core.imaging.url_guard import UrlRefusedError, check_url_target, is_public_address
from tests.hardening_helpers import run_bounded


def _png(size=(32, 24), color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


# -- only regular files -------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "photo.png"
    os.mkfifo(path)
    yield path
    # a reader the old code left blocked in open() is released by a writer, then the FIFO goes
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_as_image_is_refused_at_once(fifo):
    got = run_bounded(lambda: load_image(fifo), 5.0)
    assert got.done, "load_image blocked on a FIFO"
    assert isinstance(got.error, ImageLoadError)
    assert "FIFO" in str(got.error) and str(fifo) in str(got.error)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_as_mask_is_refused_at_once(fifo):
    got = run_bounded(lambda: load_mask(fifo), 5.0)
    assert got.done and isinstance(got.error, ImageLoadError) and "FIFO" in str(got.error)


def test_a_folder_and_a_device_are_refused_with_a_message(tmp_path):
    with pytest.raises(ImageLoadError, match="is a folder"):
        load_image(tmp_path)
    if os.path.exists("/dev/zero"):
        got = run_bounded(lambda: load_image("/dev/zero"), 5.0)
        assert got.done and isinstance(got.error, ImageLoadError)
        assert "device" in str(got.error)


def test_a_symlink_loop_is_a_message(tmp_path):
    loop = tmp_path / "loop.png"
    os.symlink(loop, loop)
    with pytest.raises(ImageLoadError, match="link"):
        load_image(loop)


# -- timeout values -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, math.nan, math.inf])
def test_a_timeout_that_is_no_limit_is_refused(bad):
    with pytest.raises(ImageLoadError, match="timeout must be a positive number"):
        load_image("http://127.0.0.1:9/x.png", timeout=bad)


def test_max_pixels_zero_is_an_error_not_no_limit():
    with pytest.raises(ImageLoadError, match="max_pixels must be a positive"):
        load_image(PNG, max_pixels=0)


# -- one deadline for the whole download ------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    stop: threading.Event


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        p = self.path
        try:
            if p == "/drip-headers.png":  # a header byte every 50 ms: no single read times out
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n")
                self.wfile.flush()
                for _ in range(100):
                    if self.server.stop.wait(0.05):
                        return
                    self.wfile.write(b"X")
                    self.wfile.flush()
            elif p.startswith("/hop/"):  # /hop/N: wait 0.3 s, then redirect to /hop/N-1
                n = int(p.rsplit("/", 1)[1])
                if self.server.stop.wait(0.3):
                    return
                self.send_response(302)
                self.send_header("Location", f"/hop/{n - 1}" if n > 1 else "/image.png")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif p == "/image.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)
            elif p == "/to-internal":
                self.send_response(302)
                self.send_header("Location", "http://internal.test/secret.png")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def server():
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.stop = threading.Event()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.stop.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_a_server_dripping_its_headers_is_cut_at_the_deadline(server):
    t0 = time.monotonic()
    got = run_bounded(lambda: load_image(url(server, "/drip-headers.png"), timeout=0.5), 10.0)
    elapsed = time.monotonic() - t0
    assert got.done
    assert isinstance(got.error, ImageLoadError) and "timed out after 0.5 s" in str(got.error)
    assert elapsed < 2.0, elapsed  # not the 5 s the server takes


def test_a_chain_of_slow_redirects_shares_one_deadline(server):
    assert load_image(url(server, "/hop/1"), timeout=5.0).size == (32, 24)  # redirects work
    t0 = time.monotonic()
    got = run_bounded(lambda: load_image(url(server, "/hop/4"), timeout=0.5), 10.0)
    elapsed = time.monotonic() - t0
    assert got.done and isinstance(got.error, ImageLoadError), got.value
    assert "timed out" in str(got.error)
    assert elapsed < 1.5, elapsed  # four hops of 0.3 s each would be 1.2 s past a 0.5 s limit


def test_the_mask_gets_the_same_limits(server, tmp_path):
    big = tmp_path / "mask.png"
    Image.new("L", (200, 100), 255).save(big)
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        load_mask(big, max_pixels=1000)
    with pytest.raises(ImageTooLargeError):
        load_mask(big, max_bytes=10)
    got = run_bounded(lambda: load_mask(url(server, "/drip-headers.png"), timeout=0.5), 10.0)
    assert got.done and isinstance(got.error, ImageLoadError) and "timed out" in str(got.error)


# -- the URL target guard -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address,public",
    [
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("192.168.1.10", False),
        ("172.16.0.5", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_is_public_address(address, public):
    assert is_public_address(address) is public


class _NoConnect:
    """Record (and refuse) every outgoing connect: the guard must act before any."""

    def __init__(self, monkeypatch, allow=lambda host: False):
        self.attempts: list[object] = []
        real_connect = socket.socket.connect
        real_create = socket.create_connection

        def connect(sock, address):
            if allow(address[0]):
                return real_connect(sock, address)
            self.attempts.append(address)
            raise AssertionError(f"connect to {address} attempted")

        def create_connection(address, *args, **kwargs):
            if allow(address[0]):
                return real_create(address, *args, **kwargs)
            self.attempts.append(address)
            raise AssertionError(f"connect to {address} attempted")

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket, "create_connection", create_connection)


def test_guard_refuses_a_host_resolving_to_a_private_address_before_connecting(monkeypatch):
    resolved: list[str] = []

    def fake_resolve(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["10.0.0.1"]

    monkeypatch.setattr(url_guard, "resolve_host", fake_resolve)
    guard = _NoConnect(monkeypatch)
    with pytest.raises(UrlRefusedError, match="10.0.0.1"):
        check_url_target("http://intranet.test/photo.png")
    with pytest.raises(UrlRefusedError, match="10.0.0.1"):
        load_image("http://intranet.test/photo.png", allow_private_urls=False)
    with pytest.raises(UrlRefusedError, match="127.0.0.1"):
        load_image("http://127.0.0.1:9/photo.png", allow_private_urls=False)
    assert resolved == ["intranet.test", "intranet.test"]
    assert guard.attempts == []


def test_guard_checks_every_redirect(monkeypatch, server):
    """The first hop (the loopback test server, taken as public here) redirects to a host that
    resolves to 10.0.0.1: refused before anything connects there."""
    monkeypatch.setattr(url_guard, "resolve_host", lambda host, port: ["10.0.0.1"])
    monkeypatch.setattr(url_guard, "is_public_address", lambda a: a == "127.0.0.1")
    monkeypatch.setattr(sources, "is_public_address", lambda a: a == "127.0.0.1")
    guard = _NoConnect(monkeypatch, allow=lambda host: host == "127.0.0.1")
    with pytest.raises(UrlRefusedError, match="internal.test is 10.0.0.1"):
        load_image(url(server, "/to-internal"), allow_private_urls=False, timeout=5.0)
    assert guard.attempts == []


def test_guard_is_off_by_default(server):
    assert load_image(url(server, "/image.png")).size == (32, 24)


# -- Pillow's process-wide pixel limit is never touched ----------------------------------------


def test_decoding_leaves_pillows_global_limit_alone(monkeypatch):
    """Another thread opening an image meanwhile must keep Pillow's own bomb check: the loader
    applies its limit per call, never by switching ``Image.MAX_IMAGE_PIXELS`` off."""
    seen: list[object] = []
    real_open = Image.open

    def spy_open(*args, **kwargs):
        seen.append(Image.MAX_IMAGE_PIXELS)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(Image, "open", spy_open)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # someone else's stricter setting
    img = load_image(_png((100, 100)), max_pixels=10**6)  # ours is the one that applies here
    assert img.size == (100, 100)
    assert all(v == 1000 for v in seen), seen
    assert Image.MAX_IMAGE_PIXELS == 1000
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        load_image(_png((100, 100)), max_pixels=5000)


def test_pillows_own_check_still_works_in_other_threads_while_we_decode():
    stop = threading.Event()
    errors: list[BaseException] = []

    def ours() -> None:
        while not stop.is_set():
            load_image(_png((64, 64)))

    def theirs() -> None:
        data = _png((100, 100))
        for _ in range(200):
            try:
                with pytest.warns(Image.DecompressionBombWarning):
                    Image.open(io.BytesIO(data))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
                return

    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 6000  # 10,000 px warns, under 12,000 does not fail
    try:
        t = threading.Thread(target=ours, daemon=True)
        t.start()
        theirs()
    finally:
        stop.set()
        t.join(5)
        Image.MAX_IMAGE_PIXELS = old
    assert not errors, errors[0]
