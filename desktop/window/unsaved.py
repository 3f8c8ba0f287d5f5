"""No user work lost on close or open: "Save / Discard / Cancel" when the picture has changes.

A mixin of :class:`desktop.main_window.MainWindow`. The picture counts as changed when the undo
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

from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QMessageBox

Button = QMessageBox.StandardButton


class _CloseGuard(QObject):
    """Event filter on the window's QWindow: asks before a close request reaches the widget."""

    def __init__(self, window: UnsavedWorkMixin) -> None:
        super().__init__(window)  # type: ignore[arg-type] - the window is a QObject
        self._window = window

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Close and not self._window.settle_close():
            event.ignore()
            return True
        return False


class UnsavedWorkMixin:
    _close_settled = False

    # -- state --------------------------------------------------------------------------------------

    def has_unsaved_changes(self) -> bool:
        """True when the picture changed since it was opened or last exported."""
        return self.doc is not None and not self.history.stack.isClean()

    def mark_saved(self) -> None:
        """The current state is saved: no question until the next change."""
        self.history.stack.setClean()

    # -- the question -------------------------------------------------------------------------------

    def ask_unsaved(self, action: str) -> QMessageBox.StandardButton:
        """Ask "Save / Discard / Cancel" before ``action`` (e.g. "closing"); tests replace this."""
        name = self.doc.photo.name if self.doc is not None else "the picture"
        box = QMessageBox(self)
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

    def settle_unsaved(self, action: str) -> bool:
        """May the picture be replaced or closed? True when it has no unsaved changes, or the user
        chose Discard, or chose Save and the export went through. False keeps everything (Cancel,
        or a save that was cancelled or failed)."""
        if not self.has_unsaved_changes():
            return True
        self.canvas.finish_stroke()  # a stroke in progress is part of the work
        with self.loader.held():  # no photo lands while the question is open
            answer = self.ask_unsaved(action)
            if answer == Button.Discard:
                return True
            if answer == Button.Save:
                return self.save_before(action) is not None
        return False

    def save_before(self, action: str) -> Path | None:
        """Save → File ▸ Save (the project, .ora; Save As when it has no file yet), waiting for
        the write. The path written, or None (cancelled or failed)."""
        self.saver.wait_idle()  # a Ctrl+S still writing: let it end, then save what is there now
        path = self.project_path or self.ask_project_path(f"Save the project before {action}")
        if path is None:
            return None
        return Path(path) if self.saver.save(path, wait=True) else None

    # -- closing ------------------------------------------------------------------------------------

    def settle_close(self) -> bool:
        """Called on a close request: True lets the window close (the photo loading, if any, is
        dropped); False keeps it open with everything in it."""
        if self._close_settled:
            return True
        if not self.settle_unsaved("closing"):
            return False
        self._close_settled = True  # the widget's closeEvent that follows does not ask again
        self.loader.cancel()
        return True

    def close_allowed(self) -> bool:
        """For ``closeEvent``: True when the close may go on (asks unless already settled)."""
        allowed = self.settle_close()
        self._close_settled = False  # the next close request asks again
        return allowed

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        handle = self.windowHandle()
        guard = getattr(self, "_close_guard", None)
        if handle is not None and (guard is None or guard[0] is not handle):
            if guard is not None:
                try:
                    guard[0].removeEventFilter(guard[1])
                except RuntimeError:  # that QWindow is gone already
                    pass
            filt = _CloseGuard(self)
            handle.installEventFilter(filt)
            self._close_guard = (handle, filt)
        super().showEvent(event)
