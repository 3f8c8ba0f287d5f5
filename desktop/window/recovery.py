"""Crash recovery: after an unclean exit, "Recover unsaved work" lists what the autosave kept
(name, when, a thumbnail) with Restore / Discard for each, or for all.

The dialog only decides; the window restores (:meth:`MainWindow.restore_recovered`): each item
becomes a new, unsaved document, and File ▸ Save writes it where the user last saved it, if they
had. An item neither restored nor discarded (the dialog closed) stays for the next start.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from inpaint_core.autosave import Recoverable

TITLE = "Recover unsaved work"


def describe(item: Recoverable) -> str:
    """``photo.jpg`` / ``autosaved 2026-11-30 04:55`` (local time) / where it was saved."""
    when = item.saved_at.astimezone().strftime("%Y-%m-%d %H:%M")
    where = f"\nlast saved as {item.saved_path}" if item.saved_path else "\nnever saved"
    return f"{item.name}\nautosaved {when}{where}"


class RecoverDialog(QDialog):
    """``restore`` (the items chosen for restoring, in list order) is what :meth:`exec` leaves;
    discarded items are removed from disk at once."""

    def __init__(self, items: list[Recoverable], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoverDialog")
        self.setWindowTitle(TITLE)
        self.items = list(items)
        self.restore: list[Recoverable] = []
        self.discarded: list[Recoverable] = []
        heading = QLabel(f"<b>{TITLE}</b>")  # the title again: some window managers hide it
        intro = QLabel(
            "Inpaint Studio did not close properly last time. These pictures had unsaved "
            "changes; restore them to keep working, or discard them."
        )
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("recoverList")
        self.list.setIconSize(QSize(128, 128))
        self.list.setSpacing(4)
        self.list.setMinimumSize(460, 300)
        for item in self.items:
            row = QListWidgetItem(describe(item))
            if item.thumbnail is not None and item.thumbnail.exists():
                pix = QPixmap(str(item.thumbnail))
                if not pix.isNull():
                    row.setIcon(QIcon(pix))
            row.setData(Qt.ItemDataRole.UserRole, item)
            self.list.addItem(row)
        self.list.setCurrentRow(0)
        self.restore_button = QPushButton("&Restore")
        self.discard_button = QPushButton("&Discard")
        self.restore_all_button = QPushButton("Restore &All")
        self.discard_all_button = QPushButton("Discard A&ll")
        self.restore_button.clicked.connect(lambda: self._decide(True, all_items=False))
        self.discard_button.clicked.connect(lambda: self._decide(False, all_items=False))
        self.restore_all_button.clicked.connect(lambda: self._decide(True, all_items=True))
        self.discard_all_button.clicked.connect(lambda: self._decide(False, all_items=True))
        self.restore_button.setDefault(True)
        per_item = QHBoxLayout()
        per_item.addWidget(self.restore_button)
        per_item.addWidget(self.discard_button)
        per_item.addStretch(1)
        per_item.addWidget(self.restore_all_button)
        per_item.addWidget(self.discard_all_button)
        later = QDialogButtonBox()
        later.addButton("Decide &Later", QDialogButtonBox.ButtonRole.RejectRole)
        later.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(heading)
        lay.addWidget(intro)
        lay.addWidget(self.list, 1)
        lay.addLayout(per_item)
        lay.addWidget(later)

    def rows(self) -> list[Recoverable]:
        """The items still listed."""
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def _decide(self, restore: bool, *, all_items: bool) -> None:
        indexes = range(self.list.count()) if all_items else [self.list.currentRow()]
        for i in sorted((i for i in indexes if i >= 0), reverse=True):
            item: Recoverable = self.list.takeItem(i).data(Qt.ItemDataRole.UserRole)
            if restore:
                self.restore.insert(0, item)
            else:
                item.discard()
                self.discarded.append(item)
        if self.list.count() == 0:
            self.accept()
        else:
            self.list.setCurrentRow(0)
