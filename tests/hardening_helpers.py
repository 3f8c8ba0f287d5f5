"""Helpers for the hardening tests: run a call with a time bound (the defect was a hang)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Bounded:
    """What a bounded call gave: its value, or the exception it raised; ``done`` False = hung."""

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None


def run_bounded(fn: Callable[[], Any], seconds: float) -> Bounded:
    """Run ``fn`` on a daemon thread and wait at most ``seconds`` (a hang leaves the thread
    behind, blocked in a system call, and the test fails instead of hanging)."""
    out = Bounded()

    def target() -> None:
        try:
            out.value = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out.error = exc
        out.done = True

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    return out
