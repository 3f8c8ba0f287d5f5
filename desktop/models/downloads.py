"""One model download on a worker thread, reported to the GUI thread through Qt signals.

The transfer is the core's (:func:`inpaint_core.models.manager.plan_download` then
:func:`~inpaint_core.models.manager.download`: resume, checksum, disk check, token, offline
refusal); this object only runs it off the GUI thread, throttles its progress, and turns its
outcome into one of ``finished(path)``, ``failed(message)`` or ``cancelled(kept_bytes)``. A
cancel stops between chunks and keeps the part file, so the same download later resumes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from inpaint_core.errors import InpaintError, JobCancelled
from inpaint_core.events import CancelToken
from inpaint_core.models import manager
from inpaint_core.models.manager import DownloadProgress

#: progress reaches the GUI at most this often (the last byte, and each new file, always do)
PROGRESS_INTERVAL_S = 0.1


@dataclass(frozen=True)
class DownloadRequest:
    """What the user asked for: a catalogue name, a repo id or a URL (+ a token, the licence)."""

    source: str
    token: str | None = None
    accept_license: bool = False
    dest_dir: Path | None = None


@dataclass(frozen=True)
class ProgressReport:
    done: int
    total: int
    eta_s: float | None
    file: str


class DownloadJob(QObject):
    """Run one :class:`DownloadRequest` on a daemon thread (``start``); ``cancel`` any time."""

    progress = Signal(object)  # ProgressReport
    finished = Signal(str)  # the model folder or file
    failed = Signal(str)  # a line for the user
    cancelled = Signal(int)  # bytes kept for a resume

    def __init__(self, request: DownloadRequest, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.token = CancelToken()
        self.thread: threading.Thread | None = None
        self._last = 0.0
        self._last_file = ""
        self._done = 0

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="model-download", daemon=True)
        self.thread.start()

    def cancel(self) -> None:
        self.token.cancel()

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    # -- on the worker thread ---------------------------------------------------------------------
    def _run(self) -> None:
        req = self.request
        try:
            plan = manager.plan_download(
                req.source,
                dest_dir=req.dest_dir,
                token=req.token or None,
                accept_license=req.accept_license,
            )
            self.token.raise_if_cancelled()
            path = manager.download(
                plan, token=req.token or None, on_progress=self._on_progress, cancel=self.token
            )
        except JobCancelled:
            self.cancelled.emit(self._done)
        except InpaintError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a worker must report, never die silently
            self.failed.emit(f"download failed: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(str(path))

    def _on_progress(self, p: DownloadProgress) -> None:
        self._done = p.done
        now = time.monotonic()
        if (
            now - self._last >= PROGRESS_INTERVAL_S
            or p.done >= p.total
            or p.file != self._last_file
        ):
            self._last, self._last_file = now, p.file
            self.progress.emit(ProgressReport(p.done, p.total, p.eta_s, p.file))
