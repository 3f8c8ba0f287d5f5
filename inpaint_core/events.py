"""Engine events and cooperative cancellation, shared by every engine, the jobs queue and the GUI."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from .errors import JobCancelled

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

    ``progress`` is in [0, 1]. ``preview`` is an RGB uint8 array on the working grid (cheap approximation).
    ``images`` carries finished results (``result``); ``error`` a human-readable message.
    """

    kind: EventKind
    job_id: str = ""
    progress: float = 0.0
    step: int = 0
    total_steps: int = 0
    message: str = ""
    preview: np.ndarray | None = None
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
