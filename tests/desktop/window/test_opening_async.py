"""Opening never freezes the window (photos load on a background thread; slow loopback URLs), and no
user work is lost on close or open ("Save / Discard / Cancel")."""

import http.server
import io
import re
import threading
import time
import zipfile

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from skimage import data

from inpaint_core.saving import open_document
from tests.desktop.conftest import drag, open_and_wait, widget_point

Button = QMessageBox.StandardButton


@pytest.fixture
def slow_server(tmp_path):
    """A loopback HTTP server whose answers wait: ``/slow/<file>`` until ``release`` is set (or
    ``delay`` seconds pass); ``/trickle/<file>`` sends its Content-Length, then 2 kB every 30 ms
    (``hung_up`` is set when the client closes it mid-way); anything else at once."""
    www = tmp_path / "www"
    www.mkdir()
    Image.fromarray(data.astronaut()).save(www / "astronaut.png")
    state = {"delay": 10.0}
    release = threading.Event()
    hung_up = threading.Event()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(www), **kw)

        def _trickle(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(0, len(body), 2048):
                    if release.is_set():
                        return
                    self.wfile.write(body[i : i + 2048])
                    self.wfile.flush()
                    time.sleep(0.03)
            except (BrokenPipeError, ConnectionResetError):
                hung_up.set()

        def do_GET(self):  # noqa: N802
            if self.path.startswith("/trickle/"):
                self._trickle((www / self.path[len("/trickle/") :]).read_bytes())
                return
            if self.path.startswith("/slow/"):
                release.wait(state["delay"])
                self.path = self.path[len("/slow") :]
            super().do_GET()

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    server.release = release
    server.state = state
    server.hung_up = hung_up
    server.size = (www / "astronaut.png").stat().st_size
    yield server
    release.set()
    server.shutdown()
    server.server_close()


def _paint(qtbot, window):
    window.brush.set_size(20)
    drag(qtbot, window.canvas, [(100, 100), (300, 100)])
    assert window.doc.mask[100, 200] == 255


def _asker(answer, calls):
    def ask(action):
        calls.append(action)
        return answer

    return ask


# -- background opening -----------------------------------------------------------------------------


def test_a_slow_url_does_not_block_the_event_loop(window, qtbot, slow_server):
    slow_server.state["delay"] = 0.8
    old = window.doc
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    outcomes = []
    window.loader.finished.connect(outcomes.append)
    t0 = time.perf_counter()
    assert window.opener.open_source(f"{slow_server.base}/slow/astronaut.png")
    assert time.perf_counter() - t0 < 0.5  # the request returned at once
    assert window.opener.is_loading and window.doc is old  # the open document stays meanwhile
    qtbot.waitUntil(lambda: window.status.busy.isVisible(), timeout=3000)
    assert window.status.busy.text == "Downloading astronaut.png…"
    assert window.doc is old
    qtbot.waitUntil(lambda: len(outcomes) == 1, timeout=15000)
    timer.stop()
    assert outcomes[0].ok
    assert window.doc is not old and window.doc.size == (512, 512)
    assert np.array_equal(window.doc.photo.rgb, data.astronaut())
    assert not window.status.busy.isVisible() and not window.opener.is_loading
    # the timer kept firing all along: ~80 ticks in 0.8 s; a blocked loop would leave one gap
    # as long as the server's wait
    gaps = np.diff([t0, *ticks])
    assert len(ticks) >= 25, len(ticks)
    assert gaps.max() < 0.5, gaps.max()


def test_a_bad_url_shows_an_error_and_keeps_the_document(window, qtbot, slow_server):
    doc = window.doc
    assert not open_and_wait(qtbot, window, f"{slow_server.base}/missing.png")
    assert window.doc is doc
    assert "Could not open missing.png" in window.banner.text()
    assert "404" in window.banner.text()
    assert not window.status.busy.isVisible() and not window.opener.is_loading


def test_cancel_stops_waiting_and_keeps_the_document(window, qtbot, slow_server):
    doc = window.doc
    assert window.opener.open_source(f"{slow_server.base}/slow/astronaut.png")
    qtbot.waitUntil(lambda: window.status.busy.isVisible(), timeout=3000)
    pending = window.loader._pending
    window.status.busy.button.click()
    assert not window.opener.is_loading and not window.status.busy.isVisible()
    assert "Stopped opening astronaut.png" in window.status.currentMessage()
    # the download finishes later: its photo is dropped
    slow_server.release.set()
    assert pending.done.wait(10)
    qtbot.wait(100)
    assert window.doc is doc and not window.banner.text()


def test_cancel_stops_a_download_and_its_thread(window, qtbot, slow_server):
    doc = window.doc
    progress = []
    window.loader.progress.connect(lambda done, total: progress.append((done, total)))
    assert window.opener.open_source(f"{slow_server.base}/trickle/astronaut.png")
    busy = window.status.busy
    qtbot.waitUntil(lambda: busy.isVisible() and len(progress) >= 3, timeout=5000)
    assert all(total == slow_server.size for _, total in progress)
    done = [d for d, _ in progress]
    assert done == sorted(done) and 0 < done[-1] < slow_server.size
    # "Downloading astronaut.png… 12 of 480 kB" (the label's tooltip holds the unelided text)
    assert busy.text == "Downloading astronaut.png…"
    assert re.fullmatch(r"Downloading astronaut\.png… \d+ of \d+ kB", busy.label.toolTip())
    assert busy.bar.maximum() == 1000 and 0 <= busy.bar.value() < 1000  # a determinate bar
    pending = window.loader._pending
    busy.button.click()
    t0 = time.monotonic()
    assert not window.opener.is_loading and not busy.isVisible()
    pending.thread.join(2.0)
    assert not pending.thread.is_alive() and time.monotonic() - t0 < 1.0
    assert "download cancelled" in pending.outcome.error
    assert slow_server.hung_up.wait(2.0)  # the server saw the connection closed
    qtbot.wait(100)
    assert window.doc is doc and not window.banner.text()


def test_a_newer_open_stops_the_download_it_supersedes(window, qtbot, slow_server, tmp_path):
    path = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    assert window.opener.open_source(f"{slow_server.base}/trickle/astronaut.png")
    first = window.loader._pending
    qtbot.waitUntil(lambda: first.control.progress is not None, timeout=5000)
    assert open_and_wait(qtbot, window, path)
    first.thread.join(2.0)
    assert not first.thread.is_alive() and "download cancelled" in first.outcome.error
    assert window.doc.photo.name == "chelsea.png"


def test_the_last_request_wins(window, qtbot, slow_server, tmp_path):
    path = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    assert window.opener.open_source(f"{slow_server.base}/slow/astronaut.png")
    first = window.loader._pending
    assert open_and_wait(qtbot, window, path)  # a second open while the first one loads
    assert window.doc.photo.name == "chelsea.png"
    slow_server.release.set()
    # superseded: its token was cancelled, so it stops once the server answers
    assert first.done.wait(10) and "download cancelled" in first.outcome.error
    qtbot.wait(100)
    assert window.doc.photo.name == "chelsea.png"  # the slow first one never lands


def test_a_big_photo_decodes_off_the_gui_thread(window, qtbot, tmp_path, monkeypatch):
    import desktop.window.io as window_io

    threads = []
    real = window_io.load_image

    def spy(source, **kw):
        threads.append(threading.current_thread())
        return real(source, **kw)

    monkeypatch.setattr(window_io, "load_image", spy)  # where the window looks it up
    path = tmp_path / "rocket.jpg"
    Image.fromarray(data.rocket()).save(path)
    assert open_and_wait(qtbot, window, path)
    assert threads and threads[0] is not threading.main_thread()
    assert window.doc.photo.name == "rocket.jpg"


# -- unsaved work -----------------------------------------------------------------------------------


def test_a_clean_document_closes_without_a_question(window):
    calls = []
    window.unsaved.ask = _asker(Button.Cancel, calls)
    assert not window.unsaved.has_changes()
    assert window.close()
    assert calls == [] and not window.isVisible()


def test_a_dirty_document_cancel_keeps_the_window_open(window, qtbot):
    _paint(qtbot, window)
    assert window.unsaved.has_changes()
    calls = []
    window.unsaved.ask = _asker(Button.Cancel, calls)
    mask = window.doc.mask.copy()
    assert not window.close()
    assert calls == ["closing"]
    assert window.isVisible() and np.array_equal(window.doc.mask, mask)
    assert window.history.stack.count() == 1
    # nothing else saw a close: the generation panels are still running
    assert not window.generation._closed
    # the widget's own closeEvent asks too (a close that no QWindow decided)
    event = QCloseEvent()
    QApplication.sendEvent(window, event)
    assert not event.isAccepted() and calls == ["closing", "closing"]
    # asked again, Discard closes
    window.unsaved.ask = _asker(Button.Discard, calls)
    assert window.close()
    assert not window.isVisible() and len(calls) == 3


def test_save_writes_the_project_then_closes(window, qtbot, tmp_path):
    _paint(qtbot, window)
    window.edits.add_result_layer(np.full((20, 20, 3), 255, np.uint8), (0, 0, 20, 20), "White")
    window.unsaved.ask = _asker(Button.Save, [])
    # the save dialog cancelled: nothing closes
    window.ask_project_path = lambda title="": None
    assert not window.close() and window.isVisible()
    target = tmp_path / "kept.ora"
    window.ask_project_path = lambda title="": target
    assert window.close()
    assert not window.isVisible()
    project = open_document(target)
    assert [layer.name for layer in project.document.result_layers] == ["White"]
    assert np.array_equal(project.document.mask, window.doc.mask)
    with Image.open(io.BytesIO(zipfile.ZipFile(target).read("mergedimage.png"))) as im:
        assert im.size == (600, 400)
        assert (np.asarray(im.convert("RGB"))[:20, :20] == 255).all()


def test_export_is_not_a_save(window, qtbot, tmp_path):
    """A flattened picture loses the layers and the mask: the work still counts as unsaved."""
    _paint(qtbot, window)
    assert window.unsaved.has_changes()
    assert window.exporter.export_picture(tmp_path / "out.jpg")
    assert window.unsaved.has_changes()
    assert window.save_project(tmp_path / "out.ora", wait=True)
    assert not window.unsaved.has_changes()
    _paint(qtbot, window)
    assert window.unsaved.has_changes()  # a change after the save counts again
    window.history.stack.undo()
    assert not window.unsaved.has_changes()  # back at the saved state


def test_opening_another_photo_with_cancel_keeps_the_document(window, qtbot, tmp_path):
    path = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    _paint(qtbot, window)
    doc, mask = window.doc, window.doc.mask.copy()
    calls = []
    window.unsaved.ask = _asker(Button.Cancel, calls)
    assert not window.opener.open_source(path)
    assert not window.opener.is_loading
    assert calls == ["opening chelsea.png"]
    assert window.doc is doc and np.array_equal(doc.mask, mask)
    # Discard opens it
    window.unsaved.ask = _asker(Button.Discard, calls)
    assert open_and_wait(qtbot, window, path)
    assert window.doc.photo.name == "chelsea.png" and not window.unsaved.has_changes()


def test_work_done_while_a_photo_loads_is_asked_about_when_it_lands(window, qtbot, slow_server):
    doc = window.doc
    calls = []
    window.unsaved.ask = _asker(Button.Cancel, calls)
    assert window.opener.open_source(f"{slow_server.base}/slow/astronaut.png")
    assert calls == []  # clean: no question to start with
    _paint(qtbot, window)  # the window stays usable while the photo loads
    with qtbot.waitSignal(window.loader.finished, timeout=15000):
        slow_server.release.set()
    assert calls == ["opening astronaut.png"]
    assert window.doc is doc and doc.mask[100, 200] == 255
    assert "Kept the current picture" in window.status.currentMessage()


def test_a_photo_that_loads_mid_stroke_lands_after_it(window, qtbot, slow_server):
    doc = window.doc
    calls = []
    window.unsaved.ask = _asker(Button.Discard, calls)
    assert window.opener.open_source(f"{slow_server.base}/slow/astronaut.png")
    pending = window.loader._pending
    canvas = window.canvas
    window.brush.set_size(20)
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(canvas, left, Qt.KeyboardModifier.NoModifier, widget_point(canvas, 100, 300))
    qtbot.mouseMove(canvas, widget_point(canvas, 200, 300))
    slow_server.release.set()
    assert pending.done.wait(10) and pending.outcome.ok
    qtbot.wait(100)
    assert window.doc is doc and window.opener.is_loading  # the brush is still down: held back
    with qtbot.waitSignal(window.loader.finished, timeout=5000):
        qtbot.mouseRelease(
            canvas, left, Qt.KeyboardModifier.NoModifier, widget_point(canvas, 300, 300)
        )
    assert window.history.stack.count() == 0  # the new photo's history
    assert calls == ["opening astronaut.png"]  # the stroke was asked about, then discarded
    assert window.doc.photo.name == "astronaut.png"


def test_closing_while_a_photo_loads_drops_it(window, qtbot, slow_server):
    assert window.opener.open_source(f"{slow_server.base}/slow/astronaut.png")
    assert window.close()
    assert not window.opener.is_loading


def test_steps_dropped_by_the_undo_limit_stay_unsaved(window, qtbot):
    window.history.set_limit(1)  # every new step drops the older ones
    _paint(qtbot, window)
    window.brush.set_size(20)
    drag(qtbot, window.canvas, [(100, 300), (300, 300)])
    assert window.history.dropped >= 1
    while window.history.stack.canUndo():
        window.history.stack.undo()
    # the oldest stroke can no longer be undone: the picture is not the opened photo
    assert window.doc.mask[100, 200] == 255
    assert window.unsaved.has_changes()


def test_byte_counts_read_like_a_browser():
    from desktop.window.status import byte_counts

    assert byte_counts(1_234_567, 3_400_000) == "1.2 of 3.4 MB"
    assert byte_counts(0, 3_400_000) == "0.0 of 3.4 MB"
    assert byte_counts(350_000, 800_000) == "350 of 800 kB"
    assert byte_counts(1_250_000, None) == "1.2 MB"
    assert byte_counts(2_000, None) == "2 kB"
