"""Adapts the core's job-event stream (worker thread) to Qt signals (GUI thread).

The worker calls :meth:`EngineBridge._on_event` on its own thread; emitting a signal from there is
delivered through a queued connection to slots on the GUI thread, so no widget is touched off-thread
and torch is never called on the GUI thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from inpaint_core.events import EngineEvent
from inpaint_core.jobs import EngineFactory, JobQueue
from inpaint_core.request import InpaintRequest


class EngineBridge(QObject):
    """Every event as it is (``event_received``: what a core model folds in) and per kind."""

    event_received = Signal(object)  # EngineEvent
    job_started = Signal(str, str)
    progress_changed = Signal(str, float, int, int, str)  # job id, fraction, step, total, message
    preview_ready = Signal(str, object)  # job id, RGB uint8 array on the working grid
    partial_ready = Signal(str, list)  # job id, finished sweep cells
    results_ready = Signal(str, list)  # job id, list[InpaintResult] (or sweep cells)
    job_failed = Signal(str, str)  # job id, message
    job_cancelled = Signal(str)
    job_finished = Signal(str)

    def __init__(
        self,
        engine_factory: EngineFactory | None = None,
        parent: QObject | None = None,
        *,
        progress_interval: float = 0.05,
    ):
        """``progress_interval``: the job queue's progress throttle (seconds; 0 passes every event)."""
        super().__init__(parent)
        self.queue = JobQueue(self._on_event, engine_factory, progress_interval=progress_interval)

    # -- GUI-thread API --------------------------------------------------------------------
    def submit(self, request: InpaintRequest, image: np.ndarray, mask: np.ndarray) -> str:
        job_id = self.queue.submit(request, image, mask)
        return job_id

    def submit_call(self, run: Any, label: str = "") -> str:
        return self.queue.submit_call(run, label)

    def submit_load(self, source: str) -> str:
        return self.queue.submit_load(source)

    def cancel(self, job_id: str | None = None) -> None:
        self.queue.cancel(job_id)

    def cancel_all(self) -> None:
        self.queue.cancel_all()

    def shutdown(self) -> None:
        self.queue.shutdown()

    # -- worker thread ------------------------------------------------------------------------
    def _on_event(self, ev: EngineEvent) -> None:
        kind = ev.kind
        self.event_received.emit(ev)
        if kind == "started":
            self.job_started.emit(ev.job_id, ev.message)
        elif kind == "progress":
            self.progress_changed.emit(
                ev.job_id, float(ev.progress), ev.step, ev.total_steps, ev.message
            )
        elif kind == "preview" and ev.preview is not None:
            self.preview_ready.emit(ev.job_id, ev.preview)
        elif kind == "partial":
            self.partial_ready.emit(ev.job_id, list(ev.images))
        elif kind == "result":
            self.results_ready.emit(ev.job_id, list(ev.images))
        elif kind == "error":
            self.job_failed.emit(ev.job_id, ev.error or "unknown error")
        elif kind == "cancelled":
            self.job_cancelled.emit(ev.job_id)
        elif kind == "finished":
            self.job_finished.emit(ev.job_id)
