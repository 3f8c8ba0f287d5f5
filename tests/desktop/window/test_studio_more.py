"""More of the studio window: URL drops (loopback server), the command line, the overlay hook the
generation panels use, layer order/flatten from the Layer menu, mask from transparency."""

import http.server
import threading

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QColor, QImage
from skimage import data

from desktop.app import create_window
from inpaint_core.masks import BBox
from tests.desktop.conftest import open_and_wait

from .test_studio_window import _drop


@pytest.fixture
def http_photo(tmp_path):
    """A loopback HTTP server serving one PNG (and a text file posing as one)."""
    (tmp_path / "www").mkdir()
    Image.fromarray(data.astronaut()).save(tmp_path / "www" / "astronaut.png")
    (tmp_path / "www" / "fake.png").write_text("<html>not a picture</html>")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path / "www"), **kw)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_drop_a_url_loads_it_from_the_web(window, qtbot, http_photo):
    mime = QMimeData()
    mime.setUrls([QUrl(f"{http_photo}/astronaut.png")])
    with qtbot.waitSignal(window.loader.finished):
        _drop(window, mime)
    assert window.doc.size == (512, 512)
    assert np.array_equal(window.doc.photo.rgb, data.astronaut())
    doc = window.doc
    bad = QMimeData()
    bad.setUrls([QUrl(f"{http_photo}/fake.png")])
    with qtbot.waitSignal(window.loader.finished):
        _drop(window, bad)
    assert window.doc is doc and "Could not open" in window.banner.text()


def test_command_line_opens_the_photo_or_the_sample(qtbot, tmp_path, settings_dir):
    path = tmp_path / "chelsea.jpg"
    Image.fromarray(data.chelsea()).save(path)
    w = create_window([str(path), "--settings-dir", str(settings_dir)])
    qtbot.addWidget(w)
    assert w.opener.is_loading  # the window is up at once; the photo lands when decoded
    qtbot.waitUntil(lambda: w.doc is not None, timeout=20000)
    assert w.doc.size == (451, 300) and "chelsea.jpg" in w.windowTitle()
    w2 = create_window(["--settings-dir", str(settings_dir)])
    qtbot.addWidget(w2)
    assert w2.doc.photo.name == "Sample photo"
    w3 = create_window([str(tmp_path / "nope.png"), "--settings-dir", str(settings_dir)])
    qtbot.addWidget(w3)
    qtbot.waitUntil(lambda: not w3.opener.is_loading, timeout=20000)
    assert w3.doc is None and "Could not open nope.png" in w3.banner.text()


def test_overlay_hook_draws_an_image_over_its_box(window):
    canvas = window.canvas
    box = BBox(100, 100, 200, 180)
    green = QImage(50, 40, QImage.Format.Format_RGB32)
    green.fill(QColor(0, 255, 0))
    canvas.set_overlay(box, green)
    centre = canvas.image_to_widget(150, 140).toPoint()
    assert canvas.grab().toImage().pixelColor(centre) == QColor(0, 255, 0)
    outside = canvas.image_to_widget(300, 300).toPoint()
    assert canvas.grab().toImage().pixelColor(outside) != QColor(0, 255, 0)
    canvas.set_overlay(None, None)
    assert canvas.grab().toImage().pixelColor(centre) != QColor(0, 255, 0)
    # the generation panels' host API
    assert window.document is window.doc and window.undo_stack is window.history.stack
    layer = window.edits.add_result_layer(
        np.zeros((10, 10, 3), np.uint8), BBox(0, 0, 10, 10), "R", info={"seed": 7}
    )
    assert layer.info == {"seed": 7} and window.undo_stack.count() == 1


def test_mask_overlay_is_drawn_and_hidden(window, qtbot):
    canvas = window.canvas
    window.set_overlay_colour(QColor(0, 0, 255))
    doc = window.doc
    doc.begin_stroke()
    doc.paint_dab(120, 260, 20)
    window.push_edit(doc.end_stroke())
    centre = canvas.image_to_widget(120.5, 260.5).toPoint()  # on the red saucer
    photo = QColor(*[int(v) for v in doc.photo.rgb[260, 120]])
    shown = canvas.grab().toImage().pixelColor(centre)
    assert shown.blue() > photo.blue() + 40  # half-transparent blue over the photo
    window.actions.show_overlay.trigger()
    hidden = canvas.grab().toImage().pixelColor(centre)
    # (the view is scaled and smoothed: neighbours blend in a little)
    assert abs(hidden.blue() - photo.blue()) <= 12 and abs(hidden.red() - photo.red()) <= 12


def test_layer_order_and_flatten_from_the_layer_menu(window, qtbot):
    doc = window.doc
    a = window.edits.add_result_layer(np.full((40, 40, 3), 200, np.uint8), (0, 0, 40, 40), "A")
    window.edits.add_result_layer(np.full((40, 40, 3), 10, np.uint8), (20, 20, 60, 60), "B")
    assert doc.flatten()[30, 30, 0] == 10
    window.layers.select_layer(doc.layers.index_of(a))
    window.actions.move_up.trigger()
    assert [layer.name for layer in doc.result_layers] == ["B", "A"]
    assert doc.flatten()[30, 30, 0] == 200 and window.layers.current_layer() is a
    picture = doc.flatten()
    window.actions.flatten.trigger()
    assert doc.result_layers == [] and np.array_equal(doc.photo.rgb, picture)
    assert window.layers.model.rowCount() == 2
    window.history.stack.undo()
    assert [layer.name for layer in doc.result_layers] == ["B", "A"]
    assert window.layers.model.rowCount() == 4
    names = [window.layers.model.index(r).data() for r in range(4)]
    assert names == ["Mask", "A", "B", "Sample photo"]


def test_mask_from_the_photos_transparency(window, qtbot, tmp_path):
    rgba = np.dstack([data.coffee()[:200, :300], np.full((200, 300), 255, np.uint8)])
    rgba[50:100, 60:160, 3] = 0
    path = tmp_path / "cutout.png"
    Image.fromarray(rgba, "RGBA").save(path)
    assert open_and_wait(qtbot, window, path)
    assert window.actions.mask_from_alpha.isEnabled()
    window.actions.mask_from_alpha.trigger()
    assert (
        window.doc.mask[50:100, 60:160] == 255
    ).all() and window.doc.mask.sum() == 255 * 50 * 100
    window.history.stack.undo()
    assert window.doc.mask.max() == 0


def test_undo_waits_for_the_stroke_in_progress(window, qtbot):
    from PySide6.QtCore import Qt

    from tests.desktop.conftest import drag, widget_point

    canvas, doc, stack = window.canvas, window.doc, window.history.stack
    window.brush.set_size(20)
    drag(qtbot, canvas, [(100, 50), (200, 50)])  # stroke A, done
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 100, 100))
    qtbot.mouseMove(canvas, widget_point(canvas, 200, 100))
    assert not window.actions.undo.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # ignored mid-stroke
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 200, 100))
    assert doc.mask[50, 150] == 255 and doc.mask[100, 150] == 255
    assert stack.count() == 2 and window.actions.undo.isEnabled()
    # a command in mid-stroke: the stroke lands first, as its own step
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 100, 300))
    qtbot.mouseMove(canvas, widget_point(canvas, 200, 300))
    window.edits.invert_mask()
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=widget_point(canvas, 200, 300))
    texts = [stack.text(i) for i in range(stack.count())]
    assert texts == ["Brush stroke"] * 3 + ["Invert mask"]
    assert doc.mask[300, 150] == 0 and doc.mask[200, 400] == 255
    stack.undo()
    assert doc.mask[300, 150] == 255 and doc.mask[200, 400] == 0
