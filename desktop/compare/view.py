"""The compare view: a sweep's cells in a live, zoomable grid; pick the winner and keep it.

Thin by design: the sweep itself (:mod:`inpaint_core.sweep`) runs on the engine bridge's single
worker thread through ``submit_call``; this widget only places the streamed ``partial`` cells,
shows them through one shared zoom/pan (:mod:`desktop.compare.panes`), and hands a kept cell to the
window (``cell_kept``) which applies it as an undoable layer.

Keys: arrows step through cells, Enter opens the large A/B view, Esc goes back, K keeps the
selected cell, R reveals a cell the safety checker flagged, 0 fits the zoom.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QSettings, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import file_dialogs
from desktop.compare.panes import CellPane, SharedView, WipePane
from inpaint_core.contact_sheet import save_cell_png, save_contact_sheet
from inpaint_core.imaging.highbits import HighBits
from inpaint_core.sweep import (
    GRID_ORDERS,
    CellResult,
    SweepPlan,
    format_duration,
    grid_layout,
    run_sweep,
)


def _bold(widget: QWidget, size_delta: float = 0.0) -> None:
    f = QFont(widget.font())
    f.setBold(True)
    if size_delta:
        f.setPointSizeF(f.pointSizeF() + size_delta)
    widget.setFont(f)


class CompareView(QWidget):
    """Grid of a sweep's cells over one photo. Feed it a plan, then cells (or :meth:`start`)."""

    #: a cell the user keeps; the window applies it as a new (undoable) result layer
    cell_kept = Signal(object)
    #: the sweep ended (finished, failed or cancelled); carries the number of finished cells
    sweep_done = Signal(int)

    def __init__(
        self,
        photo: Any,
        plan: SweepPlan,
        *,
        seconds_per_step: float | None = None,
        model_name: str | None = None,
        source_name: str = "",
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        #: where the export dialogs start (:mod:`desktop.file_dialogs`, kind "compare")
        self.settings = settings if settings is not None else QSettings()
        self.photo_rgb: np.ndarray = getattr(photo, "rgb", photo)
        self.photo_alpha: np.ndarray | None = getattr(photo, "alpha", None)
        self.high_bits: HighBits | None = getattr(photo, "high_bits", None)  # a 16-bit photo
        self.plan = plan
        self.model_name = model_name
        self.source_name = source_name
        self.results: dict[int, CellResult] = {}
        self.kept: list[int] = []
        self.revealed: set[int] = set()
        self.current = 0
        self.job_id: str | None = None
        self.bridge: Any = None
        self._started_at: float | None = None
        self.view = SharedView(self)
        self.setWindowTitle(f"Compare — {source_name}" if source_name else "Compare")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._build(seconds_per_step)
        self.select(0)

    # -- layout -----------------------------------------------------------------------------
    def _button(self, text: str, tip: str, slot: Any) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the grid
        b.clicked.connect(slot)
        return b

    def _build(self, seconds_per_step: float | None) -> None:
        plan = self.plan
        self.summary_label = QLabel(plan.summary(seconds_per_step))
        _bold(self.summary_label, 1.5)
        self.status_label = QLabel("not started")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)  # shown while a sweep runs
        self.subtitle = QLabel(self._describe_fixed())
        self.subtitle.setStyleSheet("color: #4a4f55;")
        self.hint = QLabel(
            "wheel: zoom all · drag: pan all · arrows: step · click or Enter: large A/B view · "
            "K: keep as layer · 0: fit"
        )
        self.hint.setStyleSheet("color: #4a4f55;")
        self.fit_button = self._button("Fit", "fit every cell (0)", self.view.reset)
        self.keep_button = self._button(
            "Keep as layer", "apply the selected cell as a new layer (K)", self.keep_current
        )
        self.sheet_button = self._button(
            "Export sheet…", "save a contact sheet PNG with labels", self._ask_export_sheet
        )
        self.cells_button = self._button(
            "Export cells…", "save every cell as a PNG with its parameters", self._ask_export_cells
        )
        self.cancel_button = self._button(
            "Cancel", "stop the sweep; finished cells stay", self.cancel
        )
        self.cancel_button.setEnabled(False)
        self.sort_combo = QComboBox(objectName="compareSortCombo")
        for key, text in GRID_ORDERS.items():
            self.sort_combo.addItem(text, key)
        self.sort_combo.setToolTip(
            "Order of the cells: by scheduler (the grid as planned), by seed, or by seam score "
            "(best blend first)"
        )
        self.sort_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the grid
        self.sort_combo.currentIndexChanged.connect(lambda _i: self._place_cells())

        header = QHBoxLayout()
        header.addWidget(self.summary_label)
        header.addSpacing(12)
        header.addWidget(self.status_label, 1)
        header.addWidget(self.progress)
        for b in (
            self.cancel_button,
            self.fit_button,
            self.keep_button,
            self.sheet_button,
            self.cells_button,
        ):
            header.addWidget(b)

        # grid page: column labels on top, row labels on the left, placed by _place_cells in the
        # order the sort control asks for
        grid_widget = QWidget()
        self.grid = QGridLayout(grid_widget)
        self.grid.setSpacing(6)
        self.col_labels: list[QLabel] = []
        self.row_labels: list[QLabel] = []
        self.cells: list[CellPane] = []
        for cell in plan.cells:
            pane = CellPane(self.view, cell.index)
            pane.setToolTip(f"{cell.label}\nwheel: zoom all · drag: pan all · click: large A/B")
            pane.clicked.connect(lambda i=cell.index: self.open_large(i))
            self.cells.append(pane)
        self.layout_now = grid_layout(plan, "scheduler")
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_widget)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows step cells, not scroll bars
        self.grid_page = scroll
        self._place_cells()

        # large page: A/B wipe against the original
        large = QWidget()
        lv = QVBoxLayout(large)
        lv.setContentsMargins(0, 0, 0, 0)
        self.large_title = QLabel()
        _bold(self.large_title, 1.5)
        hint = QLabel("← → step · Esc back to the grid · K keep · drag the divider to wipe")
        top = QHBoxLayout()
        top.addWidget(self.large_title, 1)
        top.addWidget(hint)
        self.wipe = WipePane(self.view)
        self.wipe.clicked.connect(self.back_to_grid)
        lv.addLayout(top)
        lv.addWidget(self.wipe, 1)
        self.large_page = large

        self.stack = QStackedWidget()
        self.stack.addWidget(self.grid_page)
        self.stack.addWidget(self.large_page)
        outer = QVBoxLayout(self)
        outer.addLayout(header)
        under = QHBoxLayout()  # the shared parameters, and the cells' order
        under.addWidget(self.subtitle, 1)
        under.addWidget(QLabel("Sort:"))
        under.addWidget(self.sort_combo)
        outer.addLayout(under)
        outer.addWidget(self.stack, 1)
        outer.addWidget(self.hint)
        self._update_buttons()

    # -- order ------------------------------------------------------------------------------
    @property
    def sort_order(self) -> str:
        return self.sort_combo.currentData()

    def sort_by(self, order: str) -> None:
        """Order the cells ``"scheduler"``, ``"seed"`` or ``"seam"`` (the sort control's keys)."""
        self.sort_combo.setCurrentIndex(self.sort_combo.findData(order))

    def _place_cells(self) -> None:
        """Lay the cells out as :func:`inpaint_core.sweep.grid_layout` orders them (the one place
        the order is decided); the selection stays on its cell."""
        scores = {c.index: self.seam_score(c.index) for c in self.plan.cells}
        old = self.layout_now
        layout = grid_layout(self.plan, self.sort_order or "scheduler", scores)
        self.layout_now = layout
        grid = self.grid
        for lab in self.col_labels + self.row_labels:
            grid.removeWidget(lab)
            lab.deleteLater()
        self.col_labels, self.row_labels = [], []
        for pane in self.cells:
            grid.removeWidget(pane)
        for r in range(old.n_rows + 1):
            grid.setRowStretch(r, 0)
        for c in range(old.n_cols + 1):
            grid.setColumnStretch(c, 0)
        for c, text in enumerate(layout.col_labels):
            lab = QLabel(text)
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            _bold(lab, 1.0)
            grid.addWidget(lab, 0, c + 1)
            self.col_labels.append(lab)
        for r, text in enumerate(layout.row_labels):
            lab = QLabel(text.replace(", ", "\n"))
            lab.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            _bold(lab, 1.0)
            grid.addWidget(lab, r + 1, 0)
            self.row_labels.append(lab)
        own_labels = not layout.row_labels  # each cell names itself (seam order)
        for cell in self.plan.cells:
            row, col = layout.positions[cell.index]
            pane = self.cells[cell.index]
            pane.set_caption(cell.label if own_labels else "")
            grid.addWidget(pane, row + 1, col + 1)
        for r in range(layout.n_rows):
            grid.setRowStretch(r + 1, 1)
        for c in range(layout.n_cols):
            grid.setColumnStretch(c + 1, 1)
        if self.cells:
            self.grid_page.ensureWidgetVisible(self.cells[self.current])

    def _describe_fixed(self) -> str:
        """The parameters every cell shares (the axes are in the row/column labels)."""
        b, axes = self.plan.base, self.plan.axes
        parts = [f"“{b.prompt}”" if b.prompt else "(no prompt)"]
        if b.negative_prompt:
            parts.append(f"not “{b.negative_prompt}”")
        model = self.model_name or (Path(str(b.model)).name if b.model else None)
        parts.append(model or f"{b.engine} engine")
        if b.engine == "diffusion":
            if "scheduler" not in axes:
                parts.append(b.scheduler)
            if "steps" not in axes:
                parts.append(f"{b.steps} steps")
            if "guidance_scale" not in axes:
                parts.append(f"CFG {b.guidance_scale:g}")
            if "strength" not in axes:
                parts.append(f"strength {b.strength:g}")
        return " · ".join(str(p) for p in parts)

    # -- cells ------------------------------------------------------------------------------
    def add_cells(self, cells: list[CellResult]) -> None:
        """Place finished cells (a ``partial`` event's payload); the rest stay placeholders."""
        for cr in cells:
            i = cr.cell.index
            if not 0 <= i < len(self.cells):
                continue
            self.results[i] = cr
            self._show_cell(i)
        if self.sort_order == "seam":
            self._place_cells()  # new scores: the order changes
        if self.job_id is not None:
            self._mark_running_row()
        if self.is_large and self.current in {c.cell.index for c in cells}:
            self._show_large(self.current)
        self._update_buttons()

    def shown_patch(self, index: int) -> np.ndarray | None:
        """The cell's pixels, or None while it is hidden (flagged by the safety checker and not
        revealed: like the candidates tray, a flagged picture is kept but not shown unasked)."""
        cr = self.results.get(index)
        if cr is None or (cr.result.nsfw_flagged and index not in self.revealed):
            return None
        return cr.result.patch

    def seam_score(self, index: int) -> float | None:
        """The cell's seam score (lower blends better), or None before its result arrives."""
        cr = self.results.get(index)
        score = None if cr is None else cr.result.info.get("seam_score")
        return None if score is None else float(score)

    def _cell_text(self, index: int) -> str:
        """The cell's label, with its seam score once there is one."""
        score = self.seam_score(index)
        label = self.plan.cells[index].label
        return label if score is None else f"{label} · seam {score:.2f}"

    def _show_cell(self, index: int) -> None:
        pane = self.cells[index]
        pane.set_rgb(self.shown_patch(index))
        pane.set_seam(self.seam_score(index))
        pane.setToolTip(
            f"{self._cell_text(index)}"
            + ("\nseam score: lower blends better" if self.seam_score(index) is not None else "")
            + "\nwheel: zoom all · drag: pan all · click: large A/B"
        )
        if index in self.results and pane.pixmap is None:
            pane.set_status("flagged by the safety checker\nR: reveal")

    def reveal(self, index: int | None = None) -> None:
        """Show a cell the safety checker flagged (the user asked for it)."""
        index = self.current if index is None else index
        if index in self.results:
            self.revealed.add(index)
            self._show_cell(index)
            if self.is_large:
                self._show_large(index)

    def _mark_running_row(self) -> None:
        waiting = [c for c in self.plan.cells if c.index not in self.results]
        if waiting:
            row = waiting[0].row
            for c in waiting:
                self.cells[c.index].set_status("running…" if c.row == row else "waiting…")

    def cell_original(self, index: int) -> np.ndarray | None:
        cr = self.results.get(index)
        return None if cr is None else self.photo_rgb[cr.result.box.slices]

    # -- selection and the large view -------------------------------------------------------
    @property
    def is_large(self) -> bool:
        return self.stack.currentWidget() is self.large_page

    def select(self, index: int) -> None:
        index = max(0, min(len(self.cells) - 1, index))
        if self.cells:
            self.cells[self.current].set_selected(False)
            self.current = index
            self.cells[index].set_selected(True)
            self.grid_page.ensureWidgetVisible(self.cells[index])
        if self.is_large:
            self._show_large(self.current)
        self._update_buttons()

    def step(self, d_row: int, d_col: int) -> None:
        """Move the selection in the grid as it is shown (in its present order)."""
        layout = self.layout_now
        row, col = layout.positions[self.current]
        row = max(0, min(layout.n_rows - 1, row + d_row))
        col = max(0, min(layout.n_cols - 1, col + d_col))
        target = layout.at(row, col)
        if target is not None:
            self.select(target)

    def step_reading(self, delta: int) -> None:
        """The previous/next cell in reading order of the grid as shown (the large view's ← →)."""
        order = self.layout_now.reading_order()
        pos = max(0, min(len(order) - 1, order.index(self.current) + delta))
        self.select(order[pos])

    def open_large(self, index: int | None = None) -> None:
        if index is not None:
            self.select(index)
        self.stack.setCurrentWidget(self.large_page)
        self._show_large(self.current)
        self.setFocus()

    def back_to_grid(self) -> None:
        self.stack.setCurrentWidget(self.grid_page)
        self.setFocus()

    def _show_large(self, index: int) -> None:
        cell = self.plan.cells[index]
        cr = self.results.get(index)
        self.large_title.setText(
            f"{self._cell_text(index)}"
            + ("" if cr else "  (not finished)")
            + ("  · kept" if index in self.kept else "")
        )
        self.wipe.b_label = f"B: {cell.label}"
        self.wipe.set_original(self.cell_original(index))
        self.wipe.set_rgb(self.shown_patch(index))
        if cr is not None and self.shown_patch(index) is None:
            self.large_title.setText(f"{cell.label}  (flagged by the safety checker: R reveals it)")

    # -- keep and export --------------------------------------------------------------------
    def keep_current(self) -> CellResult | None:
        """Hand the selected cell to the window as a new layer (each keep = its own layer)."""
        cr = self.results.get(self.current)
        if cr is None:
            return None
        if self.current not in self.kept:
            self.kept.append(self.current)
        self.cells[self.current].set_kept(True)
        if self.is_large:
            self._show_large(self.current)
        self.cell_kept.emit(cr)
        return cr

    def finished_cells(self) -> list[CellResult]:
        return [self.results[i] for i in sorted(self.results)]

    def export_contact_sheet(self, path: str | Path) -> Path:
        title = f"{self.source_name}: {self.plan.base.prompt or '(no prompt)'}"
        return save_contact_sheet(path, self.plan, self.finished_cells(), title=title)

    def export_cells(self, folder: str | Path) -> list[Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return [
            save_cell_png(
                folder, cr, self.photo_rgb, self.photo_alpha, self.model_name, self.high_bits
            )
            for cr in self.finished_cells()
        ]

    def _ask_export_sheet(self) -> None:
        path, _ = file_dialogs.save_file(
            self,
            self.settings,
            "compare",
            "Export contact sheet",
            "contact-sheet.png",
            "PNG image (*.png)",
        )
        if path:
            try:
                self.status_label.setText(f"saved {self.export_contact_sheet(path)}")
            except OSError as exc:  # FileWriteError: names the path and the reason
                self.status_label.setText(f"could not save: {exc}")

    def _ask_export_cells(self) -> None:
        folder = file_dialogs.choose_folder(
            self, self.settings, "compare", "Export every cell as a PNG"
        )
        if folder:
            try:
                n = len(self.export_cells(folder))
            except OSError as exc:
                self.status_label.setText(f"could not save: {exc}")
                return
            self.status_label.setText(f"saved {n} cells to {folder}")

    def _update_buttons(self) -> None:
        has = bool(self.results)
        self.keep_button.setEnabled(self.current in self.results)
        self.sheet_button.setEnabled(has)
        self.cells_button.setEnabled(has)

    # -- running on the engine bridge -------------------------------------------------------
    def start(self, bridge: Any, image: Any, mask: np.ndarray, engine_factory: Any = None) -> str:
        """Run the plan as ONE job on the bridge's worker thread; cells stream in as rows finish."""
        plan = self.plan
        factory = engine_factory or bridge.queue.engine_factory

        def run(on_event, cancel):  # worker thread: the engine (and model) come from the cache
            return run_sweep(plan, image, mask, factory(plan.base), on_event, cancel)

        self.bridge = bridge
        bridge.partial_ready.connect(self._on_partial)
        bridge.progress_changed.connect(self._on_progress)
        bridge.results_ready.connect(self._on_results)
        bridge.job_failed.connect(self._on_failed)
        bridge.job_cancelled.connect(self._on_cancelled)
        bridge.job_finished.connect(self._on_finished)
        self._started_at = time.monotonic()
        self.job_id = bridge.submit_call(run, f"compare: {plan.summary()}")
        self.status_label.setText("starting…")
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        self._mark_running_row()
        return self.job_id

    def cancel(self) -> None:
        if self.bridge is not None and self.job_id is not None:
            self.bridge.cancel(self.job_id)
            self.status_label.setText("cancelling…")

    @property
    def running(self) -> bool:
        return self.job_id is not None

    def _on_partial(self, job_id: str, cells: list) -> None:
        if job_id == self.job_id:
            self.add_cells(cells)

    def _on_results(self, job_id: str, cells: list) -> None:
        if job_id == self.job_id:  # everything, in case a partial was missed
            missing = [c for c in cells if c.cell.index not in self.results]
            if missing:
                self.add_cells(missing)

    def _on_progress(self, job_id: str, fraction: float, *_: Any) -> None:
        if job_id != self.job_id:
            return
        self.progress.setValue(int(fraction * 1000))
        done = len(self.results)
        text = f"{done} of {len(self.plan.cells)} done"
        if self._started_at is not None and fraction > 0.02:
            elapsed = time.monotonic() - self._started_at
            text += f" · about {format_duration(elapsed * (1 - fraction) / fraction)} left"
        self.status_label.setText(text)

    def _on_failed(self, job_id: str, message: str) -> None:
        if job_id == self.job_id:
            self.status_label.setText(f"failed: {message}")
            self.status_label.setStyleSheet("color: #d04040;")

    def _on_cancelled(self, job_id: str) -> None:
        if job_id == self.job_id:
            self.status_label.setText(
                f"cancelled — {len(self.results)} of {len(self.plan.cells)} cells kept"
            )
            for c in self.plan.cells:
                if c.index not in self.results:
                    self.cells[c.index].set_status("not run")

    def _on_finished(self, job_id: str) -> None:
        if job_id != self.job_id:
            return
        if len(self.results) == len(self.plan.cells) and self._started_at is not None:
            took = format_duration(time.monotonic() - self._started_at)
            self.status_label.setText(f"{len(self.results)} images in {took}")
            self.progress.setValue(1000)
        self._disconnect()
        self.job_id = None
        self.progress.setVisible(False)
        self.cancel_button.setEnabled(False)
        self._update_buttons()
        self.sweep_done.emit(len(self.results))

    def _disconnect(self) -> None:
        b = self.bridge
        for sig, slot in (
            (b.partial_ready, self._on_partial),
            (b.progress_changed, self._on_progress),
            (b.results_ready, self._on_results),
            (b.job_failed, self._on_failed),
            (b.job_cancelled, self._on_cancelled),
            (b.job_finished, self._on_finished),
        ):
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass

    def closeEvent(self, event) -> None:  # noqa: N802
        self.cancel()  # a closed view must not keep the worker busy
        super().closeEvent(event)

    # -- keys -------------------------------------------------------------------------------
    _KEYS = frozenset(
        {
            Qt.Key.Key_Left,
            Qt.Key.Key_Right,
            Qt.Key.Key_Up,
            Qt.Key.Key_Down,
            Qt.Key.Key_Return,
            Qt.Key.Key_Enter,
            Qt.Key.Key_K,
            Qt.Key.Key_R,
            Qt.Key.Key_0,
            Qt.Key.Key_F,
        }
    )

    def event(self, event: QEvent) -> bool:
        # Claim our keys before the window's application-wide shortcuts see them (Esc is
        # "cancel generation" there): in the large view Esc means "back to the grid".
        if event.type() == QEvent.Type.ShortcutOverride:
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            key = event.key()
            if mods == Qt.KeyboardModifier.NoModifier and (
                key in self._KEYS or (key == Qt.Key.Key_Escape and self.is_large)
            ):
                event.accept()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        moves = {
            Qt.Key.Key_Left: (0, -1),
            Qt.Key.Key_Right: (0, 1),
            Qt.Key.Key_Up: (-1, 0),
            Qt.Key.Key_Down: (1, 0),
        }
        if key in moves:
            if self.is_large and key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
                # in the large view, left/right walk every cell in reading order
                self.step_reading(1 if key == Qt.Key.Key_Right else -1)
            else:
                self.step(*moves[key])
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.open_large()
        elif key == Qt.Key.Key_Escape and self.is_large:
            self.back_to_grid()
        elif self.isWindow() and (
            event.matches(QKeySequence.StandardKey.Close) or key == Qt.Key.Key_Escape
        ):
            self.close()  # the grid's own window: Esc (from the grid) or Ctrl+W closes it
        elif key == Qt.Key.Key_R:
            self.reveal()
        elif key == Qt.Key.Key_K:
            self.keep_current()
        elif key in (Qt.Key.Key_0, Qt.Key.Key_F):
            self.view.reset()
        else:
            super().keyPressEvent(event)
            return
        event.accept()
