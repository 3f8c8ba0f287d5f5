"""File ▸ Save / Save As (.ora) through the window, Open of a project, failed saves, autosave
wiring, the Recover dialog, and layer import/export."""

import errno
import os

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from skimage import data

from desktop.window.recovery import TITLE, RecoverDialog
from inpaint_core import files
from inpaint_core.autosave import Autosaver
from inpaint_core.inpaint import InpaintResult
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest
from inpaint_core.saving import open_document
from tests.desktop.conftest import drag, open_and_wait

Button = QMessageBox.StandardButton


def _paint(qtbot, window, y=100):
    drag(qtbot, window.canvas, [(100, y), (300, y)])
    assert window.unsaved.has_changes()


def _with_candidate(window):
    doc = window.doc
    patch = np.full((30, 40, 3), 77, np.uint8)
    req = InpaintRequest(engine="classical", seed=5)
    result = InpaintResult(patch=patch, box=BBox(10, 20, 50, 50), request=req, seed=5)
    window.generation.model.candidates.add_results([result], "job", None, doc)
    return result


def test_save_then_reopen_round_trips_through_the_window(window, qtbot, tmp_path):
    _paint(qtbot, window)
    window.edits.add_result_layer(np.full((20, 30, 3), 200, np.uint8), (5, 6, 35, 26), "White")
    _with_candidate(window)
    mask = window.doc.mask.copy()
    target = tmp_path / "work.ora"
    window.ask_project_path = lambda title="": target
    assert window.save_project(wait=True)
    assert target.exists() and not window.unsaved.has_changes()
    assert window.project_path == target
    assert window.actions.save.shortcut().toString() == "Ctrl+S"
    assert window.actions.save_as.shortcut().toString() == "Ctrl+Shift+S"

    # open something else, then the project again: mask, layers, candidates come back
    other = tmp_path / "chelsea.png"
    Image.fromarray(data.chelsea()).save(other)
    assert open_and_wait(qtbot, window, other)
    assert len(window.generation.model.candidates) == 0
    assert open_and_wait(qtbot, window, target)
    doc = window.doc
    assert np.array_equal(doc.mask, mask)
    assert [layer.name for layer in doc.result_layers] == ["White"]
    assert not window.unsaved.has_changes()
    assert window.project_path == target.resolve()
    cands = list(window.generation.model.candidates)
    assert len(cands) == 1 and cands[0].seed == 5
    assert np.array_equal(cands[0].result.patch, np.full((30, 40, 3), 77, np.uint8))
    # Ctrl+S writes back to the same file without asking
    window.ask_project_path = lambda title="": pytest.fail("Save asked for a path")
    _paint(qtbot, window, y=200)
    assert window.save_project(wait=True)
    assert np.array_equal(open_document(target).document.mask, window.doc.mask)


def test_a_failed_save_says_why_and_keeps_the_old_file_and_the_dirty_state(
    window, qtbot, tmp_path, monkeypatch
):
    target = tmp_path / "work.ora"
    window.ask_project_path = lambda title="": target
    assert window.save_project(wait=True)
    before = target.read_bytes()
    _paint(qtbot, window)
    real_replace = os.replace

    def disk_full(src, dst, *a, **k):
        if str(dst) == str(target):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(files.os, "replace", disk_full)
    warnings = []
    window.saver.warn = lambda title, text: warnings.append(text)
    assert not window.save_project(wait=True)
    assert len(warnings) == 1 and "disk is full" in warnings[0]
    assert window.unsaved.has_changes()
    assert target.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name != "work.ora" and p.suffix != ""]


def test_the_save_runs_off_the_gui_thread(window, qtbot, tmp_path, monkeypatch):
    """While the project is written, the event loop keeps running (the window never freezes)."""
    import threading

    from inpaint_core import project

    gate = threading.Event()
    real = project.write_snapshot

    def slow(*a, **k):
        assert threading.current_thread() is not threading.main_thread()
        assert gate.wait(10)
        return real(*a, **k)

    monkeypatch.setattr("inpaint_core.saving.write_snapshot", slow)
    _paint(qtbot, window)
    assert window.save_project(tmp_path / "slow.ora")
    assert window.saver.saving and window.unsaved.has_changes()
    assert window.saver.busy.active and "Saving slow.ora" in window.saver.busy.text
    qtbot.wait(50)  # the GUI thread turns while the writer waits
    QApplication.processEvents()
    gate.set()
    qtbot.waitUntil(lambda: not window.saver.saving, timeout=10000)
    assert not window.unsaved.has_changes()


def test_ctrl_shift_s_saves_as_and_ctrl_s_saves_again(window, qtbot, tmp_path):
    _paint(qtbot, window)
    asked = []
    window.ask_project_path = lambda title="": asked.append(title) or tmp_path / "keys.ora"
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window, Qt.Key.Key_S, mods)
    qtbot.waitUntil(
        lambda: not window.saver.saving and not window.unsaved.has_changes(), timeout=20000
    )
    assert asked == ["Save project as"] and (tmp_path / "keys.ora").exists()
    assert "keys.ora" in window.windowTitle()
    _paint(qtbot, window, y=250)
    assert window.isWindowModified()
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: not window.saver.saving and not window.unsaved.has_changes(), timeout=20000
    )
    assert asked == ["Save project as"]  # Ctrl+S did not ask again
    assert np.array_equal(open_document(tmp_path / "keys.ora").document.mask, window.doc.mask)


def test_a_save_the_photo_changed_under_is_taken_again(window, qtbot, tmp_path, monkeypatch):
    from inpaint_core import project
    from inpaint_core.project import SnapshotChanged

    real, calls = project.write_snapshot, []

    def changed_once(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            raise SnapshotChanged("the photo changed")
        return real(*a, **k)

    monkeypatch.setattr("inpaint_core.saving.write_snapshot", changed_once)
    _paint(qtbot, window)
    assert window.save_project(tmp_path / "again.ora", wait=True)
    assert len(calls) == 2 and not window.unsaved.has_changes()
    assert (tmp_path / "again.ora").exists()


def test_close_with_unsaved_changes_saves_a_project(window, qtbot, tmp_path):
    _paint(qtbot, window)
    target = tmp_path / "closing.ora"
    window.unsaved.ask = lambda action: Button.Save
    window.ask_project_path = lambda title="": target
    assert window.close()
    assert np.array_equal(open_document(target).document.mask > 0, window.doc.mask > 0)


def test_export_goes_through_the_core_and_is_not_a_save(window, qtbot, tmp_path):
    _paint(qtbot, window)
    out = window.exporter.export_picture(tmp_path / "flat.png")
    assert out is not None and out.exists()
    assert window.unsaved.has_changes()  # the layers and mask are not in a flat picture


def test_autosave_writes_and_a_save_removes_it(window, qtbot, tmp_path):
    aut: Autosaver = window.autosave.autosaver
    _paint(qtbot, window)
    assert aut.is_dirty(window.doc)
    aut.save_now(window.doc).result(20)
    path = aut.path_for(window.doc)
    assert path is not None and path.exists()
    window.ask_project_path = lambda title="": tmp_path / "saved.ora"
    assert window.save_project(wait=True)
    assert aut.wait(10)
    assert not path.exists() and not aut.is_dirty(window.doc)


def _crashed_session(folder, mask_value=255):
    """An autosave left by a session that died: an Autosaver whose lock is released unclean."""
    from inpaint_core.document import Document

    doc = Document(np.asarray(data.astronaut()[:200, :300]), name="astronaut.png")
    doc.mask[10:50, 20:80] = mask_value
    aut = Autosaver(folder)
    aut.watch(doc, name="astronaut.png", saved_path="/somewhere/astronaut.ora")
    aut.save_now(doc).result(20)
    aut.close(clean=False)
    return doc


def test_recover_dialog_lists_and_restores(window, qtbot, tmp_path):
    folder = window.autosave.autosaver.folder
    crashed = _crashed_session(folder)
    seen = []

    def answer(dialog: RecoverDialog):
        seen.append((dialog.windowTitle(), [r.name for r in dialog.rows()]))
        assert dialog.list.item(0).icon().isNull() is False  # the thumbnail
        dialog.restore_button.click()

    assert window.offer_recovery(answer) == 1
    assert seen == [(TITLE, ["astronaut.png"])] and TITLE.startswith("Recover")
    assert np.array_equal(window.doc.mask, crashed.mask)
    assert window.unsaved.has_changes()
    assert str(window.project_path) == "/somewhere/astronaut.ora"
    assert window.autosave.autosaver.wait(10)
    assert window.offer_recovery(lambda d: pytest.fail("offered twice")) == 0


def test_restore_all_gives_each_document_its_own_window(window, qtbot):
    folder = window.autosave.autosaver.folder
    first = _crashed_session(folder)
    second = _crashed_session(folder, 128)
    assert window.offer_recovery(lambda d: d.restore_all_button.click()) == 2
    assert len(window.other_windows) == 1
    other = window.other_windows[0]
    try:
        masks = {int(window.doc.mask.max()), int(other.doc.mask.max())}
        assert masks == {int(first.mask.max()), int(second.mask.max())} == {255, 128}
        assert window.unsaved.has_changes() and other.unsaved.has_changes()
        assert other.autosave is window.autosave
        assert window.autosave.autosaver.wait(20)
        # both are this session's autosaves now; the crashed ones are gone
        assert window.autosave.recoverable() == []
        assert window.autosave.autosaver.path_for(other.doc).exists()
    finally:
        other.close()


def test_recover_dialog_discard_all_removes_the_files(window, qtbot):
    folder = window.autosave.autosaver.folder
    _crashed_session(folder)
    _crashed_session(folder, 128)
    doc = window.doc
    assert window.offer_recovery(lambda d: d.discard_all_button.click()) == 0
    assert window.doc is doc
    assert window.autosave.recoverable() == []


def test_import_image_as_layer_is_one_undo_step_and_export_layers(window, tmp_path):
    pic = tmp_path / "coffee.png"
    Image.fromarray(data.coffee()[:100, :120]).save(pic)
    steps = window.history.stack.count()
    assert window.import_layer_file(pic)
    assert window.history.stack.count() == steps + 1
    layer = window.doc.result_layers[-1]
    assert layer.name == "coffee.png" and layer.rgb.shape == (100, 120, 3)
    out = window.export_layers_to(tmp_path / "layers")
    assert len(out) == len(window.doc.layers) and all(p.suffix == ".png" for p in out)
    window.history.stack.undo()
    assert window.doc.result_layers == []
    assert not window.import_layer_file(tmp_path / "missing.png")


def test_closing_while_a_save_runs_waits_for_it_then_saves(window, qtbot, tmp_path, monkeypatch):
    import threading

    from PySide6.QtCore import QTimer

    from inpaint_core import project

    gate, real = threading.Event(), project.write_snapshot

    def slow(*a, **k):
        assert gate.wait(10)
        return real(*a, **k)

    monkeypatch.setattr("inpaint_core.saving.write_snapshot", slow)
    _paint(qtbot, window)
    target = tmp_path / "busy.ora"
    assert window.save_project(target)  # Ctrl+S, still writing
    _paint(qtbot, window, y=250)  # more work meanwhile
    window.unsaved.ask = lambda action: Button.Save
    QTimer.singleShot(100, gate.set)
    assert window.close()
    assert np.array_equal(open_document(target).document.mask, window.doc.mask)
