"""The undo history: one QUndoCommand per user action, wrapping a core :class:`Edit`, with a
memory budget in bytes.

QUndoStack can only limit the *number* of commands (and only while empty), so the budget is kept
here: whenever a command lands on the stack and the edits' bytes exceed the limit, the oldest steps
are dropped by rebuilding the stack from the kept edits (no pixels are copied, the document is not
touched). Commands pushed straight onto :attr:`History.stack` by other code are counted too, as
long as they carry the core edit as ``.edit``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from inpaint_core.document import Document, Edit

DEFAULT_LIMIT = 1 << 30  # 1 GiB


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def command_bytes(cmd: QUndoCommand | None) -> int:
    edit = getattr(cmd, "edit", None)
    return int(getattr(edit, "nbytes", 0) or 0)


class EditCommand(QUndoCommand):
    """An edit that is already applied when pushed: the first ``redo`` (from ``push``) is skipped."""

    def __init__(
        self, history: History, doc: Document, edit: Edit, text: str | None = None
    ) -> None:
        super().__init__(text or edit.label)
        self.history = history
        self.doc = doc
        self.edit = edit
        self._applied = True

    def redo(self) -> None:
        if self._applied or self.history.replaying:
            self._applied = False
            return
        self.doc.apply_edit(self.edit, undo=False)

    def undo(self) -> None:
        if self.history.replaying:
            return
        self.doc.apply_edit(self.edit, undo=True)


class History(QObject):
    """A QUndoStack with a byte budget; :attr:`stack` goes to the QUndoView and the menu actions."""

    memory_changed = Signal(int, int)  # bytes kept, limit

    def __init__(self, limit_bytes: int = DEFAULT_LIMIT, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = QUndoStack(self)
        self.limit_bytes = int(limit_bytes)
        self.replaying = False
        self.dropped = 0  # steps dropped so far (shown in the status bar)
        self._count = 0
        self.stack.indexChanged.connect(self._index_changed)

    def commands(self) -> list[QUndoCommand]:
        return [self.stack.command(i) for i in range(self.stack.count())]

    @property
    def bytes_used(self) -> int:
        return sum(command_bytes(self.stack.command(i)) for i in range(self.stack.count()))

    def push(self, doc: Document, edit: Edit | None, text: str | None = None) -> None:
        if edit is not None:
            self.stack.push(EditCommand(self, doc, edit, text))

    def clear(self) -> None:
        self.stack.clear()
        self.dropped = 0
        self._count = 0
        self._emit()

    def set_limit(self, limit_bytes: int) -> None:
        self.limit_bytes = int(limit_bytes)
        self._enforce()
        self._emit()

    def _index_changed(self, _index: int) -> None:
        if self.replaying:
            return
        grew = self.stack.count() > self._count or self.stack.index() == self.stack.count()
        self._count = self.stack.count()
        if grew:
            self._enforce()
        self._emit()

    def _enforce(self) -> None:
        cmds = self.commands()
        total = sum(command_bytes(c) for c in cmds)
        if total <= self.limit_bytes or len(cmds) <= 1:
            return
        # drop from the bottom down to 80 % of the budget (so this does not run on every push);
        # only applied steps (below the index) go, and the newest step always stays
        target = int(self.limit_bytes * 0.8)
        drop = 0
        while total > target and drop < min(len(cmds) - 1, self.stack.index()):
            total -= command_bytes(cmds[drop])
            drop += 1
        keep = cmds[drop:]
        if drop == 0 or any(getattr(c, "edit", None) is None for c in keep):
            return  # a foreign command without an edit cannot be re-created: keep everything
        self._rebuild(drop, keep)

    def _rebuild(self, drop: int, keep: list[QUndoCommand]) -> None:
        kept = [
            (getattr(c, "doc", None) or getattr(c, "document", None), c.edit, c.text())
            for c in keep
        ]
        index = self.stack.index() - drop
        clean = self.stack.cleanIndex() - drop  # the saved state moves down with the steps
        had_clean = self.stack.cleanIndex() >= 0
        self.replaying = True
        try:
            self.stack.clear()
            for doc, edit, text in kept:
                self.stack.push(EditCommand(self, doc, edit, text))
            # clear() made step 0 "clean"; it is not the opened photo any more (the dropped steps
            # stay applied), so the clean mark goes where the saved state now is, or nowhere
            if had_clean and clean >= 0:
                self.stack.setIndex(clean)
                self.stack.setClean()
            else:
                self.stack.resetClean()
            self.stack.setIndex(index)
        finally:
            self.replaying = False
        self._count = self.stack.count()
        self.dropped += drop

    def _emit(self) -> None:
        self.memory_changed.emit(self.bytes_used, self.limit_bytes)
