"""Live preview in the studio with the classical engine: a burst of strokes gives one run, and the
last stroke's result is what the canvas shows."""

from __future__ import annotations

import numpy as np
import pytest

from inpaint_core.engines.classical import ClassicalEngine
from inpaint_core.inpaint import inpaint
from inpaint_core.live import preview_request
from tests.desktop.conftest import drag


@pytest.fixture
def live(window):
    p = window.generation.panel
    p.engine_combo.setCurrentIndex(p.engine_combo.findData("classical"))
    assert p.validate() is not None
    lp = window.creative.live
    lp.debounce_s = 1.0  # generous: the burst below must land inside one debounce window
    yield lp
    lp.action.setChecked(False)
    lp.close()
    window.generation.shutdown()


def test_a_burst_of_strokes_gives_one_run_and_the_last_stroke_wins(window, qtbot, live):
    live.action.setChecked(True)
    assert live.runner is None  # nothing masked yet: nothing to run
    strokes = [
        [(120, 120), (160, 130)],
        [(200, 150), (240, 170)],
        [(260, 200), (300, 220)],
        [(320, 240), (330, 260)],
    ]
    for points in strokes:
        drag(qtbot, window.canvas, points)
    assert live.submitted == 4
    runner = live.runner
    assert runner is not None
    with qtbot.waitSignal(live.shown, timeout=30000) as blocker:
        pass
    assert runner.wait_idle(10)
    assert runner.started == 1 and runner.delivered == 1  # one run for the burst
    shown = blocker.args[0]
    assert shown.generation == 4 and live.last is shown
    # what the canvas shows is the last stroke's render: the whole final mask, recomputed here
    doc = window.document
    expected = inpaint(
        preview_request(window.generation.model.effective_request(), target_size=256),
        doc.flatten(),
        doc.mask,
        ClassicalEngine(),
    )[0]
    result = shown.results[0]
    assert result.box == expected.box
    assert np.array_equal(result.patch, expected.patch)
    overlay = window.canvas._preview
    assert overlay is not None and overlay[1] == result.box


def test_a_new_stroke_cancels_the_stale_run_and_toggle_off_clears(window, qtbot, live):
    live.debounce_s = 0.0
    live.action.setChecked(True)
    drag(qtbot, window.canvas, [(150, 150), (200, 180)])
    drag(qtbot, window.canvas, [(220, 190), (260, 210)])
    drag(qtbot, window.canvas, [(270, 230), (300, 250)])
    qtbot.waitUntil(lambda: live.last is not None and live.last.generation == 3, timeout=30000)
    runner = live.runner
    assert runner.wait_idle(10)
    assert runner.delivered >= 1 and runner.started == runner.delivered + runner.cancelled
    assert live.last.generation == live.submitted == 3
    live.action.setChecked(False)
    assert window.canvas._preview is None and live.last is None


def test_live_with_the_tiny_diffusion_model_runs_on_the_generation_worker(
    window, qtbot, tiny_model_dir
):
    """A diffusion live render is a job on the generation queue's one worker: a burst of strokes
    gives one render there, and it never runs beside a generation."""
    import threading

    lp = window.creative.live
    ctl = window.generation
    try:
        p = ctl.panel
        p.picker.choose_model(str(tiny_model_dir))
        p.steps_spin.setValue(2)
        assert p.validate() is not None
        threads = []
        factory = ctl.engine_cache

        def spying(request):
            threads.append(threading.current_thread().name)
            return factory(request)

        lp.engine_for._args = (*lp.engine_for._args[:2], spying)
        lp.debounce_s = 1.0
        lp.action.setChecked(True)
        for points in ([(150, 150), (200, 180)], [(220, 190), (260, 210)]):
            drag(qtbot, window.canvas, points)
        with qtbot.waitSignal(lp.shown, timeout=120000) as blocker:
            pass
        assert lp.runner.wait_idle(30)
        assert lp.runner.started == 1 and blocker.args[0].generation == 2
        assert len(threads) == 1 and threads[0] != "live-preview"  # the queue's worker
        result = blocker.args[0].results[0]
        assert result.request.steps == 2 and result.request.num_outputs == 1
        assert ctl.tray.count() == 0  # a live render is no candidate
        assert window.canvas._preview is not None and window.canvas._preview[1] == result.box
    finally:
        lp.action.setChecked(False)
        lp.close()
        ctl.shutdown()


def test_a_preview_for_another_canvas_size_is_not_shown(window, qtbot, live):
    """The picture grew (Extend canvas) while the preview ran: it would not fit, so it is dropped."""
    from desktop.outpaint.dialog import ExtendChoice
    from inpaint_core.outpaint import Extension

    live.debounce_s = 0.3
    live.action.setChecked(True)
    drag(qtbot, window.canvas, [(150, 150), (200, 180)])
    window.creative.extender.extend(ExtendChoice(Extension(right=64), overlap=32, prefill="edge"))
    assert live.runner.wait_idle(30)
    qtbot.wait(100)  # the queued delivery reaches the GUI thread
    assert live.runner.delivered == 1 and live.last is None
