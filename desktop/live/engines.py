"""Which engine a live run uses.

The classical engine runs on the live runner's own thread (no model, milliseconds). A diffusion
model (best a few-step one: LCM, Lightning, Turbo) has ONE pipeline, owned by the generation
queue's worker thread (torch is not re-entrant): :class:`QueuedEngine` runs each live render as a
job on that same worker, so a live render and a generation never run at the same time, and a
stale render is cancelled within one step (the live runner's cancel token goes into the engine).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from inpaint_core.engines import registry
from inpaint_core.engines.base import Engine
from inpaint_core.engines.classical import ClassicalEngine
from inpaint_core.errors import InpaintError, JobCancelled
from inpaint_core.events import CancelToken, EventCallback, ignore_events
from inpaint_core.request import InpaintRequest

SubmitCall = Callable[[Callable[[EventCallback, CancelToken], list[Any]], str], str]


class QueuedEngine:
    """An engine whose ``run`` happens on the generation queue's worker (see the module doc)."""

    def __init__(
        self,
        name: str,
        submit_call: SubmitCall,
        cancel_job: Callable[[str], None],
        engine_factory: Callable[[InpaintRequest], Engine],
    ) -> None:
        entry = registry.entry(name)
        self.name = name
        #: what inpaint() reads: the real engine's declared capabilities and soft-mask support
        self.capabilities = entry.capabilities
        self.soft_masks = bool(getattr(entry.engine_class(), "soft_masks", False))
        self._submit, self._cancel, self._factory = submit_call, cancel_job, engine_factory

    def run(
        self,
        request: InpaintRequest,
        image: np.ndarray,
        mask: np.ndarray,
        on_event: EventCallback,
        cancel: CancelToken,
    ) -> list[Any]:
        done = threading.Event()
        out: dict[str, Any] = {}

        def job(_on_event: EventCallback, job_cancel: CancelToken) -> list[Any]:
            try:
                if cancel.cancelled or job_cancel.cancelled:
                    raise JobCancelled("live preview: a newer stroke came")
                engine = self._factory(request)
                out["outputs"] = engine.run(request, image, mask, ignore_events, cancel)
            except BaseException as exc:  # noqa: BLE001 - handed back to the live runner
                out["error"] = exc
            finally:
                done.set()
            return []  # nothing for the candidates: the live runner shows it

        job_id = self._submit(job, "live preview")
        while not done.wait(0.05):
            if cancel.cancelled:
                self._cancel(job_id)  # queued: skipped; running: stops within a step
                raise JobCancelled("live preview: a newer stroke came")
        if "error" in out:
            raise out["error"]
        return out["outputs"]


class LiveEngines:
    """``engine_for`` of :class:`desktop.live.preview.LivePreview`: one engine object per engine
    name (so the live runner and its worker stay between strokes)."""

    def __init__(
        self,
        submit_call: SubmitCall,
        cancel_job: Callable[[str], None],
        engine_factory: Callable[[InpaintRequest], Engine],
    ) -> None:
        self.classical = ClassicalEngine()
        self._args = (submit_call, cancel_job, engine_factory)
        self._queued: dict[str, QueuedEngine] = {}

    def __call__(self, request: InpaintRequest) -> Any:
        if request.engine == "classical":
            return self.classical
        if request.engine == "diffusion" and not request.model:
            raise InpaintError("choose a model first (a few-step one renders fastest)")
        if request.engine not in self._queued:
            self._queued[request.engine] = QueuedEngine(request.engine, *self._args)
        return self._queued[request.engine]
