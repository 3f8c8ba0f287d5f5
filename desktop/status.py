"""The status bar: cursor position in photo pixels, photo size, zoom, brush, undo memory."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from .tools import BrushSettings
from .undo import format_bytes


def _label(name: str, tip: str, width: int) -> QLabel:
    lab = QLabel()
    lab.setObjectName(name)
    lab.setToolTip(tip)
    lab.setMinimumWidth(width)
    lab.setContentsMargins(6, 0, 6, 0)
    return lab


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cursor = _label("statusCursor", "Photo pixel under the mouse", 110)
        self.size = _label("statusSize", "Photo size", 110)
        self.zoom = _label("statusZoom", "Zoom (Ctrl+0 fit, Ctrl+1 100 %)", 60)
        self.brush = _label("statusBrush", "Brush: size, hardness, opacity", 150)
        self.memory = _label(
            "statusMemory",
            "Memory the undo history keeps; the oldest steps are dropped beyond the limit (Edit ▸ Undo Memory Limit)",
            170,
        )
        for w in (self.cursor, self.size, self.zoom, self.brush, self.memory):
            self.addPermanentWidget(w)
        # the cursor moves at 100+ Hz; the label follows at ~30 Hz (a relayout per move costs more
        # than painting the stroke)
        self._cursor_pos: tuple[int, int] | None = None
        self._cursor_timer = QTimer(self)
        self._cursor_timer.setSingleShot(True)
        self._cursor_timer.setInterval(33)
        self._cursor_timer.timeout.connect(self._show_cursor)
        self._show_cursor()

    def set_cursor(self, pos: tuple[int, int] | None) -> None:
        self._cursor_pos = pos
        if not self._cursor_timer.isActive():
            self._cursor_timer.start()

    def _show_cursor(self) -> None:
        pos = self._cursor_pos
        self.cursor.setText("—" if pos is None else f"x {pos[0]}, y {pos[1]}")

    def set_image_size(self, w: int, h: int) -> None:
        self.size.setText(f"{w} × {h} px")

    def set_zoom(self, zoom: float) -> None:
        pct = zoom * 100
        self.zoom.setText(f"{pct:.0f} %" if pct >= 10 else f"{pct:.1f} %")

    def set_brush(self, b: BrushSettings) -> None:
        tool = "Eraser" if b.erase else "Brush"
        self.brush.setText(f"{tool} {b.size:.0f} px · {b.hardness * 100:.0f} % hard")

    def set_memory(self, used: int, limit: int, dropped: int = 0) -> None:
        text = f"Undo {format_bytes(used)} / {format_bytes(limit)}"
        if dropped:
            text += f" ({dropped} old steps dropped)"
        self.memory.setText(text)
