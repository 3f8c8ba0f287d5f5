"""Generation inside the real studio window (the sample photo, the real canvas, layers and history),
with the tiny random-weight diffusion model on the worker thread."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow

from inpaint_core.inpaint import plan_for
from tests.desktop.conftest import drag


@pytest.fixture
def studio(window):
    ctl = window.generation
    ctl.engine_cache.preview_interval_s = 0.0  # a preview at every step (default: 4 per second)
    yield ctl
    ctl.shutdown()


def paint_mask(qtbot, window):
    drag(qtbot, window.canvas, [(250, 180), (330, 200), (300, 240)])
    assert window.document.mask.any()


def set_up(ctl, model_dir, steps):
    p = ctl.panel
    p.picker.choose_model(str(model_dir))
    p.prompt_edit.setPlainText("a wooden table")
    p.steps_spin.setValue(steps)
    p.outputs_spin.setValue(2)
    p.target_spin.setValue(64)
    p.random_seed_check.setChecked(False)
    p.seed_edit.setText("31")
    assert p.validate() is not None


def test_the_window_gets_the_panels_actions_and_status(studio, window):
    ctl = studio
    assert window.findChild(QDockWidget, "parametersDock").widget() is ctl.panel
    assert window.findChild(QDockWidget, "candidatesDock").widget() is ctl.tray
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert "Generate" in titles and titles.index("Generate") < titles.index("Help")
    actions = QMainWindow.actions(window)  # the window's own ``actions`` attribute shadows it
    assert ctl.actions.generate in actions and ctl.actions.cancel in actions
    assert ctl.model_label.parent() is not None and ctl.device_label.parent() is not None


def test_generate_in_the_window_keep_and_undo(studio, window, qtbot, tiny_model_dir):
    ctl = studio
    doc = window.document
    paint_mask(qtbot, window)
    set_up(ctl, tiny_model_dir, steps=500)
    ctl.panel.target_spin.setValue(128)
    previews, cancelled = [], []
    ctl.bridge.job_cancelled.connect(cancelled.append)
    ctl.bridge.preview_ready.connect(lambda j, rgb: previews.append(rgb.shape))
    first = ctl.generate()
    qtbot.waitUntil(lambda: len(previews) >= 2, timeout=60000)
    # the step preview is drawn into the masked region on the canvas
    assert window.canvas._preview is not None
    planned = plan_for(ctl.model.jobs[first].request, window.document.mask, "diffusion")
    assert window.canvas._preview[1] == planned.box  # placed by the core, drawn as it came
    # while it runs: zoom, pan, paint, and queue another run
    assert ctl.model.busy
    zoom = window.canvas.zoom
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)  # zoom in
    assert window.canvas.zoom > zoom
    window.canvas.pan_by(15, 10)
    before = int(doc.mask.sum())
    drag(qtbot, window.canvas, [(80, 80), (120, 90)])
    assert int(doc.mask.sum()) > before
    ctl.panel.steps_spin.setValue(2)
    second = ctl.generate()
    assert ctl.model.busy and second != first
    ctl.actions.cancel.trigger()  # drop both: the long one and the queued one
    # the worker's state (busy) changes before its queued signals reach this thread: wait for both
    qtbot.waitUntil(lambda: not ctl.model.busy and len(cancelled) == 2, timeout=30000)
    assert cancelled == [first, second] and ctl.tray.count() == 0
    ctl.panel.target_spin.setValue(64)
    # generate for real, keep one, undo it with Ctrl+Z
    ctl.generate()
    qtbot.waitUntil(lambda: ctl.tray.count() == 2, timeout=60000)
    assert not doc.mask_layer.visible  # the mask tint is hidden while a candidate is shown
    cand = ctl.tray.candidates()[1]
    ctl.tray.select(cand)
    assert window.canvas._preview[1] == cand.result.box
    ctl.tray.keep_action.trigger()
    assert len(doc.result_layers) == 1
    assert np.array_equal(doc.flatten()[cand.result.box.slices], cand.result.patch)
    assert doc.mask_layer.visible  # back once the preview is gone
    assert "seed 32" in window.undo_stack.text(window.undo_stack.index() - 1)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.result_layers == []
    QApplication.processEvents()


def test_save_with_parameters_and_reopen_offers_them(
    studio, window, qtbot, tiny_model_dir, tmp_path
):
    ctl = studio
    paint_mask(qtbot, window)
    set_up(ctl, tiny_model_dir, steps=2)
    ctl.generate()
    qtbot.waitUntil(lambda: ctl.tray.count() == 2, timeout=60000)
    cand = ctl.tray.candidates()[0]
    ctl.candidates.keep(cand)
    path = ctl.files.save_with_parameters(str(tmp_path / "made.png"))
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), window.document.flatten())
    expected = cand.result.request  # the kept one: its own seed, one output
    assert expected.seed == 31 and expected.num_outputs == 1
    ctl.panel.set_request(type(expected)())
    # opening the PNG as a picture offers its parameters in the panel
    old = window.document
    assert window.opener.open_source(str(path))
    qtbot.waitUntil(lambda: window.document is not old, timeout=20000)  # (may load in background)
    assert ctl.tray.count() == 0  # candidates of the previous picture are gone
    assert ctl.panel.offer_frame.isVisibleTo(ctl.panel)
    ctl.panel.offer_load_button.click()
    assert ctl.panel.request() == expected
    assert not ctl.panel.offer_frame.isVisibleTo(ctl.panel)


def test_a_bad_model_path_keeps_the_window_alive(studio, window, qtbot, tmp_path):
    ctl = studio
    with qtbot.waitSignal(ctl.bridge.job_failed, timeout=30000):
        ctl.panel.picker.choose_model(str(tmp_path / "missing-model"))
    assert "missing-model" in ctl.panel.field_error("model")
    assert window.isVisible() and window.document is not None
    drag(qtbot, window.canvas, [(100, 100), (140, 120)])  # still works
    assert window.document.mask.any()


def test_closing_the_window_saves_settings_and_stops_the_worker(studio, window, qtbot):
    ctl = studio
    ctl.panel.steps_spin.setValue(17)
    worker = ctl.bridge.queue._thread
    assert worker.is_alive()
    window.close()
    qtbot.waitUntil(lambda: not worker.is_alive(), timeout=10000)
    state = json.loads(window.settings.value("generation/state", "{}", type=str))
    assert state["request"]["steps"] == 17  # the model's own to_dict


def test_ctrl_enter_generates_while_typing_the_prompt(studio, window, qtbot, tiny_model_dir):
    ctl = studio
    paint_mask(qtbot, window)
    set_up(ctl, tiny_model_dir, steps=2)
    ctl.panel.outputs_spin.setValue(1)
    window.findChild(QDockWidget, "parametersDock").raise_()
    ctl.panel.prompt_edit.setFocus()
    qtbot.waitUntil(lambda: ctl.panel.prompt_edit.hasFocus(), timeout=2000)
    text = ctl.panel.prompt_edit.toPlainText()
    qtbot.keyClick(ctl.panel.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert ctl.panel.prompt_edit.toPlainText() == text  # no new line typed
    qtbot.waitUntil(lambda: ctl.tray.count() == 1, timeout=30000)
