"""Live preview while painting: re-render the masked region as each stroke ends, Qt-free.

:class:`LiveRunner` takes a request per stroke (:meth:`LiveRunner.submit`) and guarantees:

* **debounced**: a run starts only after ``debounce_s`` without a newer stroke, so a burst of
  strokes costs one run, not one per stroke;
* **the last stroke wins**: a newer stroke cancels the run in progress (its
  :class:`~inpaint_core.events.CancelToken`, so the engine stops within one step) and replaces any
  stroke still waiting; only the newest stroke's result is ever delivered;
* **never two at once**: every run happens on the runner's one worker thread, one after the other
  (torch is not re-entrant). ``engine_lock`` (optional) is held around each run, so a front end can
  share one engine with its full-quality job queue without overlapping runs.

Results are delivered through ``on_result`` *on the worker thread*, under the runner's lock (keep
it short: a GUI posts the result to its own thread). :func:`preview_request` makes the cheap version of a request for it: low working size,
one output, few steps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .engines.base import Engine
from .errors import JobCancelled
from .events import CancelToken, EventCallback, ignore_events
from .inpaint import InpaintResult, inpaint
from .request import InpaintRequest

log = logging.getLogger(__name__)

DEFAULT_DEBOUNCE_S = 0.15
PREVIEW_TARGET_SIZE = 256


def preview_request(
    request: InpaintRequest, *, target_size: int = PREVIEW_TARGET_SIZE, max_steps: int | None = None
) -> InpaintRequest:
    """The live version of ``request``: one output (its first seed), working long side at most
    ``target_size`` (no explicit width/height), at most ``max_steps`` steps when given. A few-step
    model or LoRA (LCM, Lightning, Turbo) keeps its own few steps."""
    r = request.resolved()
    seed = (r.seeds or (r.seed,))[0]
    steps = r.steps if max_steps is None else min(r.steps, max_steps)
    return replace(
        r,
        seed=seed,
        seeds=None,
        num_outputs=1,
        width=None,
        height=None,
        target_size=min(r.target_size, target_size),
        steps=steps,
    )


@dataclass
class LiveResult:
    """What one stroke produced. ``latency_s``: from :meth:`LiveRunner.submit` to delivery."""

    generation: int
    results: list[InpaintResult]
    latency_s: float
    run_s: float


@dataclass
class _Stroke:
    generation: int
    request: InpaintRequest
    image: Any
    mask: np.ndarray
    submitted: float
    due: float
    cancel: CancelToken


class LiveRunner:
    """Debounced, cancel-the-stale preview runner on one worker thread (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        on_result: Callable[[LiveResult], None],
        *,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        on_error: Callable[[int, BaseException], None] | None = None,
        on_event: EventCallback = ignore_events,
        engine_lock: threading.Lock | None = None,
    ) -> None:
        self.engine = engine
        self.on_result = on_result
        self.on_error = on_error
        self.on_event = on_event
        self.debounce_s = max(0.0, float(debounce_s))
        self._engine_lock = engine_lock
        self._cond = threading.Condition()
        self._pending: _Stroke | None = None
        self._running: _Stroke | None = None
        self._generation = 0
        self._closed = False
        #: counters (read them for diagnostics and tests)
        self.started = 0
        self.cancelled = 0
        self.delivered = 0
        self._thread = threading.Thread(target=self._loop, name="live-preview", daemon=True)
        self._thread.start()

    # -- front-end side ------------------------------------------------------------------------
    def submit(self, request: InpaintRequest, image: Any, mask: np.ndarray) -> int:
        """A stroke ended: preview ``request`` on ``image``/``mask``. Returns its generation."""
        now = time.perf_counter()
        with self._cond:
            if self._closed:
                raise RuntimeError("the live runner is closed")
            self._generation += 1
            stroke = _Stroke(
                self._generation,
                request,
                image,
                np.array(mask, copy=True),  # the canvas keeps painting into its own mask
                now,
                now + self.debounce_s,
                CancelToken(),
            )
            if self._pending is not None:
                self._pending.cancel.cancel()
            self._pending = stroke
            if self._running is not None:
                self._running.cancel.cancel()
            self._cond.notify_all()
            return stroke.generation

    def cancel(self) -> None:
        """Drop the waiting stroke and stop the running one (e.g. the Live toggle went off)."""
        with self._cond:
            self._generation += 1  # nothing submitted before now may be delivered
            if self._pending is not None:
                self._pending.cancel.cancel()
                self._pending = None
            if self._running is not None:
                self._running.cancel.cancel()
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._pending is not None or self._running is not None

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is waiting or running (True), or ``timeout`` passes (False)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._pending is None and self._running is None, timeout
            )

    def close(self, timeout: float | None = 10.0) -> bool:
        """Stop the worker (cancelling any run). True when it has finished within ``timeout``."""
        self.cancel()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> LiveRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- worker side -----------------------------------------------------------------------------
    def _next_stroke(self) -> _Stroke | None:
        with self._cond:
            while True:
                if self._closed:
                    return None
                stroke = self._pending
                if stroke is None:
                    self._cond.wait()
                    continue
                wait = stroke.due - time.perf_counter()
                if wait > 0:
                    self._cond.wait(wait)  # a newer stroke may replace it meanwhile
                    continue
                self._pending = None
                self._running = stroke
                self.started += 1
                return stroke

    def _loop(self) -> None:
        while True:
            stroke = self._next_stroke()
            if stroke is None:
                return
            t0 = time.perf_counter()
            results: list[InpaintResult] | None = None
            error: BaseException | None = None
            try:
                if self._engine_lock is not None:
                    with self._engine_lock:
                        results = self._run(stroke)
                else:
                    results = self._run(stroke)
            except JobCancelled:
                results = None
            except Exception as exc:  # noqa: BLE001 - reported, the worker keeps going
                error = exc
            done = time.perf_counter()
            # Deliver under the lock (a re-entrant one: ``on_result`` may call :meth:`submit`), so
            # a stroke submitted meanwhile either lands before the check (this result is stale and
            # dropped) or after the delivery: a stale result is never delivered.
            with self._cond:
                latest = stroke.generation == self._generation and not stroke.cancel.cancelled
                try:
                    if results is None and error is None or (results is not None and not latest):
                        self.cancelled += 1
                    elif latest and error is not None:
                        if self.on_error is not None:
                            self.on_error(stroke.generation, error)
                    elif latest and results is not None:
                        self.delivered += 1
                        self.on_result(
                            LiveResult(
                                stroke.generation, results, done - stroke.submitted, done - t0
                            )
                        )
                except Exception:  # noqa: BLE001 - a front end's bug must not stop the worker
                    log.exception("live preview: the result handler failed")
                finally:
                    self._running = None
                    self._cond.notify_all()

    def _run(self, stroke: _Stroke) -> list[InpaintResult]:
        stroke.cancel.raise_if_cancelled()
        return inpaint(
            stroke.request, stroke.image, stroke.mask, self.engine, self.on_event, stroke.cancel
        )
