"""Live preview runner (inpaint_core.live): debounced, the last stroke wins, never two runs at once.

Every wait is bounded: a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from skimage import data

from inpaint_core.engines.base import EngineOutput
from inpaint_core.engines.classical import ClassicalEngine
from inpaint_core.engines.diffusion import DiffusionEngine, loaded_from_pipeline
from inpaint_core.events import EngineEvent
from inpaint_core.live import LiveResult, LiveRunner, preview_request
from inpaint_core.request import InpaintRequest
from inpaint_core.testing import build_tiny_inpaint_pipeline

WAIT = 60.0


@pytest.fixture(scope="module")
def photo():
    return np.ascontiguousarray(data.astronaut()[::4, ::4])  # 128x128 real photo


def stroke_mask(i: int) -> np.ndarray:
    m = np.zeros((128, 128), np.uint8)
    m[20 + 4 * i : 30 + 4 * i, 30:40] = 255
    return m


class Collector:
    def __init__(self) -> None:
        self.results: list[LiveResult] = []
        self.got = threading.Event()

    def __call__(self, result: LiveResult) -> None:
        self.results.append(result)
        self.got.set()


class Watched:
    """Wraps an engine: counts runs, the most at once, and the cancels it saw."""

    def __init__(self, engine, seconds: float = 0.0) -> None:
        self.engine = engine
        self.name = engine.name
        self.native_resolution = engine.native_resolution
        self.seconds = seconds
        self.lock = threading.Lock()
        self.active = 0
        self.most = 0
        self.runs = 0
        self.cancelled = 0
        self.started = threading.Event()

    def run(self, request, image, mask, on_event, cancel):
        with self.lock:
            self.active += 1
            self.runs += 1
            self.most = max(self.most, self.active)
        self.started.set()
        try:
            end = time.perf_counter() + self.seconds
            while time.perf_counter() < end:
                if cancel.cancelled:
                    with self.lock:
                        self.cancelled += 1
                cancel.raise_if_cancelled()
                time.sleep(0.005)
            return self.engine.run(request, image, mask, on_event, cancel)
        finally:
            with self.lock:
                self.active -= 1


def test_a_burst_of_strokes_costs_one_run_and_the_last_wins(photo):
    engine = Watched(ClassicalEngine())
    got = Collector()
    with LiveRunner(engine, got, debounce_s=0.3) as live:
        gens = [live.submit(InpaintRequest(), photo, stroke_mask(i)) for i in range(5)]
        assert live.wait_idle(WAIT)
    assert engine.runs == 1
    assert [r.generation for r in got.results] == [gens[-1]]
    box = got.results[0].results[0].box
    assert box.y0 <= 20 + 16 <= box.y1  # the last stroke's mask, not the first
    assert got.results[0].latency_s >= 0.3  # the debounce was waited out


def test_a_newer_stroke_cancels_the_running_one_never_two_at_once(photo):
    engine = Watched(ClassicalEngine(), seconds=5.0)
    got = Collector()
    with LiveRunner(engine, got, debounce_s=0.0) as live:
        live.submit(InpaintRequest(), photo, stroke_mask(0))
        assert engine.started.wait(WAIT)
        t0 = time.perf_counter()
        engine.seconds = 0.0
        last = live.submit(InpaintRequest(), photo, stroke_mask(1))
        assert got.got.wait(WAIT)
        took = time.perf_counter() - t0
        assert live.wait_idle(WAIT)
    assert took < 4.0  # the 5 s run was cut short, not waited out
    assert engine.cancelled >= 1
    assert engine.most == 1
    assert [r.generation for r in got.results] == [last]
    assert live.cancelled >= 1 and live.delivered == 1


def test_many_strokes_from_two_threads(photo):
    engine = Watched(ClassicalEngine(), seconds=0.02)
    got = Collector()
    live = LiveRunner(engine, got, debounce_s=0.01)
    gens: list[int] = []
    lock = threading.Lock()

    def painter(offset: int) -> None:
        for i in range(10):
            g = live.submit(InpaintRequest(), photo, stroke_mask((i + offset) % 8))
            with lock:
                gens.append(g)
            time.sleep(0.015)

    threads = [threading.Thread(target=painter, args=(k,)) for k in (0, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert live.wait_idle(WAIT)
    assert live.close(WAIT)
    assert engine.most == 1
    delivered = [r.generation for r in got.results]
    assert delivered == sorted(delivered) and len(set(delivered)) == len(delivered)
    assert delivered[-1] == max(gens)  # the last stroke always wins


def test_tiny_model_stale_run_is_cancelled_within_a_step(photo):
    engine = DiffusionEngine(loaded=loaded_from_pipeline(build_tiny_inpaint_pipeline(), "tiny"))
    got = Collector()
    steps_seen: list[int] = []
    first_step = threading.Event()

    def on_event(event: EngineEvent) -> None:
        if event.kind == "progress" and event.step:
            steps_seen.append(event.step)
            first_step.set()

    slow = InpaintRequest(engine="diffusion", steps=200, seed=1, target_size=64, prompt="x")
    fast = InpaintRequest(engine="diffusion", steps=2, seed=2, target_size=64, prompt="x")
    with LiveRunner(engine, got, debounce_s=0.0, on_event=on_event) as live:
        live.submit(slow, photo, stroke_mask(0))
        assert first_step.wait(WAIT)
        last = live.submit(fast, photo, stroke_mask(2))
        assert got.got.wait(WAIT)
        assert live.wait_idle(WAIT)
    assert max(steps_seen) < 200  # the stale 200-step run never finished
    assert [r.generation for r in got.results] == [last]
    (result,) = got.results[0].results
    assert result.seed == 2 and result.request.steps == 2


def test_close_stops_a_long_run_and_cancel_drops_the_waiting_stroke(photo):
    engine = Watched(ClassicalEngine(), seconds=30.0)
    got = Collector()
    live = LiveRunner(engine, got, debounce_s=0.0)
    live.submit(InpaintRequest(), photo, stroke_mask(0))
    assert engine.started.wait(WAIT)
    t0 = time.perf_counter()
    assert live.close(WAIT)
    assert time.perf_counter() - t0 < 10.0
    assert got.results == []
    with pytest.raises(RuntimeError, match="closed"):
        live.submit(InpaintRequest(), photo, stroke_mask(0))

    waiting = LiveRunner(Watched(ClassicalEngine()), got, debounce_s=5.0)
    waiting.submit(InpaintRequest(), photo, stroke_mask(0))
    waiting.cancel()
    assert waiting.wait_idle(WAIT)
    assert waiting.started == 0 and got.results == []
    assert waiting.close(WAIT)


def test_a_failing_handler_or_engine_does_not_stop_the_worker(photo):
    class Broken:
        name = "classical"
        native_resolution = True
        fail = True

        def run(self, request, image, mask, on_event, cancel):
            if Broken.fail:
                raise RuntimeError("engine broke")
            return [EngineOutput(image=image.copy())]

    errors = []
    calls = []

    def bad_handler(result):
        calls.append(result)
        raise ValueError("handler bug")

    with LiveRunner(
        Broken(), bad_handler, debounce_s=0.0, on_error=lambda g, e: errors.append(str(e))
    ) as live:
        live.submit(InpaintRequest(), photo, stroke_mask(0))
        assert live.wait_idle(WAIT)
        Broken.fail = False
        live.submit(InpaintRequest(), photo, stroke_mask(0))
        assert live.wait_idle(WAIT)
        live.submit(InpaintRequest(), photo, stroke_mask(1))
        assert live.wait_idle(WAIT)
    assert errors == ["engine broke"]
    assert len(calls) == 2


def test_preview_request():
    r = InpaintRequest(
        seeds=(7, 8), num_outputs=2, steps=30, target_size=768, width=512, height=512
    )
    p = preview_request(r, max_steps=4)
    assert (p.seed, p.seeds, p.num_outputs) == (7, None, 1)
    assert (p.width, p.height, p.target_size, p.steps) == (None, None, 256, 4)
    assert preview_request(InpaintRequest(steps=4, target_size=128)).target_size == 128
    assert isinstance(preview_request(InpaintRequest()).seed, int)
