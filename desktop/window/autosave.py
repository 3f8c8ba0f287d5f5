"""The app's autosave, on the Qt side: one :class:`inpaint_core.autosave.Autosaver` per app, a timer
that calls its ``tick`` on the GUI thread, and its writer thread's callbacks turned into signals.

The core does the work (snapshots on the GUI thread are cheap, the writing happens on its own
thread); this object only gives it a clock and brings its news back to the GUI thread: the
``on_saved``/``on_error`` callbacks run on the writer thread, so they only emit a signal, which Qt
queues to the thread this object lives on.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from inpaint_core.autosave import Autosaver, Recoverable


class AutosaveService(QObject):
    """``autosaved(document, path)`` after an autosave was written; ``autosave_failed(document,
    exception)`` when one could not be (disk full...): the document keeps its unsaved changes."""

    autosaved = Signal(object, object)
    autosave_failed = Signal(object, object)
    _written = Signal(object, object)
    _failed = Signal(object, object)

    def __init__(self, autosaver: Autosaver | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        queued = Qt.ConnectionType.QueuedConnection
        self._written.connect(self.autosaved, queued)
        self._failed.connect(self.autosave_failed, queued)
        self.autosaver = autosaver or Autosaver()
        self.autosaver.on_saved = self._written.emit  # called on the writer thread
        self.autosaver.on_error = self._failed.emit
        self.timer = QTimer(self)
        self.timer.setInterval(max(50, round(self.autosaver.poll_s * 1000)))
        self.timer.timeout.connect(self.autosaver.tick)
        self.timer.start()
        self.closed = False

    def recoverable(self) -> list[Recoverable]:
        return self.autosaver.recoverable()

    def close(self, *, clean: bool = True) -> None:
        """Stop autosaving; ``clean=True`` removes this session's autosaves (a clean exit)."""
        if self.closed:
            return
        self.closed = True
        self.timer.stop()
        self.autosaver.close(clean=clean)
