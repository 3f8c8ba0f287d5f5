"""File ▸ Save / Save As: the document as a layered OpenRaster project (.ora), written off the GUI
thread.

``prepare_save`` (core) takes what the save needs on the GUI thread (cheap: references and a mask
copy), the returned job encodes and writes on a short-lived worker thread (an 8K project takes
~20 s), and the outcome comes back as a queued signal. Meanwhile the status bar shows
"Saving p.ora… 42 %" with its bar filling (the core's ``on_progress``, queued to the GUI thread)
and the window keeps working. The document is marked clean (the undo stack's clean index, and the
autosaver told) only when the file was really written and nothing changed since the snapshot; a
failed write (disk full, permission) says why and leaves the old file and the unsaved state as
they were; :class:`~inpaint_core.project.SnapshotChanged` (a merge changed the photo mid-write)
saves again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from desktop.window.autosave import AutosaveService
from desktop.window.status import BusyIndicator
from inpaint_core.candidates import Candidate
from inpaint_core.document import Document
from inpaint_core.errors import InpaintError
from inpaint_core.files import FileWriteError
from inpaint_core.project import SnapshotChanged
from inpaint_core.saving import prepare_save

PROJECT_FILTER = "Inpaint Studio project (*.ora)"
MAX_RETRIES = 3


def document_title(doc: Document | None, project_path: Path | None) -> str:
    """The document's name as the user sees it: the project file's name once it was saved as one
    (``p.ora``), else the photo's (``Sample photo``, ``scan.png``). The window title, the "Save the
    changes to …?" question and the autosave (listed by the Recover dialog) all use this."""
    if project_path is not None:
        return project_path.name
    return doc.photo.name if doc is not None else "the picture"


@dataclass
class SaveOutcome:
    """What a save gave: ``path`` written, or ``error`` (a message); ``doc`` it was for."""

    doc: Document
    path: Path
    error: str = ""
    retry: bool = False

    @property
    def ok(self) -> bool:
        return not self.error and not self.retry


class ProjectSaver(QObject):
    """Saves the window's document as .ora. ``document()``: the open document; ``candidates()``:
    its candidate history; ``stack``: the undo stack (its clean index is "saved");
    ``warn(title, text)``: the message box (tests replace it)."""

    save_finished = Signal(object)  # SaveOutcome, on the GUI thread
    _done = Signal(object)  # from the worker thread
    _progress = Signal(float)  # from the encoder threads: the fraction written

    def __init__(
        self,
        parent: QWidget,
        document: Callable[[], Document | None],
        candidates: Callable[[], Iterable[Candidate]],
        stack: QUndoStack,
        autosave: AutosaveService,
        status: QStatusBar,
    ) -> None:
        super().__init__(parent)
        self._parent, self._document, self._candidates = parent, document, candidates
        self.stack, self.autosave, self.status = stack, autosave, status
        self.busy = BusyIndicator(parent)
        self.busy.button.hide()  # a save is not cancelled half-way: it is atomic and short
        status.addWidget(self.busy, 1)
        self.warn: Callable[[str, str], None] = self._warn
        self._done.connect(self._finished, Qt.ConnectionType.QueuedConnection)
        self._progress.connect(self.busy.set_fraction, Qt.ConnectionType.QueuedConnection)
        self._running: threading.Thread | None = None
        self._index = 0
        self._retries = 0

    @property
    def saving(self) -> bool:
        return self._running is not None

    def save(self, path: str | Path, *, wait: bool = False) -> bool:
        """Start saving the document at ``path`` (.ora). False when nothing was started (no
        document, a save already running, a refused path). ``wait=True`` (the close flow, tests)
        runs the event loop until the save ended and returns whether it was written."""
        doc = self._document()
        if doc is None or self.saving:
            return False
        path = Path(path)
        try:
            job = prepare_save(doc, path, list(self._candidates()), on_progress=self._progress.emit)
        except (InpaintError, ValueError, OSError) as exc:
            self.warn("Could not save", f"Could not save {path.name}: {exc}")
            return False
        self._index = self.stack.index()

        def run() -> None:  # worker thread: encode and write, no Qt but the signal
            try:
                out = job()
            except SnapshotChanged:
                self._done.emit(SaveOutcome(doc, path, retry=True))
            except FileWriteError as exc:
                self._done.emit(SaveOutcome(doc, path, error=str(exc)))
            except Exception as exc:  # noqa: BLE001 - said in the window, never lost
                self._done.emit(SaveOutcome(doc, path, error=f"{type(exc).__name__}: {exc}"))
            else:
                self._done.emit(SaveOutcome(doc, out))

        self._running = threading.Thread(target=run, name="save-project", daemon=True)
        self.busy.start(f"Saving {path.name}…")
        self.busy.set_fraction(0.0)
        self._running.start()
        return self.wait_idle() if wait else True

    def wait_idle(self) -> bool:
        """Run the event loop until the save in flight (if any) has ended; True when it wrote
        its file (or none was running)."""
        if self._running is None:
            return True
        loop = QEventLoop()
        result: list[SaveOutcome] = []

        def ended(outcome: SaveOutcome) -> None:
            if not outcome.retry:
                result.append(outcome)
                loop.quit()

        self.save_finished.connect(ended)
        try:
            loop.exec()
        finally:
            self.save_finished.disconnect(ended)
        return bool(result and result[0].ok)

    def _finished(self, outcome: SaveOutcome) -> None:
        self._running = None
        self.busy.stop()
        if outcome.retry and self._retries < MAX_RETRIES and outcome.doc is self._document():
            self._retries += 1  # the photo changed under the writer: take a new snapshot
            if self.save(outcome.path):
                return  # a waiting caller goes on waiting for this one
        self._retries = 0
        if outcome.retry:
            outcome.retry, outcome.error = False, "the picture kept changing while it was saved"
        if outcome.error:
            self.status.showMessage(f"Could not save {outcome.path.name}", 8000)
            self.warn(
                "Could not save", f"{outcome.error}\n\nThe picture still has unsaved changes."
            )
        elif outcome.doc is self._document() and self.stack.index() == self._index:
            self.stack.setClean()
            self.autosave.autosaver.mark_saved(outcome.doc, outcome.path)
            self.status.showMessage(f"Saved {outcome.path}", 6000)
        else:  # saved, but the user went on working meanwhile: that work is not in the file
            self.status.showMessage(f"Saved {outcome.path} (later changes are not in it)", 8000)
        self.save_finished.emit(outcome)

    def _warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self._parent, title, text)
