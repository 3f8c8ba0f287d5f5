"""The status bar: cursor position in photo pixels, photo size, zoom, brush, undo memory, and a busy
indicator (with Cancel) while a photo opens in the background, or with a percentage while a
project is saved."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QStatusBar,
    QToolButton,
    QWidget,
)

from desktop.canvas.brush import BrushSettings
from desktop.undo import format_bytes


def _label(name: str, tip: str, width: int) -> QLabel:
    lab = QLabel()
    lab.setObjectName(name)
    lab.setToolTip(tip)
    lab.setMinimumWidth(width)
    lab.setContentsMargins(6, 0, 6, 0)
    return lab


class _ElidedLabel(QLabel):
    """A one-line label that shortens its text (… at the end) to the width it is given."""

    def __init__(self) -> None:
        super().__init__()
        self._full = ""

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self.updateGeometry()
        self._elide()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        m = self.contentsMargins()
        w = self.fontMetrics().horizontalAdvance(self._full) + m.left() + m.right() + 2
        return QSize(w, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(24, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(
            self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, self.width())
        )


def byte_counts(done: int, total: int | None) -> str:
    """ "1.2 of 3.4 MB", "350 of 800 kB", or "1.2 MB" when the total is unknown (decimal units,
    as browsers show downloads); both numbers in the total's unit."""
    scale = total if total is not None else done
    unit, div = ("MB", 1e6) if scale >= 1e6 else ("kB", 1e3)
    digits = 1 if unit == "MB" else 0
    now = f"{done / div:.{digits}f}"
    return f"{now} of {total / div:.{digits}f} {unit}" if total is not None else f"{now} {unit}"


class BusyIndicator(QWidget):
    """ "Opening photo.jpg…", a progress bar and a Cancel button; a download adds its byte counts
    ("Downloading photo.jpg… 1.2 of 3.4 MB") and, when its size is known, the bar fills.

    It appears only when the work takes longer than ``delay_ms`` (a small photo opens without a
    flicker in the status bar), and it only takes room the other fields leave: it never makes
    the window's minimum width larger (its label shortens instead)."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None, delay_ms: int = 150) -> None:
        super().__init__(parent)
        self.setObjectName("statusBusy")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until a download reports its size
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(80, 10)
        self.label = _ElidedLabel()
        self.button = QToolButton()
        self.button.setText("Cancel")
        self.button.setAutoRaise(True)
        self.button.setToolTip("Stop opening this photo and keep the current one")
        self.button.clicked.connect(self.cancel_requested)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 0, 6, 0)
        lay.setSpacing(8)
        lay.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.label)
        lay.addWidget(self.button)
        lay.addStretch(1)
        self.text = ""
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(delay_ms)
        self._delay.timeout.connect(self.show)
        self.hide()

    @property
    def active(self) -> bool:
        return bool(self.text)

    def start(self, text: str) -> None:
        self.text = text
        self.label.set_full_text(text)
        self.bar.setRange(0, 0)
        if not self.isVisible():
            self._delay.start()

    def set_progress(self, done: int, total: int | None) -> None:
        """Show ``done`` bytes (of ``total``) after the text; ignored when idle."""
        if not self.text:
            return
        self.label.set_full_text(f"{self.text} {byte_counts(done, total)}")
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(min(1000, done * 1000 // total))
        else:
            self.bar.setRange(0, 0)

    def set_fraction(self, fraction: float) -> None:
        """Show how far the work is (a save): the bar fills to ``fraction`` (0..1) and the text
        says the percentage; ignored when idle."""
        if not self.text:
            return
        pct = min(100, max(0, int(fraction * 100)))
        self.label.set_full_text(f"{self.text} {pct} %")
        self.bar.setRange(0, 100)
        self.bar.setValue(pct)

    def stop(self) -> None:
        self.text = ""
        self._delay.stop()
        self.hide()


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.busy = BusyIndicator(self)
        self.addPermanentWidget(self.busy, 1)  # left of the fields, in the room they leave
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
