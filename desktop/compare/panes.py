"""Image panes for the compare view: one shared zoom/pan for every cell, and an A/B wipe.

Every pane paints its picture through the *same* :class:`SharedView` state (zoom relative to
"fit", and the image point at the pane's centre), so a wheel turn or a drag on any cell moves all
of them: panes of equal size get identical transforms. The large view uses the same state, so the
spot you zoomed into in the grid is the spot you see large.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

MIN_ZOOM, MAX_ZOOM = 0.25, 64.0
DRAG_THRESHOLD = 4  # pixels of movement before a press counts as a pan, not a click
BACKGROUND = QColor(38, 38, 40)


def qimage_from_rgb(rgb: np.ndarray) -> QImage:
    """An owned QImage copy of an HxWx3 uint8 array."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class SharedView(QObject):
    """Zoom (× the fit scale) and centre (image pixels) shared by every pane that shows it."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.zoom = 1.0
        self.center: QPointF | None = None  # None = the image's centre

    def reset(self) -> None:
        self.zoom, self.center = 1.0, None
        self.changed.emit()

    def transform_for(self, pane: QSize, image: QSize) -> QTransform:
        """Image pixels → pane pixels."""
        if image.isEmpty() or pane.isEmpty():
            return QTransform()
        s = self.scale_for(pane, image)
        c = self.center or QPointF(image.width() / 2, image.height() / 2)
        t = QTransform()
        t.translate(pane.width() / 2 - c.x() * s, pane.height() / 2 - c.y() * s)
        t.scale(s, s)
        return t

    def scale_for(self, pane: QSize, image: QSize) -> float:
        fit = min(pane.width() / image.width(), pane.height() / image.height())
        return fit * self.zoom

    def zoom_at(self, factor: float, pos: QPointF, pane: QSize, image: QSize) -> None:
        """Zoom by ``factor`` keeping the image point under ``pos`` (pane pixels) in place."""
        if image.isEmpty() or pane.isEmpty():
            return
        inv, _ = self.transform_for(pane, image).inverted()
        q = inv.map(pos)
        self.zoom = min(MAX_ZOOM, max(MIN_ZOOM, self.zoom * factor))
        s = self.scale_for(pane, image)
        self.center = QPointF(
            q.x() - (pos.x() - pane.width() / 2) / s, q.y() - (pos.y() - pane.height() / 2) / s
        )
        self.changed.emit()

    def pan_by(self, dx: float, dy: float, pane: QSize, image: QSize) -> None:
        """Move the picture by (dx, dy) pane pixels."""
        if image.isEmpty() or pane.isEmpty():
            return
        s = self.scale_for(pane, image)
        c = self.center or QPointF(image.width() / 2, image.height() / 2)
        self.center = QPointF(c.x() - dx / s, c.y() - dy / s)
        self.changed.emit()


class ImagePane(QWidget):
    """Paints one picture through a :class:`SharedView`; wheel zooms, drag pans, click clicks."""

    clicked = Signal()
    double_clicked = Signal()

    def __init__(self, view: SharedView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.pixmap: QPixmap | None = None
        self._press: QPointF | None = None
        self._last: QPointF | None = None
        self._dragged = False
        view.changed.connect(self.update)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(False)

    def image_size(self) -> QSize:
        return self.pixmap.size() if self.pixmap is not None else QSize()

    def view_transform(self) -> QTransform:
        return self.view.transform_for(self.size(), self.image_size())

    def set_rgb(self, rgb: np.ndarray | None) -> None:
        self.pixmap = None if rgb is None else QPixmap.fromImage(qimage_from_rgb(rgb))
        self.update()

    # -- painting -----------------------------------------------------------------------------
    def paint_picture(self, p: QPainter, pixmap: QPixmap) -> None:
        t = self.view_transform()
        p.save()
        p.setTransform(t)
        # smooth when shrinking, crisp pixels when peeping
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, t.m11() < 2.0)
        p.drawPixmap(0, 0, pixmap)
        p.restore()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        if self.pixmap is not None:
            self.paint_picture(p, self.pixmap)
        self.paint_overlay(p)
        p.end()

    def paint_overlay(self, p: QPainter) -> None:
        """Hook for subclasses: labels, borders, dividers."""

    # -- interaction --------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if not delta or self.pixmap is None:
            event.ignore()
            return
        self.view.zoom_at(1.0015**delta, event.position(), self.size(), self.image_size())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = self._last = event.position()
            self._dragged = False
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._press is None or self._last is None:
            return super().mouseMoveEvent(event)
        pos = event.position()
        if not self._dragged and (pos - self._press).manhattanLength() < DRAG_THRESHOLD:
            return None
        self._dragged = True
        self.drag_to(pos, pos - self._last)
        self._last = pos
        return None

    def drag_to(self, pos: QPointF, delta: QPointF) -> None:  # noqa: ARG002
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self.view.pan_by(delta.x(), delta.y(), self.size(), self.image_size())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return super().mouseReleaseEvent(event)
        was_click = not self._dragged
        self._press = self._last = None
        self._dragged = False
        self.unsetCursor()
        if was_click:
            self.clicked.emit()
        return None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.double_clicked.emit()
        event.accept()


class CellPane(ImagePane):
    """One grid cell: a placeholder until its result arrives, then the result in the region."""

    def __init__(self, view: SharedView, index: int, parent: QWidget | None = None) -> None:
        super().__init__(view, parent)
        self.index = index
        self.selected = False
        self.kept = False
        self.status = "waiting…"
        #: "seam 0.43" once the result is in (lower blends better), painted in the corner
        self.seam_text = ""
        #: the cell's own label, painted at its top when the grid's rows/columns do not name it
        self.caption = ""
        self.setMinimumSize(96, 96)
        self.setToolTip("wheel: zoom all · drag: pan all · click: large A/B view")

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(220, 220)

    def set_selected(self, on: bool) -> None:
        self.selected = on
        self.update()

    def set_kept(self, on: bool) -> None:
        self.kept = on
        self.update()

    def set_seam(self, score: float | None) -> None:
        self.seam_text = "" if score is None else f"seam {score:.2f}"
        self.update()

    def set_status(self, text: str) -> None:
        self.status = text
        self.update()

    def set_caption(self, text: str) -> None:
        self.caption = text
        self.update()

    def paint_overlay(self, p: QPainter) -> None:
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        if self.pixmap is None:
            p.setPen(QPen(QColor(110, 110, 115), 1, Qt.PenStyle.DashLine))
            p.drawRect(r.adjusted(4, 4, -4, -4))
            p.setPen(QColor(160, 160, 165))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.status)
        if self.caption:
            fm = QFontMetrics(self.font())
            p.setFont(self.font())
            text = fm.elidedText(self.caption, Qt.TextElideMode.ElideRight, int(r.width()) - 80)
            badge = QRectF(
                r.left() + 6, r.top() + 6, fm.horizontalAdvance(text) + 12, fm.height() + 6
            )
            p.fillRect(badge, QColor(20, 20, 24, 190))
            p.setPen(QColor(235, 235, 240))
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        if self.kept:
            f = QFont(self.font())
            f.setBold(True)
            p.setFont(f)
            fm = QFontMetrics(f)  # badges fit their text in the pane's font (never clipped)
            bw, bh = fm.horizontalAdvance("kept") + 16, fm.height() + 6
            badge = QRectF(r.right() - bw - 6, r.top() + 6, bw, bh)
            p.fillRect(badge, QColor(40, 140, 70, 220))
            p.setPen(QColor(255, 255, 255))
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, "kept")
        if self.seam_text:
            fm = QFontMetrics(self.font())
            p.setFont(self.font())
            bw, bh = fm.horizontalAdvance(self.seam_text) + 16, fm.height() + 6
            badge = QRectF(r.left() + 6, r.bottom() - bh - 6, bw, bh)
            p.fillRect(badge, QColor(20, 20, 24, 190))
            p.setPen(QColor(235, 235, 240))
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, self.seam_text)
        if self.selected:
            p.setPen(QPen(QColor(255, 190, 40), 3))
            p.drawRect(r.adjusted(1, 1, -1, -1))


class WipePane(ImagePane):
    """The large view: the original (A) left of a draggable divider, the cell (B) right of it."""

    divider_moved = Signal(float)

    HANDLE = 10  # pixels either side of the divider that grab it

    def __init__(self, view: SharedView, parent: QWidget | None = None) -> None:
        super().__init__(view, parent)
        self.original: QPixmap | None = None
        self.divider = 0.5  # fraction of the pane's width
        self.a_label = "A: original"
        self.b_label = "B"
        self._moving_divider = False
        self.setMinimumSize(200, 200)
        self.setToolTip("drag the divider to wipe between original and result · wheel: zoom")

    def set_original(self, rgb: np.ndarray | None) -> None:
        self.original = None if rgb is None else QPixmap.fromImage(qimage_from_rgb(rgb))
        self.update()

    def image_size(self) -> QSize:
        if self.pixmap is not None:
            return self.pixmap.size()
        return self.original.size() if self.original is not None else QSize()

    def set_divider(self, fraction: float) -> None:
        self.divider = min(1.0, max(0.0, fraction))
        self.divider_moved.emit(self.divider)
        self.update()

    def divider_x(self) -> float:
        return self.divider * self.width()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        x = self.divider_x()
        if self.original is not None:
            p.save()
            p.setClipRect(QRectF(0, 0, x, self.height()))
            self.paint_picture(p, self.original)
            p.restore()
        if self.pixmap is not None:
            p.save()
            p.setClipRect(QRectF(x, 0, self.width() - x, self.height()))
            self.paint_picture(p, self.pixmap)
            p.restore()
        self.paint_overlay(p)
        p.end()

    def paint_overlay(self, p: QPainter) -> None:
        x = self.divider_x()
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        handle = QRectF(x - 9, self.height() / 2 - 22, 18, 44)
        p.setBrush(QColor(255, 255, 255))
        p.setPen(QPen(QColor(40, 40, 40), 1))
        p.drawRoundedRect(handle, 5, 5)
        f = QFont(self.font())
        f.setBold(True)
        f.setPointSizeF(max(10.0, f.pointSizeF()))
        p.setFont(f)
        fm = p.fontMetrics()
        for text, left in ((self.a_label, True), (self.b_label, False)):
            w = fm.horizontalAdvance(text) + 16
            box = QRectF(10 if left else self.width() - w - 10, 10, w, fm.height() + 8)
            p.fillRect(box, QColor(0, 0, 0, 170))
            p.setPen(QColor(255, 255, 255))
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _near_divider(self, pos: QPointF) -> bool:
        return abs(pos.x() - self.divider_x()) <= self.HANDLE

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(event.position()):
            self._moving_divider = True
            self.setCursor(Qt.CursorShape.SplitHCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._moving_divider:
            self.set_divider(event.position().x() / max(1, self.width()))
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._moving_divider:
            self._moving_divider = False
            self.unsetCursor()
            return
        super().mouseReleaseEvent(event)
