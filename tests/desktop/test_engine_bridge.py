import threading

import numpy as np
from PySide6.QtCore import QObject
from skimage import data

from inpaint_core.request import InpaintRequest
from tests.engines_for_tests import SolidFillEngine


class Sink(QObject):
    def __init__(self):
        super().__init__()
        self.kinds, self.threads = [], set()

    def take(self, event):
        self.kinds.append(event.kind)
        self.threads.add(threading.current_thread())


def _inputs():
    photo = data.coffee()
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[100:140, 200:260] = 255
    return photo, mask


def test_bridge_delivers_signals_on_the_gui_thread(qtbot):
    from desktop.engine_bridge import EngineBridge

    engine = SolidFillEngine(steps=3)
    bridge = EngineBridge(engine_factory=lambda r: engine)
    gui = threading.current_thread()
    seen = {"progress": [], "threads": set(), "results": None}
    bridge.progress_changed.connect(
        lambda j, p, s, t, m: (
            seen["progress"].append(p),
            seen["threads"].add(threading.current_thread()),
        )
    )
    bridge.results_ready.connect(lambda j, res: seen.__setitem__("results", res))
    sink = Sink()  # what the generation controller does: every event, to a GUI-thread object
    bridge.event_received.connect(sink.take)
    with qtbot.waitSignal(bridge.job_finished, timeout=5000):
        bridge.submit(InpaintRequest(seeds=(3, 4)), *_inputs())
    assert seen["threads"] == {gui}
    assert seen["progress"][-1] == 1.0
    assert [r.seed for r in seen["results"]] == [3, 4]
    qtbot.waitUntil(lambda: "finished" in sink.kinds, timeout=5000)
    assert sink.kinds[0] == "queued" and sink.kinds[-1] == "finished"
    assert sink.threads == {gui}
    bridge.shutdown()


def test_bridge_reports_errors_and_cancel(qtbot):
    from desktop.engine_bridge import EngineBridge
    from inpaint_core.jobs import EngineCache

    engine = SolidFillEngine(steps=100)
    engine.gate = threading.Event()
    cache = EngineCache()
    bridge = EngineBridge(engine_factory=lambda r: engine if r.engine == "classical" else cache(r))
    with qtbot.waitSignal(bridge.job_started, timeout=5000):
        jid = bridge.submit(InpaintRequest(seed=1), *_inputs())
    with qtbot.waitSignal(bridge.job_cancelled, timeout=5000) as blocker:
        bridge.cancel(jid)
        engine.gate.set()
    assert blocker.args == [jid]
    with qtbot.waitSignal(bridge.job_failed, timeout=5000) as blocker:
        bridge.submit(InpaintRequest(engine="diffusion", scheduler="DDIM"), *_inputs())
    assert "needs a model" in blocker.args[1]
    bridge.shutdown()
