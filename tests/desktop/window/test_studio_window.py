"""The studio window driven with the mouse and keyboard (pytest-qt, offscreen)."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QByteArray, QEvent, QMimeData, QObject, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication
from skimage import data

from desktop.settings import open_settings, read
from desktop.window.main_window import MainWindow
from tests.desktop.conftest import drag, open_and_wait, widget_point

Key = Qt.Key
Ctrl = Qt.KeyboardModifier.ControlModifier
Shift = Qt.KeyboardModifier.ShiftModifier


def test_opens_the_sample_with_docks_and_status(window):
    doc = window.doc
    assert doc.size == (600, 400)
    assert "Sample photo" in window.windowTitle()
    assert window.status.size.text() == "600 × 400 px"
    for name in ("layersDock", "historyDock", "parametersDock", "candidatesDock"):
        assert window.docks[name].objectName() == name
    assert window.layers.model.rowCount() == 2  # mask, photo
    assert window.status.zoom.text().endswith("%")
    assert not window.windowIcon().isNull()


def test_stroke_paints_the_mask_under_the_mouse(window, qtbot):
    canvas = window.canvas
    window.brush.set_size(20)
    window.brush.set_hardness(1.0)
    drag(qtbot, canvas, [(100, 200), (250, 200), (400, 200)])
    m = window.doc.mask
    # the painted band, with a margin for the mapping to whole screen pixels
    assert (m[195:206, 110:390] == 255).all()
    assert m[170, 250] == 0 and m[230, 250] == 0 and m[200, 450] == 0
    assert window.history.stack.count() == 1
    assert window.history.stack.text(0) == "Brush stroke"


def test_fast_mouse_moves_leave_no_gaps(window, qtbot):
    window.brush.set_size(6)
    window.brush.set_hardness(1.0)
    drag(qtbot, window.canvas, [(20, 20), (580, 380)])  # one jump across the photo
    m = window.doc.mask
    for t in np.linspace(0.05, 0.95, 60):
        x, y = 20 + 560 * t, 20 + 360 * t
        assert m[int(y), int(x)] == 255, (x, y)


def test_erase_part_then_undo_redo_restore_exact_pixels(window, qtbot):
    canvas = window.canvas
    window.brush.set_size(30)
    empty = window.doc.mask.copy()
    drag(qtbot, canvas, [(100, 200), (500, 200)])
    painted = window.doc.mask.copy()
    qtbot.keyClick(window, Key.Key_E)
    assert window.brush.erase
    drag(qtbot, canvas, [(300, 120), (300, 280)])
    erased = window.doc.mask.copy()
    assert (erased[190:211, 290:311] == 0).all()  # the eraser's path
    assert (erased[195:206, 150:250] == 255).all()  # the rest of the stroke stays
    assert window.history.stack.text(1) == "Erase"

    qtbot.keyClick(window, Key.Key_Z, Ctrl)
    assert np.array_equal(window.doc.mask, painted)
    qtbot.keyClick(window, Key.Key_Z, Ctrl)
    assert np.array_equal(window.doc.mask, empty)
    qtbot.keyClick(window, Key.Key_Z, Ctrl | Shift)
    assert np.array_equal(window.doc.mask, painted)
    qtbot.keyClick(window, Key.Key_Y, Ctrl)
    assert np.array_equal(window.doc.mask, erased)


def test_history_panel_jumps_to_any_step(window, qtbot):
    window.brush.set_size(10)
    states = [window.doc.mask.copy()]
    for y in (100, 200, 300):
        drag(qtbot, window.canvas, [(50, y), (550, y)])
        states.append(window.doc.mask.copy())
    view = window.undo_view
    for step in (1, 3, 0, 2):
        view.setCurrentIndex(view.model().index(step, 0))
        assert np.array_equal(window.doc.mask, states[step])


def test_layer_operations_undo(window, qtbot):
    doc = window.doc
    before = doc.flatten()
    layer = window.edits.add_result_layer(
        np.full((60, 80, 3), (10, 200, 30), np.uint8), (300, 100, 380, 160), "Result #1"
    )
    assert layer is not None and window.layers.current_layer() is layer
    assert window.layers.model.rowCount() == 3
    assert (doc.flatten()[100:160, 300:380] == (10, 200, 30)).all()
    # hide it from the panel's checkbox: one undo step
    row = window.layers.model.index(1)
    window.layers.model.setData(row, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert np.array_equal(doc.flatten(), before)
    qtbot.keyClick(window, Key.Key_Z, Ctrl)
    assert (doc.flatten()[100:160, 300:380] == (10, 200, 30)).all()
    # delete (Layer menu), undo brings it back, undo again removes it
    window.actions.delete_layer.trigger()
    assert doc.result_layers == [] and np.array_equal(doc.flatten(), before)
    qtbot.keyClick(window, Key.Key_Z, Ctrl)
    assert doc.result_layers == [layer]
    window.layers.select_layer(1)
    window.actions.merge_down.trigger()
    assert doc.result_layers == [] and (doc.photo.rgb[100:160, 300:380] == (10, 200, 30)).all()
    qtbot.keyClick(window, Key.Key_Z, Ctrl)
    assert doc.result_layers == [layer] and np.array_equal(doc.photo.rgb, before)
    qtbot.keyClick(window, Key.Key_Z, Ctrl)
    qtbot.keyClick(window, Key.Key_Z, Ctrl)  # the visibility change
    qtbot.keyClick(window, Key.Key_Z, Ctrl)  # the layer itself
    assert doc.result_layers == [] and window.layers.model.rowCount() == 2


def test_rename_and_opacity_from_the_panel(window):
    doc = window.doc
    window.edits.add_result_layer(np.zeros((10, 10, 3), np.uint8), (0, 0, 10, 10), "A")
    window.layers.model.setData(window.layers.model.index(1), "Sky patch", Qt.ItemDataRole.EditRole)
    assert doc.result_layers[0].name == "Sky patch"
    window.layers.opacity.setValue(40)  # a click on the slider: one step
    assert doc.result_layers[0].opacity == pytest.approx(0.4)
    texts = [window.history.stack.text(i) for i in range(window.history.stack.count())]
    assert texts == ["Apply A", "Rename to Sky patch", "Sky patch opacity 40 %"]
    window.history.stack.undo()
    assert doc.result_layers[0].opacity == 1.0


def test_shortcuts(window, qtbot):
    b = window.brush
    qtbot.keyClick(window, Key.Key_E)
    assert b.erase and window.actions.eraser.isChecked()
    qtbot.keyClick(window, Key.Key_B)
    assert not b.erase and window.actions.brush.isChecked()
    qtbot.keyClick(window, Key.Key_X)
    assert b.erase
    qtbot.keyClick(window, Key.Key_X)
    assert not b.erase
    size = b.size
    qtbot.keyClick(window, Key.Key_BracketRight)
    assert b.size > size and window.size_spin.value() == round(b.size)
    qtbot.keyClick(window, Key.Key_BracketLeft)
    qtbot.keyClick(window, Key.Key_BracketLeft)
    assert b.size < size
    qtbot.keyClick(window, Key.Key_H)
    assert not window.doc.mask_layer.visible and not window.actions.show_overlay.isChecked()
    qtbot.keyClick(window, Key.Key_H)
    assert window.doc.mask_layer.visible
    qtbot.keyClick(window, Key.Key_1, Ctrl)
    assert window.canvas.zoom == 1.0 and window.status.zoom.text() == "100 %"
    qtbot.keyClick(window, Key.Key_0, Ctrl)
    assert window.canvas.zoom == pytest.approx(window.canvas.fit_zoom())
    qtbot.keyClick(window, Key.Key_I, Ctrl | Shift)  # invert mask
    assert window.doc.mask.min() == 255
    qtbot.keyClick(window, Key.Key_Z, Ctrl)
    assert window.doc.mask.max() == 0


def test_mask_menu_operations_are_undoable(window, qtbot):
    window.brush.set_size(20)
    window.brush.set_hardness(1.0)
    drag(qtbot, window.canvas, [(200, 200), (300, 200)])
    painted = window.doc.mask.copy()
    window.edits.grow_mask(5)
    assert window.doc.mask[187, 250] == 255 and painted[187, 250] == 0
    window.edits.feather_mask(4)
    assert 0 < window.doc.mask[184, 250] < 255
    window.edits.clear_mask()
    assert window.doc.mask.max() == 0
    stack = window.history.stack
    assert [stack.text(i) for i in range(stack.count())][-3:] == [
        "Grow mask 5 px",
        "Feather mask 4 px",
        "Clear mask",
    ]
    for _ in range(3):
        stack.undo()
    assert np.array_equal(window.doc.mask, painted)


def test_load_mask_validates_size_and_offers_resize(window, tmp_path, monkeypatch):
    small = np.zeros((200, 300), np.uint8)
    small[50:100, 100:200] = 255
    path = tmp_path / "mask.png"
    Image.fromarray(small).save(path)
    monkeypatch.setattr(window, "confirm", lambda title, text: False)
    assert not window.edits.load_mask(path)
    assert "300×200" in window.banner.text() and "600×400" in window.banner.text()
    assert window.doc.mask.max() == 0
    monkeypatch.setattr(window, "confirm", lambda title, text: True)
    assert window.edits.load_mask(path)
    assert window.doc.mask[150, 300] == 255 and window.doc.mask[50, 50] == 0
    # a file that is not an image: a clear message, nothing changes
    bad = tmp_path / "bad.png"
    bad.write_text("not a picture")
    before = window.doc.mask.copy()
    assert not window.edits.load_mask(bad)
    assert "Could not load the mask" in window.banner.text()
    assert np.array_equal(window.doc.mask, before)


def test_bad_file_shows_an_error_and_keeps_the_document(window, qtbot, tmp_path):
    doc = window.doc
    bad = tmp_path / "holiday.png"
    bad.write_text("this is not a PNG")
    assert not open_and_wait(qtbot, window, bad)
    assert window.doc is doc
    assert window.banner.isVisible() and "Could not open holiday.png" in window.banner.text()
    assert not open_and_wait(qtbot, window, tmp_path / "missing.jpg")
    assert window.doc is doc
    # and the window still works
    window.brush.set_size(10)
    doc.begin_stroke()
    doc.paint_dab(50, 50, 5)
    window.push_edit(doc.end_stroke())
    assert window.history.stack.count() == 1


def _jpeg(path, w, h):
    y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
    x = np.linspace(0, 255, w, dtype=np.float32)[None, :]
    rgb = np.empty((h, w, 3), np.uint8)
    rgb[..., 0] = x
    rgb[..., 1] = y
    rgb[..., 2] = 128
    Image.fromarray(rgb).save(path, quality=80)
    return path


def test_an_8000x6000_photo_opens_and_takes_a_stroke(window, qtbot, tmp_path):
    path = _jpeg(tmp_path / "big.jpg", 8000, 6000)
    assert open_and_wait(qtbot, window, path)
    doc = window.doc
    assert doc.size == (8000, 6000) and window.status.size.text() == "8000 × 6000 px"
    window.brush.set_size(200)
    drag(qtbot, window.canvas, [(2000, 3000), (4000, 3000), (6000, 3000)])
    assert (doc.mask[2950:3050, 2100:5900] == 255).all()
    assert doc.mask[2500, 4000] == 0
    cmd = window.history.stack.command(0)
    # the undo step keeps the stroke's pixels, not the photo's 48 M mask pixels
    assert cmd.edit.nbytes < 8 * 1024 * 1024
    window.history.stack.undo()
    assert doc.mask.max() == 0


def _drop(window, mime):
    pos = QPointF(window.canvas.mapTo(window, QPoint(50, 50)))
    no_mod = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(
        pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, no_mod
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, no_mod)
    QApplication.sendEvent(window, drop)


def test_drop_a_file_opens_it(window, qtbot, tmp_path):
    path = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    with qtbot.waitSignal(window.loader.finished):
        _drop(window, mime)
    assert window.doc.size == (451, 300) and window.doc.photo.name == "chelsea.png"
    assert np.array_equal(window.doc.photo.rgb, data.chelsea())
    # a dropped link that is neither a file nor http(s): an error, the document stays
    doc = window.doc
    mime2 = QMimeData()
    mime2.setUrls([QUrl("ftp://example.invalid/x.png")])
    _drop(window, mime2)
    assert window.doc is doc and "Nothing to open" in window.banner.text()


def test_paste_an_image_from_the_clipboard(window, qtbot):
    rgb = np.ascontiguousarray(data.coffee()[:200, :300])
    image = QImage(rgb.data, 300, 200, rgb.strides[0], QImage.Format.Format_RGB888).copy()
    QGuiApplication.clipboard().setImage(image)
    with qtbot.waitSignal(window.loader.finished):
        qtbot.keyClick(window, Key.Key_V, Ctrl)
    assert window.doc.size == (300, 200) and window.doc.photo.name == "Pasted image"
    assert np.array_equal(window.doc.photo.rgb, rgb)


def test_wheel_zooms_to_the_cursor(window):
    canvas = window.canvas
    anchor = widget_point(canvas, 150, 100)
    before = canvas.widget_to_image(QPointF(anchor))
    ev = QWheelEvent(
        QPointF(anchor),
        QPointF(canvas.mapToGlobal(anchor)),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    zoom = canvas.zoom
    QApplication.sendEvent(canvas, ev)
    assert canvas.zoom == pytest.approx(zoom * 2**0.5, rel=1e-3)
    after = canvas.widget_to_image(QPointF(anchor))
    assert abs(after[0] - before[0]) < 1 and abs(after[1] - before[1]) < 1


def test_pan_with_middle_button_and_space_drag(window, qtbot):
    canvas = window.canvas
    off = canvas.offset
    qtbot.mousePress(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(300, 300))
    qtbot.mouseMove(canvas, QPoint(340, 320))
    qtbot.mouseRelease(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(340, 320))
    assert canvas.offset - off == QPointF(40, 20)
    canvas.setFocus()
    qtbot.keyPress(canvas, Key.Key_Space)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(300, 300))
    qtbot.mouseMove(canvas, QPoint(280, 310))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(280, 310))
    qtbot.keyRelease(canvas, Key.Key_Space)
    assert canvas.offset - off == QPointF(20, 30)
    assert window.doc.mask.max() == 0  # panning painted nothing
    assert window.history.stack.count() == 0


class _PaintSpy(QObject):
    def __init__(self):
        super().__init__()
        self.rects = []

    def eventFilter(self, obj, event):  # noqa: N802
        if event.type() == QEvent.Type.Paint:
            self.rects.append(event.rect())
        return False


def test_a_stroke_repaints_only_its_rectangle(window, qtbot):
    canvas = window.canvas
    canvas.repaint()
    spy = _PaintSpy()
    canvas.installEventFilter(spy)
    window.brush.set_size(10)
    drag(qtbot, canvas, [(100, 100), (110, 104)])
    canvas.removeEventFilter(spy)
    full = canvas.width() * canvas.height()
    assert spy.rects, "the stroke was painted"
    assert max(r.width() * r.height() for r in spy.rects) < full / 20


def test_undo_memory_is_bounded(window, qtbot):
    window.history.set_limit(64 * 1024)  # a tiny budget: each stroke below is ~15 KiB
    window.brush.set_size(30)
    for y in range(40, 400, 40):
        drag(qtbot, window.canvas, [(50, y), (250, y)])
    h = window.history
    assert h.dropped > 0 and h.bytes_used <= h.limit_bytes
    assert "dropped" in window.status.memory.text()
    kept = h.stack.count()
    # the kept steps still undo exactly
    for _ in range(kept):
        h.stack.undo()
    assert window.doc.mask[360, 100] == 0 and window.doc.mask[40, 100] == 255


def test_export_picture_and_mask(window, tmp_path):
    window.edits.add_result_layer(np.full((20, 20, 3), 255, np.uint8), (0, 0, 20, 20), "White")
    for name in ("out.png", "out.jpg", "out.webp"):
        assert window.exporter.export_picture(tmp_path / name)
        with Image.open(tmp_path / name) as im:
            assert im.size == (600, 400)
    assert (np.asarray(Image.open(tmp_path / "out.png"))[:20, :20] == 255).all()
    assert window.exporter.export_mask(tmp_path / "mask.png")
    assert not window.exporter.export_picture(tmp_path / "out.gif")
    assert "Could not export" in window.banner.text()


def test_window_layout_and_recent_files_are_remembered(qtbot, settings_dir, tmp_path):
    path = tmp_path / "rocket.png"
    Image.fromarray(data.rocket()).save(path)
    w = MainWindow(open_settings(settings_dir))
    qtbot.addWidget(w)
    w.resize(760, 540)  # inside the offscreen screen (800x600): restoreGeometry clamps to it
    w.show()
    assert open_and_wait(qtbot, w, path)
    w.docks["historyDock"].hide()
    w.brush.set_size(77)
    saved = w.size()
    w.close()
    s = open_settings(settings_dir)
    assert read(s, "recent/files", [], list)[0] == str(path.resolve())
    assert not read(s, "window/geometry", QByteArray(), QByteArray).isEmpty()
    w2 = MainWindow(open_settings(settings_dir))
    qtbot.addWidget(w2)
    w2.show()
    assert w2.size() == saved
    assert not w2.docks["historyDock"].isVisible()
    assert w2.brush.size == 77
    w2.opener.rebuild_recent_menu(w2.recent_menu)
    assert w2.recent_menu.actions()[0].text() == "rocket.png"
