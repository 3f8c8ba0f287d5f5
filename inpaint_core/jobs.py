"""A job queue on ONE worker thread (torch is not re-entrant).

Front ends (GUI, CLI) submit requests and receive a stream of :class:`EngineEvent` — queued,
started, progress (throttled), preview, result, cancelled/error, finished — on the worker thread;
the GUI adapts the stream to Qt signals. Errors become events: the worker never dies.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .engines.base import Engine
from .engines.registry import get_engine
from .errors import InpaintError, JobCancelled
from .events import CancelToken, EngineEvent, EventCallback
from .inpaint import inpaint
from .request import InpaintRequest

EngineFactory = Callable[[InpaintRequest], Engine]


class EngineCache:
    """Engines by (engine, model, device, dtype, memory): a model stays loaded between jobs.

    ``memory``: the memory-ladder rung a diffusion model loads with (:mod:`.models.memory`;
    None = chosen from the VRAM), as the CLI's ``--memory``; a change loads the model again."""

    def __init__(
        self, device: str | None = None, dtype: str | None = None, memory: str | None = None
    ) -> None:
        self.device = device
        self.dtype = dtype
        self.memory = memory
        self._engines: dict[tuple[Any, ...], Engine] = {}
        #: plain (4-channel) models the user chose to run as masked img2img (lower quality)
        self.allow_non_inpainting: set[str] = set()

    def __call__(self, request: InpaintRequest) -> Engine:
        allow = bool(request.model) and request.model in self.allow_non_inpainting
        memory = self.memory if request.engine == "diffusion" else None
        key = (request.engine, request.model, self.device, self.dtype, allow, memory)
        engine = self._engines.get(key)
        if engine is None:
            if request.engine == "diffusion":
                if not request.model:
                    raise InpaintError(
                        "the diffusion engine needs a model: choose one or open a model file"
                    )
                # one diffusion model resident at a time: drop others before loading
                for k in [k for k in self._engines if k[0] == "diffusion"]:
                    del self._engines[k]
                engine = get_engine(
                    "diffusion",
                    model=request.model,
                    device=self.device,
                    dtype=self.dtype,
                    allow_non_inpainting=allow,
                    memory=memory,
                )
            elif request.engine == "erase":
                engine = get_engine("erase", model=request.model, device=self.device)
            else:
                engine = get_engine(request.engine)
            self._engines[key] = engine
        return engine


@dataclass(frozen=True)
class LoadedModelInfo:
    """The result of a model-load job: the model's name and the device it sits on."""

    name: str
    device: str | None = None
    memory: str | None = None  # the memory-ladder rung it runs on (inpaint_core.models.memory)


@dataclass
class Job:
    id: str
    run: Callable[[EventCallback, CancelToken], list[Any]]
    cancel: CancelToken = field(default_factory=CancelToken)
    label: str = ""


class _Throttle:
    """Pass progress and preview events each at most every ``interval`` seconds.

    The two kinds have separate clocks: a preview right after a progress event must not be dropped
    (with one clock, any step slower than ``interval`` would lose every preview). The last step
    always passes.
    """

    def __init__(self, sink: EventCallback, job_id: str, interval: float) -> None:
        self.sink, self.job_id, self.interval = sink, job_id, interval
        self._last: dict[str, float] = {}

    def __call__(self, event: EngineEvent) -> None:
        event.job_id = self.job_id
        if event.kind in ("progress", "preview"):
            now = time.monotonic()
            final = event.total_steps and event.step >= event.total_steps
            last = self._last.get(event.kind, -float("inf"))
            if not final and event.progress < 1.0 and now - last < self.interval:
                return
            self._last[event.kind] = now
        self.sink(event)


class JobQueue:
    """Single worker thread executing jobs in order; ``cancel`` works queued or mid-run."""

    def __init__(
        self,
        on_event: EventCallback,
        engine_factory: EngineFactory | None = None,
        *,
        progress_interval: float = 0.05,
    ) -> None:
        self.on_event = on_event
        self.engine_factory = engine_factory or EngineCache()
        self.progress_interval = progress_interval
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._current: Job | None = None
        self._thread = threading.Thread(target=self._worker, name="inpaint-worker", daemon=True)
        self._thread.start()

    # -- submitting -----------------------------------------------------------------------
    def submit_call(
        self, run: Callable[[EventCallback, CancelToken], list[Any]], label: str = ""
    ) -> str:
        """Queue any callable ``run(on_event, cancel) -> results`` (e.g. a model load or a sweep)."""
        job = Job(id=f"job-{next(self._ids)}", run=run, label=label)
        with self._lock:
            self._jobs[job.id] = job
        self._emit(EngineEvent("queued", job_id=job.id, message=label))
        self._queue.put(job)
        return job.id

    def submit(
        self,
        request: InpaintRequest,
        image: np.ndarray,
        mask: np.ndarray,
        *,
        resize_mask: bool = False,
    ) -> str:
        """Queue one inpaint generation; results arrive as a ``result`` event."""

        def run(on_event: EventCallback, cancel: CancelToken) -> list[Any]:
            engine = self.engine_factory(request)
            return inpaint(request, image, mask, engine, on_event, cancel, resize_mask=resize_mask)

        return self.submit_call(run, label=f"{request.engine} {request.scheduler}")

    def submit_load(self, source: str) -> str:
        """Queue loading the diffusion model ``source`` into the engine factory's cache (where the
        generations find it); the ``result`` event carries one :class:`LoadedModelInfo`."""
        factory = self.engine_factory

        def run(on_event: EventCallback, cancel: CancelToken) -> list[Any]:
            engine = factory(InpaintRequest(engine="diffusion", model=source))
            load = getattr(engine, "load", None)
            loaded = load(on_event) if load is not None else None
            name = getattr(engine, "model_name", "") or Path(source).name
            pipe = getattr(loaded, "pipe", None)
            device = str(pipe.device) if getattr(pipe, "device", None) is not None else None
            return [LoadedModelInfo(name, device, getattr(loaded, "memory", None))]

        return self.submit_call(run, label=f"load {source}")

    def cancel(self, job_id: str | None = None) -> None:
        """Cancel ``job_id`` (queued or running), or the running job when None."""
        with self._lock:
            job = self._current if job_id is None else self._jobs.get(job_id)
        if job is not None:
            job.cancel.cancel()

    def cancel_all(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel.cancel()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._current is not None or not self._queue.empty()

    def shutdown(self, timeout: float | None = 5.0) -> None:
        self.cancel_all()
        self._queue.put(None)
        self._thread.join(timeout)

    # -- worker -----------------------------------------------------------------------------
    def _emit(self, event: EngineEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # a broken sink must not kill the worker
            traceback.print_exc()

    def _worker(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                self._current = job
            try:
                self._run_one(job)
            finally:
                with self._lock:
                    self._current = None
                    self._jobs.pop(job.id, None)

    def _run_one(self, job: Job) -> None:
        if job.cancel.cancelled:
            self._emit(
                EngineEvent("cancelled", job_id=job.id, message="cancelled before it started")
            )
            self._emit(EngineEvent("finished", job_id=job.id))
            return
        self._emit(EngineEvent("started", job_id=job.id, message=job.label))
        sink = _Throttle(self._emit, job.id, self.progress_interval)
        try:
            results = job.run(sink, job.cancel)
        except JobCancelled:
            self._emit(EngineEvent("cancelled", job_id=job.id, message="cancelled"))
        except InpaintError as exc:
            self._emit(EngineEvent("error", job_id=job.id, error=str(exc)))
        except MemoryError:
            self._emit(
                EngineEvent(
                    "error",
                    job_id=job.id,
                    error="out of memory: try a smaller size or fewer outputs",
                )
            )
        except Exception as exc:  # noqa: BLE001 - the worker must survive anything
            traceback.print_exc()
            self._emit(EngineEvent("error", job_id=job.id, error=f"{type(exc).__name__}: {exc}"))
        else:
            self._emit(EngineEvent("result", job_id=job.id, progress=1.0, images=list(results)))
        self._emit(EngineEvent("finished", job_id=job.id))
