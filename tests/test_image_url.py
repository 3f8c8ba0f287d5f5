"""load_image from http(s) URLs, against a loopback server this test starts (127.0.0.1, port 0)."""

from __future__ import annotations

import io
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image
from skimage import data

from inpaint_core.errors import ImageLoadError, ImageTooLargeError, JobCancelled
from inpaint_core.events import CancelToken
from inpaint_core.imaging import load_image
from inpaint_core.imaging.sources import PROGRESS_INTERVAL_S

CHELSEA = data.chelsea()


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


PNG = _png(CHELSEA)
BIG_TOTAL = 64 * 1024 * 1024  # what the endless routes would send if nobody stopped reading


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    sent: dict[str, int]
    stop: threading.Event
    hung_up: set[str]  # paths whose client closed the connection while the server was sending


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def _head(self, status: int, ctype: str | None, length: int | None) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        else:
            self.send_header("Connection", "close")
        self.end_headers()

    def _stream(self, total: int, delay: float = 0.0, chunk: int = 64 * 1024) -> None:
        """Send ``total`` bytes (PNG header first), counting what went out, until the client hangs up."""
        body = PNG[:chunk].ljust(chunk, b"\0")
        key = self.path
        try:
            while self.server.sent.get(key, 0) < total and not self.server.stop.is_set():
                self.wfile.write(body)
                self.wfile.flush()
                self.server.sent[key] = self.server.sent.get(key, 0) + len(body)
                if delay:
                    time.sleep(delay)
        except (BrokenPipeError, ConnectionResetError):
            self.server.hung_up.add(key)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        p = self.path
        if p == "/chelsea.png":
            self._head(200, "image/png", len(PNG))
            self.wfile.write(PNG)
        elif p == "/octet":
            self._head(200, "application/octet-stream", len(PNG))
            self.wfile.write(PNG)
        elif p == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/chelsea.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif p == "/big-with-length.png":
            self._head(200, "image/png", BIG_TOTAL)
            self._stream(BIG_TOTAL)
        elif p == "/big-no-length.png":
            self._head(200, "image/png", None)
            self._stream(BIG_TOTAL)
        elif p == "/page.html":
            body = b"<!doctype html><html><body>Not here</body></html>"
            self._head(200, "text/html; charset=utf-8", len(body))
            self.wfile.write(body)
        elif p == "/slow.png":
            self.server.stop.wait(3.0)  # answer nothing for a while
            try:
                self._head(200, "image/png", len(PNG))
                self.wfile.write(PNG)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif p == "/trickle.png":
            self._head(200, "image/png", None)
            self._stream(10**6, delay=0.05, chunk=64)  # a few bytes at a time: never a read timeout
        elif p.startswith("/trickle-to-cancel.png"):  # ?anything: its own byte count
            self._head(200, "image/png", None)
            self._stream(10**6, delay=0.05, chunk=64)
        elif p == "/stall.png":  # part of the body, then silence (no read timeout for 5 s)
            self._head(200, "image/png", len(PNG))
            self.wfile.write(PNG[:1024])
            self.wfile.flush()
            self.server.stop.wait(5.0)
        elif p == "/paced.png":  # the whole PNG in 16 pieces over ~0.3 s
            self._head(200, "image/png", len(PNG))
            step = -(-len(PNG) // 16)
            for i in range(0, len(PNG), step):
                self.wfile.write(PNG[i : i + step])
                self.wfile.flush()
                time.sleep(0.02)
        elif p == "/notes.png":  # an image content type over a body that is not an image
            body = b"hello, I am text\n" * 10
            self._head(200, "image/png", len(body))
            self.wfile.write(body)
        else:
            body = b"not found"
            self._head(404, "text/plain", len(body))
            self.wfile.write(body)


@pytest.fixture(scope="module")
def server(request):
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.sent, srv.stop, srv.hung_up = {}, threading.Event(), set()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.stop.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # a proxy from the environment must not catch loopback requests
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


def url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_good_png(server):
    u = url(server, "/chelsea.png")
    img = load_image(u)
    np.testing.assert_array_equal(img.rgb, CHELSEA)
    assert img.source == u and img.format == "PNG"


def test_octet_stream_and_redirect_are_accepted(server):
    np.testing.assert_array_equal(load_image(url(server, "/octet")).rgb, CHELSEA)
    np.testing.assert_array_equal(load_image(url(server, "/redirect")).rgb, CHELSEA)


def test_too_large_with_content_length_is_refused_before_reading(server):
    with pytest.raises(ImageTooLargeError, match=r"64.0 MiB, over the 1.0 MiB limit"):
        load_image(url(server, "/big-with-length.png"), max_bytes=1024 * 1024)


def test_too_large_without_content_length_stops_reading(server):
    u = url(server, "/big-no-length.png")
    with pytest.raises(ImageTooLargeError, match="download stopped") as exc:
        load_image(u, max_bytes=1024 * 1024)
    assert u in str(exc.value)
    time.sleep(0.2)  # let the server notice the hang-up
    # the client hung up long before the server's 64 MiB (socket buffers hold a few MiB at most)
    assert server.sent["/big-no-length.png"] < BIG_TOTAL / 4


def test_default_byte_limit_applies_to_downloads(server):
    with pytest.raises(ImageTooLargeError, match="50.0 MiB limit"):
        load_image(url(server, "/big-with-length.png"))


def test_non_image_content_type(server):
    with pytest.raises(ImageLoadError, match=r"text/html.*not an image"):
        load_image(url(server, "/page.html"))


def test_image_content_type_over_text_body(server):
    with pytest.raises(ImageLoadError, match="not a recognised image"):
        load_image(url(server, "/notes.png"))


def test_404(server):
    with pytest.raises(ImageLoadError, match="HTTP 404"):
        load_image(url(server, "/missing.png"))


def test_slow_server_times_out(server):
    t0 = time.monotonic()
    with pytest.raises(ImageLoadError, match="timed out after 0.3 s"):
        load_image(url(server, "/slow.png"), timeout=0.3)
    assert time.monotonic() - t0 < 2.0


def test_trickling_server_hits_the_total_time_limit(server):
    t0 = time.monotonic()
    with pytest.raises(ImageLoadError, match="timed out"):
        load_image(url(server, "/trickle.png"), timeout=0.5)
    assert time.monotonic() - t0 < 2.5


def test_refused_connection():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(ImageLoadError, match="could not download"):
        load_image(f"http://127.0.0.1:{port}/x.png", timeout=2.0)


# -- cancelling and progress --------------------------------------------------------------------


def _cancel_after(token: CancelToken, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, token.cancel)
    timer.start()
    return timer


def test_cancel_from_another_thread_stops_a_trickling_download(server):
    token = CancelToken()
    _cancel_after(token, 0.3)
    t0 = time.monotonic()
    with pytest.raises(JobCancelled, match="download cancelled"):
        load_image(url(server, "/trickle-to-cancel.png"), timeout=10.0, cancel=token)
    elapsed = time.monotonic() - t0
    assert elapsed < 0.8, elapsed  # the 10 s timeout was nowhere near
    # the connection was closed: the server's next writes fail
    deadline = time.monotonic() + 2.0
    while "/trickle-to-cancel.png" not in server.hung_up and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "/trickle-to-cancel.png" in server.hung_up
    assert server.sent["/trickle-to-cancel.png"] < 64 * 40  # ~0.3 s of 64 B every 50 ms


def test_cancel_wakes_a_read_on_a_stalled_server(server):
    token = CancelToken()
    _cancel_after(token, 0.3)
    t0 = time.monotonic()
    with pytest.raises(JobCancelled):
        load_image(url(server, "/stall.png"), timeout=10.0, cancel=token)
    assert time.monotonic() - t0 < 0.8  # not the server's 5 s silence, nor the 10 s timeout


def test_a_cancelled_token_stops_before_connecting():
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        load_image("http://127.0.0.1:9/never.png", cancel=token)


def test_an_unset_token_changes_nothing(server):
    img = load_image(url(server, "/chelsea.png"), cancel=CancelToken())
    np.testing.assert_array_equal(img.rgb, CHELSEA)


def test_progress_reports_growing_byte_counts_and_the_total(server):
    calls: list[tuple[int, int | None, float]] = []
    t0 = time.monotonic()
    img = load_image(
        url(server, "/paced.png"),
        on_progress=lambda done, total: calls.append((done, total, time.monotonic())),
    )
    elapsed = time.monotonic() - t0
    np.testing.assert_array_equal(img.rgb, CHELSEA)
    done = [c[0] for c in calls]
    assert len(calls) >= 3, calls
    assert done == sorted(done) and done[0] == 0 and done[-1] == len(PNG)
    assert len(set(done)) >= 3  # counts in between, not only the start and the end
    assert {c[1] for c in calls} == {len(PNG)}
    # throttled: no two calls closer than the interval, except the final one
    gaps = np.diff([c[2] for c in calls[:-1]])
    assert (gaps >= PROGRESS_INTERVAL_S * 0.9).all(), gaps
    assert len(calls) <= elapsed / PROGRESS_INTERVAL_S + 2


def test_progress_without_content_length_has_no_total(server):
    calls: list[tuple[int, int | None]] = []
    token = CancelToken()
    _cancel_after(token, 0.4)
    with pytest.raises(JobCancelled):
        load_image(
            url(server, "/trickle-to-cancel.png?progress"),
            timeout=10.0,
            cancel=token,
            on_progress=lambda done, total: calls.append((done, total)),
        )
    assert len(calls) >= 3 and all(total is None for _, total in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and calls[-1][0] > 0
