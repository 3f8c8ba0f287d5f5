import threading

import numpy as np
from skimage import data

from inpaint_core.errors import InpaintError
from inpaint_core.jobs import JobQueue
from inpaint_core.request import InpaintRequest
from tests.engines_for_tests import SolidFillEngine


class Recorder:
    def __init__(self):
        self.events = []
        self.done = threading.Event()
        self.finished = 0
        self.threads = set()

    def __call__(self, ev):
        self.threads.add(threading.current_thread().name)
        self.events.append(ev)
        if ev.kind == "finished":
            self.finished += 1
            self.done.set()

    def kinds(self, job_id):
        return [e.kind for e in self.events if e.job_id == job_id]


def _inputs():
    photo = data.coffee()
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[100:140, 200:260] = 255
    return photo, mask


def _wait(rec, n):
    for _ in range(200):
        if rec.finished >= n:
            return
        rec.done.wait(0.05)
        rec.done.clear()
    raise AssertionError(f"only {rec.finished} of {n} jobs finished")


def test_job_runs_on_worker_thread_and_streams_events():
    rec = Recorder()
    engine = SolidFillEngine(steps=3)
    q = JobQueue(rec, engine_factory=lambda r: engine, progress_interval=0)
    photo, mask = _inputs()
    jid = q.submit(InpaintRequest(seeds=(1, 2)), photo, mask)
    _wait(rec, 1)
    kinds = rec.kinds(jid)
    assert kinds[0] == "queued" and kinds[1] == "started" and kinds[-2:] == ["result", "finished"]
    assert kinds.count("progress") == 3
    result = [e for e in rec.events if e.kind == "result"][0]
    assert [r.seed for r in result.images] == [1, 2]
    assert "inpaint-worker" in rec.threads
    q.shutdown()


def test_cancel_mid_run_and_queued_then_worker_still_usable():
    rec = Recorder()
    engine = SolidFillEngine(steps=50)
    engine.gate = threading.Event()
    q = JobQueue(rec, engine_factory=lambda r: engine, progress_interval=0)
    photo, mask = _inputs()
    j1 = q.submit(InpaintRequest(seed=1), photo, mask)
    j2 = q.submit(InpaintRequest(seed=2), photo, mask)
    # wait until j1 started, then cancel both
    for _ in range(100):
        if "started" in rec.kinds(j1):
            break
        threading.Event().wait(0.02)
    q.cancel(j1)
    q.cancel(j2)
    engine.gate.set()
    _wait(rec, 2)
    assert "cancelled" in rec.kinds(j1) and "result" not in rec.kinds(j1)
    assert rec.kinds(j2) == ["queued", "cancelled", "finished"]
    steps_run = len([e for e in rec.events if e.job_id == j1 and e.kind == "progress"])
    assert steps_run <= 2  # stopped within one step
    engine.steps = 2
    j3 = q.submit(InpaintRequest(seed=3), photo, mask)
    _wait(rec, 3)
    assert "result" in rec.kinds(j3)
    q.shutdown()


def test_errors_become_events_and_worker_survives():
    rec = Recorder()

    def factory(req):
        if req.prompt == "boom":
            raise InpaintError("model exploded")
        if req.prompt == "crash":
            raise RuntimeError("unexpected")
        return SolidFillEngine(steps=1)

    q = JobQueue(rec, engine_factory=factory)
    photo, mask = _inputs()
    a = q.submit(InpaintRequest(prompt="boom"), photo, mask)
    b = q.submit(InpaintRequest(prompt="crash"), photo, mask)
    c = q.submit(InpaintRequest(prompt="fine"), photo, mask)
    _wait(rec, 3)
    errs = {e.job_id: e.error for e in rec.events if e.kind == "error"}
    assert errs[a] == "model exploded"
    assert "RuntimeError" in errs[b]
    assert "result" in rec.kinds(c)
    q.shutdown()


def test_progress_is_throttled():
    rec = Recorder()
    engine = SolidFillEngine(steps=200)
    q = JobQueue(rec, engine_factory=lambda r: engine, progress_interval=10.0)
    photo, mask = _inputs()
    jid = q.submit(InpaintRequest(seed=1), photo, mask)
    _wait(rec, 1)
    prog = [e for e in rec.events if e.job_id == jid and e.kind == "progress"]
    assert 1 <= len(prog) <= 3 and prog[-1].progress == 1.0
    q.shutdown()


def test_diffusion_without_model_is_a_clear_error():
    rec = Recorder()
    q = JobQueue(rec)
    photo, mask = _inputs()
    jid = q.submit(InpaintRequest(engine="diffusion", scheduler="DDIM"), photo, mask)
    _wait(rec, 1)
    (err,) = [e.error for e in rec.events if e.job_id == jid and e.kind == "error"]
    assert "needs a model" in err
    q.shutdown()


def test_previews_survive_progress_throttling():
    """One preview per slow step must arrive even though progress passed just before it."""
    from inpaint_core.events import EngineEvent
    from inpaint_core.jobs import _Throttle

    got = []
    throttle = _Throttle(got.append, "job-1", interval=0.05)
    for step in range(1, 6):
        throttle(EngineEvent("progress", progress=step / 10, step=step, total_steps=10))
        throttle(
            EngineEvent(
                "preview",
                progress=step / 10,
                step=step,
                total_steps=10,
                preview=np.zeros((8, 8, 3), np.uint8),
            )
        )
        threading.Event().wait(0.06)  # a step slower than the interval
    assert [e.kind for e in got].count("preview") == 5
    assert [e.kind for e in got].count("progress") == 5
