"""Opening photos off the GUI thread.

Decoding an 8000×6000 JPEG (and converting its colour profile) takes 0.5–2 s, and a URL may take up
to its 15 s timeout: on the GUI thread either would freeze the window. :class:`PhotoLoader` runs the
load on a short-lived daemon thread and hands the outcome back on the GUI thread. Loading is
numpy/Pillow work, not torch, so it does not go through the generation worker's queue, where it
would wait behind a long generation.

The hand-back is a :class:`QTimer` on the GUI thread that polls a :class:`threading.Event` every
few milliseconds while a load is in flight: no Qt object is touched from the loading thread, so a
window closed (and deleted) mid-download cannot be reached from it.

One request at a time, from the window's point of view: :meth:`PhotoLoader.start` supersedes the
load in flight (the last request wins) and :meth:`PhotoLoader.cancel` forgets it. Either way the
forgotten load's :class:`LoadControl` token is cancelled: a download (``load_image(...,
cancel=...)``) stops within a poll interval and its thread ends; a local decode cannot be
interrupted and runs to its end, its result dropped. The threads are daemons, so quitting the app
never waits for one.

Progress goes the same way as results: the job writes ``(bytes so far, total)`` into its
:class:`LoadControl` (one attribute assignment, atomic) and the GUI thread's poll emits
``progress`` when it changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from inpaint_core.errors import InpaintError
from inpaint_core.events import CancelToken

#: failures whose own message is the whole story (a bad file, a missing file, a refused download)
EXPECTED_ERRORS = (InpaintError, OSError, ValueError)


def describe_error(exc: BaseException) -> str:
    """The message a user sees after "Could not open X: "."""
    if isinstance(exc, MemoryError):
        return "there is not enough memory to open it"
    if isinstance(exc, EXPECTED_ERRORS):
        return str(exc) or type(exc).__name__
    return f"unexpected {type(exc).__name__}: {exc}"


@dataclass
class LoadOutcome:
    """What a load gave: ``value`` on success, else ``error`` (a message, never empty)."""

    ticket: int
    label: str
    context: Any = None  # whatever the caller passed to start/run_now, handed back untouched
    value: Any = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class LoadControl:
    """What a job gets: the token to pass on (``load_image(cancel=control.cancel)``) and
    :meth:`report` for byte counts (``on_progress=control.report``). Written on the loading
    thread, read by the GUI thread's poll: no Qt here."""

    def __init__(self) -> None:
        self.cancel = CancelToken()
        self.progress: tuple[int, int | None] | None = None

    def report(self, done: int, total: int | None) -> None:
        self.progress = (done, total)


Job = Callable[[LoadControl], Any]


def run_job(
    job: Job, ticket: int, label: str, context: Any = None, control: LoadControl | None = None
) -> LoadOutcome:
    """Run ``job`` and wrap what it returns or raises (never raises itself)."""
    try:
        return LoadOutcome(ticket, label, context, value=job(control or LoadControl()))
    except (
        Exception
    ) as exc:  # every failure (MemoryError too) becomes a message, never a dead thread
        return LoadOutcome(ticket, label, context, error=describe_error(exc))


class _Pending:
    """One load in flight: its thread fills ``outcome`` and sets ``done``."""

    def __init__(self, ticket: int, label: str, context: Any, job: Job) -> None:
        self.ticket = ticket
        self.label = label
        self.control = LoadControl()
        self.shown_progress: tuple[int, int | None] | None = None  # last one emitted
        self.done = threading.Event()
        self.outcome: LoadOutcome | None = None
        self.thread = threading.Thread(
            target=self._run, args=(job, context), name=f"photo-loader-{ticket}", daemon=True
        )

    def _run(self, job: Job, context: Any) -> None:
        self.outcome = run_job(job, self.ticket, self.label, context, self.control)
        self.done.set()


class PhotoLoader(QObject):
    """Runs one load at a time on a background thread; the newest request wins.

    A job is ``job(control: LoadControl)``. ``finished(LoadOutcome)`` is emitted on the GUI thread
    for the current request only (a superseded or cancelled one is dropped silently, its token
    cancelled); ``busy_changed(bool)`` whenever a load starts or stops being in flight;
    ``progress(done, total)`` (bytes; ``total`` None when unknown) as the current job reports it.
    """

    finished = Signal(object)
    busy_changed = Signal(bool)
    progress = Signal(object, object)  # ints past 2**31 do not fit a Qt int

    POLL_MS = 15

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tickets = 0
        self._pending: _Pending | None = None
        self._holds = 0
        self._timer = QTimer(self)
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self._poll)

    # -- state ------------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._pending is not None

    @property
    def label(self) -> str:
        """What is loading now ("" when idle)."""
        return self._pending.label if self._pending is not None else ""

    # -- requests ---------------------------------------------------------------------------------

    def start(self, job: Job, label: str, context: Any = None) -> int:
        """Run ``job`` on a new daemon thread; supersedes the load in flight. Returns its ticket."""
        self._forget()
        self._tickets += 1
        pending = _Pending(self._tickets, label, context, job)
        self._pending = pending
        pending.thread.start()
        self._timer.start()
        self.busy_changed.emit(True)
        return pending.ticket

    def run_now(self, job: Job, label: str, context: Any = None) -> LoadOutcome:
        """Run ``job`` here, blocking the caller (scripts, tests, tiny bundled files); supersedes
        the load in flight. The outcome is returned, not emitted."""
        self.cancel()
        self._tickets += 1
        return run_job(job, self._tickets, label, context)

    def cancel(self) -> bool:
        """Forget the load in flight and cancel its token (a download stops; a decode runs on and
        its result is dropped). True when there was one."""
        had = self._forget()
        if had:
            self.busy_changed.emit(False)
        return had

    def hold(self) -> None:
        """Hold back delivery until as many :meth:`release` calls (e.g. while a question about the
        current document is open, or a brush stroke is in progress): a load that ends meanwhile
        is delivered after."""
        self._holds += 1

    def release(self) -> None:
        self._holds = max(0, self._holds - 1)

    @contextmanager
    def held(self) -> Iterator[None]:
        """:meth:`hold` for the length of a ``with`` block."""
        self.hold()
        try:
            yield
        finally:
            self.release()

    def wait(self, timeout_s: float = 30.0) -> LoadOutcome | None:
        """Block until the load in flight ends and deliver it (scripts). None when idle or when it
        did not end within ``timeout_s``."""
        pending = self._pending
        if pending is None or not pending.done.wait(timeout_s):
            return None
        outcome = pending.outcome
        self._poll()
        return outcome

    # -- delivery ---------------------------------------------------------------------------------

    def _forget(self) -> bool:
        pending = self._pending
        if pending is not None:
            pending.control.cancel.cancel()
        had = pending is not None
        self._pending = None
        self._timer.stop()
        return had

    def _poll(self) -> None:
        pending = self._pending
        if pending is None:
            self._timer.stop()
            return
        progress = pending.control.progress
        if progress is not None and progress != pending.shown_progress:
            pending.shown_progress = progress
            self.progress.emit(*progress)
        if self._holds or not pending.done.is_set():
            return
        self._pending = None  # not _forget: a finished load's token stays as it was
        self._timer.stop()
        self.busy_changed.emit(False)
        self.finished.emit(pending.outcome)
