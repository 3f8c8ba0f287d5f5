"""Issue 17 gap: Esc did not stop a live render (the Cancel action only knew generations). Esc
(and the panel's Cancel) stop the running live render within a step; Live stays on."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from inpaint_core.engines.classical import ClassicalEngine
from tests.desktop.conftest import drag


class SlowEngine(ClassicalEngine):
    """A render that only ends when cancelled (or after 10 s: the test then fails, never hangs)."""

    def __init__(self):
        super().__init__()
        self.started = threading.Event()
        self.stopped_by_cancel = threading.Event()

    def run(self, request, image, mask, on_event, cancel):
        self.started.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if cancel.cancelled:
                self.stopped_by_cancel.set()
                cancel.raise_if_cancelled()
            time.sleep(0.01)
        return super().run(request, image, mask, on_event, cancel)


@pytest.fixture
def live(window):
    p = window.generation.panel
    p.engine_combo.setCurrentIndex(p.engine_combo.findData("classical"))
    assert p.validate() is not None
    lp = window.creative.live
    lp.debounce_s = 0.0
    engine = SlowEngine()
    lp.engine_for = lambda request: engine
    lp.slow = engine
    yield lp
    lp.action.setChecked(False)
    lp.close()
    window.generation.shutdown()


def _start_render(window, qtbot, live):
    live.action.setChecked(True)
    drag(qtbot, window.canvas, [(150, 150), (220, 190)])
    assert live.slow.started.wait(10)
    QApplication.processEvents()
    assert live.rendering
    assert window.generation.actions.cancel.isEnabled()  # Esc is live while it renders


def test_esc_stops_the_running_live_render(window, qtbot, live):
    _start_render(window, qtbot, live)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert live.slow.stopped_by_cancel.wait(5)  # stopped, not run to its end
    assert live.runner.wait_idle(5)
    QApplication.processEvents()
    assert not live.rendering and live.runner.delivered == 0
    assert not window.generation.actions.cancel.isEnabled()
    assert live.action.isChecked()  # Live stays on: the next stroke renders again


def test_the_panels_cancel_button_stops_it_too(window, qtbot, live):
    _start_render(window, qtbot, live)
    panel = window.generation.panel
    assert panel.cancel_button.isEnabled()
    panel.cancel_button.click()
    assert live.slow.stopped_by_cancel.wait(5)
    QApplication.processEvents()
    assert not live.rendering and not panel.cancel_button.isEnabled()
