"""No user work lost on close or open: "Save / Discard / Cancel" when the picture has changes.

An object the main window makes and asks (:class:`UnsavedWork`). The picture counts as changed when the undo
stack is not at its clean index: opening a photo or a project clears the history (clean), saving the
project (.ora) marks the current step clean (the History panel shows the photo icon there), and
every user action (stroke, mask or layer operation, kept result) is a step on the stack. A restored
autosave starts unsaved. Exporting a flattened picture does not count as saved (it loses the layers
and the mask).

Why the close is decided on the window's ``QWindow``, not only in ``closeEvent``: other parts of the
window (the generation controller) watch the widget's Close event with an event filter and shut
down when they see it, and filters run *before* ``closeEvent`` can ignore it. The ``QWindow``
receives the close request first (both for the title bar's ✕ and for ``QWidget.close()`` on a
shown top-level window), so a Cancel there stops the request before any widget sees a Close event.
``closeEvent`` still asks when no ``QWindow`` took the decision (a window never shown).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QUndoStack, QWindow
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.canvas.canvas import Canvas
from desktop.window.loader import PhotoLoader
from desktop.window.projects import ProjectSaver, document_title
from inpaint_core.document import Document

Button = QMessageBox.StandardButton


class _CloseGuard(QObject):
    """Event filter on the window's QWindow: asks before a close request reaches the widget."""

    def __init__(self, parent: QObject, settle_close: Callable[[], bool]) -> None:
        super().__init__(parent)
        self._settle_close = settle_close

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Close and not self._settle_close():
            event.ignore()
            return True
        return False


class UnsavedWork:
    """Save / Discard / Cancel before the picture is closed or replaced.

    ``parent``: the window (the question's parent, the close guard's owner); ``document``: the open
    document; ``stack``: the undo stack (clean = saved); ``canvas``: a stroke in progress is
    finished before asking; ``loader``: held while asking, cancelled on close; ``saver``: writes
    the project on Save; ``project_path``: where it was last saved; ``ask_project_path``: Save As.
    """

    def __init__(
        self,
        parent: QWidget,
        document: Callable[[], Document | None],
        stack: QUndoStack,
        canvas: Canvas,
        loader: PhotoLoader,
        saver: ProjectSaver,
        project_path: Callable[[], Path | None],
        ask_project_path: Callable[[str], Path | None],
    ) -> None:
        self._parent, self._document, self.stack = parent, document, stack
        self.canvas, self.loader, self.saver = canvas, loader, saver
        self._project_path, self._ask_project_path = project_path, ask_project_path
        self._close_settled = False
        self._guard: tuple[QWindow, _CloseGuard] | None = None

    # -- state --------------------------------------------------------------------------------------

    def has_changes(self) -> bool:
        """True when the picture changed since it was opened or last saved."""
        return self._document() is not None and not self.stack.isClean()

    def mark_saved(self) -> None:
        """The current state is saved: no question until the next change."""
        self.stack.setClean()

    # -- the question -------------------------------------------------------------------------------

    def ask(self, action: str) -> QMessageBox.StandardButton:
        """Ask "Save / Discard / Cancel" before ``action`` (e.g. "closing"); tests replace this."""
        name = document_title(self._document(), self._project_path())  # as the title says
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText(f"Save the changes to “{name}” before {action}?")
        box.setInformativeText(
            "Save writes the project (.ora: the photo, the mask, the layers and the candidates). "
            "Discard drops them; Cancel keeps everything as it is."
        )
        box.setStandardButtons(Button.Save | Button.Discard | Button.Cancel)
        box.setDefaultButton(Button.Save)
        box.setEscapeButton(Button.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return box.standardButton(clicked) if clicked is not None else Button.Cancel

    def settle(self, action: str) -> bool:
        """May the picture be replaced or closed? True when it has no unsaved changes, or the user
        chose Discard, or chose Save and the save went through. False keeps everything (Cancel,
        or a save that was cancelled or failed)."""
        if not self.has_changes():
            return True
        self.canvas.finish_stroke()  # a stroke in progress is part of the work
        with self.loader.held():  # no photo lands while the question is open
            answer = self.ask(action)
            if answer == Button.Discard:
                return True
            if answer == Button.Save:
                return self.save_before(action) is not None
        return False

    def save_before(self, action: str) -> Path | None:
        """Save → File ▸ Save (the project, .ora; Save As when it has no file yet), waiting for
        the write. The path written, or None (cancelled or failed)."""
        self.saver.wait_idle()  # a Ctrl+S still writing: let it end, then save what is there now
        path = self._project_path() or self._ask_project_path(f"Save the project before {action}")
        if path is None:
            return None
        return Path(path) if self.saver.save(path, wait=True) else None

    # -- closing ------------------------------------------------------------------------------------

    def settle_close(self) -> bool:
        """Called on a close request: True lets the window close (the photo loading, if any, is
        dropped); False keeps it open with everything in it."""
        if self._close_settled:
            return True
        if not self.settle("closing"):
            return False
        self._close_settled = True  # the widget's closeEvent that follows does not ask again
        self.loader.cancel()
        return True

    def close_allowed(self) -> bool:
        """For ``closeEvent``: True when the close may go on (asks unless already settled)."""
        allowed = self.settle_close()
        self._close_settled = False  # the next close request asks again
        return allowed

    def guard(self, handle: QWindow | None) -> None:
        """For ``showEvent``: ask on the window's ``QWindow`` (``handle``) before a close request
        reaches the widget; moves the guard when the window got a new ``QWindow``."""
        if handle is None or (self._guard is not None and self._guard[0] is handle):
            return
        if self._guard is not None:
            try:
                self._guard[0].removeEventFilter(self._guard[1])
            except RuntimeError:  # that QWindow is gone already
                pass
        filt = _CloseGuard(self._parent, self.settle_close)
        handle.installEventFilter(filt)
        self._guard = (handle, filt)
