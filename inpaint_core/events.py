"""Engine events and cooperative cancellation, shared by every engine, the jobs queue and the GUI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .errors import JobCancelled

if TYPE_CHECKING:
    from .masks import BBox

EventKind = Literal[
    "queued",
    "started",
    "progress",
    "preview",
    "partial",
    "result",
    "finished",
    "error",
    "cancelled",
]


@dataclass
class EngineEvent:
    """One message in an engine's stream (Krita AI Diffusion's client-message shape).

    ``progress`` is in [0, 1]; ``phase`` says what a ``progress`` event measures: ``"load"`` (the
    model loading) or ``"run"`` (the engine's steps). ``preview`` is an RGB uint8 array (cheap
    approximation): on the working grid as an engine sends it, placed on the photo by
    :func:`~inpaint_core.inpaint.inpaint` (``box`` in photo pixels, ``preview`` and
    ``preview_alpha`` -- the mask, 255 = filled -- at the box's size). ``images`` carries finished
    results (``result``); ``error`` a human-readable message.
    """

    kind: EventKind
    job_id: str = ""
    progress: float = 0.0
    step: int = 0
    total_steps: int = 0
    message: str = ""
    preview: np.ndarray | None = None
    phase: Literal["load", "run"] = "run"
    box: BBox | None = None
    preview_alpha: np.ndarray | None = None
    images: list[Any] = field(default_factory=list)
    error: str | None = None


EventCallback = Callable[[EngineEvent], None]


def ignore_events(event: EngineEvent) -> None:  # noqa: ARG001 - the no-op sink
    return None


class CancelToken:
    """Thread-safe cancel flag; engines call :meth:`raise_if_cancelled` between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelled("cancelled by the user")
