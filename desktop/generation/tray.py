"""The candidates tray: every output of every run, as thumbnails labelled with seed and scheduler.

A thin view of :class:`inpaint_core.candidates.CandidateHistory` (the evented list in the core):
the list widget's rows follow the history's ``inserted``/``removed``/``changed`` events, and the
tray's own edits (reveal, discard, clear) go through the history. Selecting a candidate asks for an in-place preview on the canvas; the actions (keep, save, use
settings, reveal, discard) are signals, so the tray knows nothing about the document or the canvas.
Candidates flagged by the safety checker are shown blurred until the user reveals them.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from inpaint_core.candidates import Candidate, CandidateHistory, blurred
from inpaint_core.inpaint import InpaintResult
from inpaint_core.request import MAX_SEED
from inpaint_core.schedulers import scheduler_names

__all__ = ["THUMB", "Candidate", "CandidatesTray", "blurred", "rgb_to_qimage", "thumbnail"]

THUMB = 96
ROLE = Qt.ItemDataRole.UserRole


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of ``rgb`` (HxWx3 uint8)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888).copy()


def thumbnail(candidate: Candidate, size: int = THUMB) -> QIcon:
    patch = candidate.display_patch()
    h, w = patch.shape[:2]
    scale = size / max(h, w)
    small = cv2.resize(
        patch,
        (max(1, round(w * scale)), max(1, round(h * scale))),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
    )
    canvas = QPixmap(size, size)
    canvas.fill(QColor(0, 0, 0, 0))
    p = QPainter(canvas)
    img = rgb_to_qimage(small)
    p.drawImage((size - img.width()) // 2, (size - img.height()) // 2, img)
    if candidate.hidden:
        p.fillRect(0, size - 22, size, 22, QColor(200, 40, 40, 200))
        p.setPen(QColor("white"))
        p.drawText(0, size - 22, size, 22, Qt.AlignmentFlag.AlignCenter, "flagged: hidden")
    p.end()
    return QIcon(canvas)


class CandidatesTray(QWidget):
    """Icon-mode list of :class:`Candidate` objects plus their actions."""

    #: the current candidate changed (``None`` when nothing is selected): preview it in place
    preview_requested = Signal(object)
    keep_requested = Signal(object)
    save_requested = Signal(object)
    use_settings_requested = Signal(object)
    discarded = Signal(object)

    def __init__(
        self, parent: QWidget | None = None, *, history: CandidateHistory | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("candidatesTray")
        #: the core list this tray shows (the generation controller appends to it)
        self.history = history if history is not None else CandidateHistory()
        self._removing_current = False
        self.list = QListWidget(objectName="candidatesList")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(True)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setUniformItemSizes(True)
        # one label line per line of text (seed ✓ / scheduler / seam): a line too long for the
        # cell is elided, never wrapped (a wrapped line pushed the seam line out of the cell)
        self.list.setWordWrap(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._fit_grid()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(self._double_clicked)
        self.list.customContextMenuRequested.connect(self._context_menu)

        self.keep_action = QAction("Keep", self, objectName="keepAction")
        self.keep_action.setToolTip("Apply as a new layer (double-click; undo with Ctrl+Z)")
        self.keep_action.triggered.connect(lambda: self._emit_current(self.keep_requested))
        self.save_action = QAction("Save…", self, objectName="saveCandidateAction")
        self.save_action.setToolTip("Save this candidate as a PNG with its parameters")
        self.save_action.triggered.connect(lambda: self._emit_current(self.save_requested))
        self.use_action = QAction("Use settings", self, objectName="useSettingsAction")
        self.use_action.setToolTip("Copy this candidate's parameters (and seed) to the panel")
        self.use_action.triggered.connect(lambda: self._emit_current(self.use_settings_requested))
        self.reveal_action = QAction("Reveal", self, objectName="revealAction")
        self.reveal_action.setToolTip("Show a candidate the safety checker flagged")
        self.reveal_action.triggered.connect(self.reveal_current)
        self.discard_action = QAction("Discard", self, objectName="discardAction")
        self.discard_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.discard_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.discard_action.triggered.connect(self.discard_current)
        self.sort_seam_action = QAction("Sort by seam", self, objectName="sortBySeamAction")
        self.sort_seam_action.setToolTip(
            "Best blend first: lowest seam score (how well each candidate meets its surroundings)"
        )
        self.sort_seam_action.triggered.connect(self.sort_by_seam)
        self.clear_action = QAction("Clear all", self, objectName="clearCandidatesAction")
        self.clear_action.triggered.connect(self.clear)
        self.addAction(self.discard_action)

        # a tool bar: buttons that do not fit go behind its overflow arrow (the dock stays narrow)
        bar = QToolBar(objectName="candidatesToolBar")
        bar.setIconSize(QSize(16, 16))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.addActions([self.keep_action, self.save_action, self.use_action, self.reveal_action])
        bar.addSeparator()
        bar.addActions([self.sort_seam_action, self.discard_action, self.clear_action])
        self.hint = QLabel("Hold \\ for before/after", objectName="candidatesHint")
        self.hint.setStyleSheet("color: palette(mid); padding: 0 6px;")
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(bar, 1)
        row.addWidget(self.hint, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.list, 1)
        ev = self.history.events
        ev.inserted.connect(self._on_inserted)
        ev.removing.connect(self._on_removing)
        ev.removed.connect(self._on_removed)
        ev.moved.connect(self._on_moved)
        ev.changed.connect(self._on_changed)
        for index, cand in enumerate(self.history):
            self._on_inserted(index, cand)
        self._update_actions()

    def _fit_grid(self) -> None:
        """Cells wide enough for the longest label line (a kept 10-digit seed, the longest
        scheduler name) and tall enough for the thumbnail and three lines, in the list's font."""
        fm = self.list.fontMetrics()
        longest = [f"seed {MAX_SEED} ✓", *scheduler_names()]
        width = max(THUMB + 44, max(fm.horizontalAdvance(t) for t in longest) + 16)
        self.list.setGridSize(QSize(width, THUMB + 3 * fm.lineSpacing() + 20))
        for row in range(self.list.count()):
            self.list.item(row).setSizeHint(self._cell_size())

    def _cell_size(self) -> QSize:
        """Every row's size: its whole grid cell. (The list's uniform size was measured from the
        first label and never again: a label that later grew a ✓ was elided to that width.)"""
        return self.list.gridSize() - QSize(6, 6)

    def row_height(self) -> int:
        """The tray's height showing one full row of candidates (the dock is sized to it)."""
        bar = self.layout().itemAt(0).sizeHint().height()
        frame = 2 * self.list.frameWidth() + self.layout().spacing() + 8
        return bar + self.list.gridSize().height() + frame

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_grid()

    # -- content (through the history) -----------------------------------------------------------
    def add_results(
        self,
        results: list[InpaintResult],
        job_id: str = "",
        model_name: str | None = None,
        document: Any = None,
    ) -> list[Candidate]:
        return self.history.add_results(results, job_id, model_name, document)

    @staticmethod
    def _tooltip(cand: Candidate) -> str:
        r = cand.result.request
        lines = [f"seed {cand.seed}"] if cand.seed is not None else []
        lines.append(f"engine {r.engine}")
        if r.engine == "diffusion":
            lines += [
                f"{r.scheduler}, {r.steps} steps, guidance {r.guidance_scale:g}, strength {r.strength:g}",
                f"prompt: {r.prompt or '(empty)'}",
            ]
            if cand.model_name:
                lines.append(f"model: {cand.model_name}")
        if cand.seam_score is not None:
            lines.append(f"seam score {cand.seam_score:.2f} (lower blends better)")
        if cand.flagged:
            lines.append("flagged by the safety checker" + ("" if cand.revealed else " (hidden)"))
        return "\n".join(lines)

    def candidates(self) -> list[Candidate]:
        return list(self.history)

    def count(self) -> int:
        return len(self.history)

    def current(self) -> Candidate | None:
        item = self.list.currentItem()
        if item is None or not item.isSelected():
            return None
        return item.data(ROLE)

    def select(self, candidate: Candidate | None) -> None:
        if candidate is None:
            self.list.clearSelection()
            self.list.setCurrentItem(None)
            return
        item = self._item_of(candidate)
        if item is not None:
            self.list.setCurrentItem(item)
            item.setSelected(True)

    def _item_of(self, candidate: Candidate) -> QListWidgetItem | None:
        try:
            return self.list.item(self.history.index_of(candidate))
        except ValueError:
            return None

    def refresh(self, candidate: Candidate) -> None:
        """Redraw one candidate's thumbnail and label (after reveal/keep)."""
        item = self._item_of(candidate)
        if item is not None:
            self._fill(item, candidate)
        self._update_actions()

    def mark_kept(self, candidate: Candidate, kept: bool = True) -> None:
        self.history.set_kept(candidate, kept)

    def reveal_current(self) -> None:
        cand = self.current()
        if cand is not None and self.history.reveal(cand):
            self.preview_requested.emit(cand)

    def discard(self, candidate: Candidate) -> None:
        self.history.discard(candidate)

    def discard_current(self) -> None:
        cand = self.current()
        if cand is not None:
            self.discard(cand)

    def sort_by_seam(self) -> None:
        """Best seam first (through the history, so every view follows); the selection stays."""
        current = self.current()
        self.history.sort_by_seam()
        if current is not None:
            self.select(current)

    def clear(self) -> None:
        self.history.clear()
        self.preview_requested.emit(None)
        self._update_actions()

    # -- the history's events -> list rows ------------------------------------------------------
    def _fill(self, item: QListWidgetItem, cand: Candidate) -> None:
        item.setIcon(thumbnail(cand))
        item.setText(f"{cand.label}\n{cand.seam_text}" if cand.seam_text else cand.label)
        item.setSizeHint(self._cell_size())
        item.setToolTip(self._tooltip(cand))

    def _on_inserted(self, index: int, cand: Candidate) -> None:
        item = QListWidgetItem()
        item.setData(ROLE, cand)
        self._fill(item, cand)
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.list.insertItem(index, item)
        self._update_actions()

    def _on_removing(self, index: int) -> None:
        self._removing_current = self.current() is self.history[index]

    def _on_removed(self, index: int, cand: Candidate) -> None:
        was_current, self._removing_current = self._removing_current, False
        self.list.takeItem(index)
        self.discarded.emit(cand)
        if was_current:
            self.list.clearSelection()
            self.preview_requested.emit(None)
        self._update_actions()

    def _on_moved(self, src: int, dst: int) -> None:
        item = self.list.takeItem(src)
        self.list.insertItem(dst, item)

    def _on_changed(self, _index: int, cand: Candidate, _name: str) -> None:
        self.refresh(cand)

    # -- reactions ------------------------------------------------------------------------------
    def _current_changed(self, *_: Any) -> None:
        self._selection_changed()

    def _selection_changed(self) -> None:
        self._update_actions()
        self.preview_requested.emit(self.current())

    def _double_clicked(self, item: QListWidgetItem) -> None:
        cand = item.data(ROLE)
        if cand.hidden:  # look before you keep
            self.reveal_current()
        else:
            self.keep_requested.emit(cand)

    def _emit_current(self, signal: Any) -> None:
        cand = self.current()
        if cand is not None:
            signal.emit(cand)

    def _context_menu(self, pos: Any) -> None:
        if self.list.itemAt(pos) is None:
            return
        menu = QMenu(self)
        for action in (self.keep_action, self.save_action, self.use_action, self.reveal_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.sort_seam_action)
        menu.addAction(self.discard_action)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def _update_actions(self) -> None:
        cand = self.current()
        has = cand is not None
        self.keep_action.setEnabled(has and not cand.hidden)  # type: ignore[union-attr]
        for action in (self.save_action, self.use_action, self.discard_action):
            action.setEnabled(has)
        self.reveal_action.setEnabled(has and cand.hidden)  # type: ignore[union-attr]
        self.clear_action.setEnabled(len(self.history) > 0)
        self.sort_seam_action.setEnabled(sum(c.seam_score is not None for c in self.history) > 1)
