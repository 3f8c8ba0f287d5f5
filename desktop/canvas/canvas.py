"""The canvas: shows the document, zooms and pans, and turns mouse drags into brush strokes.

A custom QWidget rather than a QGraphicsView: everything on screen is two images (the flattened
picture and the mask) that must be drawn *from the right level of detail* and *only inside the
damaged rectangle*. A QGraphicsPixmapItem would hold an 8K QPixmap (a whole-image conversion on every
change) and scale it itself; here each level of an :class:`~inpaint_core.document.Pyramid` is a
QImage that *wraps* the numpy array (no copy), so a stroke updates the mask array and the pyramid
inside the stroke's box, and the widget repaints just that rectangle of the screen.

The mask overlay is drawn per paint event into a temporary image the size of the damaged rectangle:
the mask level (``Format_Alpha8``) is drawn, then filled with the overlay colour in ``SourceIn``
mode, then composited with the overlay opacity. No full-size ARGB overlay exists at all.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from desktop.canvas.brush import BrushSettings
from inpaint_core.document import Document, Pyramid
from inpaint_core.masks import BBox

BACKGROUND = QColor(0x35, 0x38, 0x3D)
MIN_ZOOM, MAX_ZOOM = 0.005, 32.0


def wrap_array(arr: np.ndarray) -> QImage:
    """A QImage over ``arr``'s memory (no copy): RGB888 for HxWx3, Alpha8 for HxW. Keep ``arr``."""
    h, w = arr.shape[:2]
    fmt = QImage.Format.Format_RGB888 if arr.ndim == 3 else QImage.Format.Format_Alpha8
    return QImage(arr.data, w, h, arr.strides[0], fmt)


class _Layer:
    """A pyramid and the QImages wrapping its levels."""

    def __init__(self, base: np.ndarray) -> None:
        self.pyramid = Pyramid(base)
        self.images = [wrap_array(a) for a in self.pyramid.levels]

    def update(self, box: BBox) -> None:
        self.pyramid.update(box)

    def rebase(self, base: np.ndarray) -> None:
        rebuilt = base.shape != self.pyramid.base.shape
        self.pyramid.rebase(base)
        if rebuilt:
            self.images = [wrap_array(a) for a in self.pyramid.levels]
        else:
            self.images[0] = wrap_array(base)


class Canvas(QWidget):
    zoom_changed = Signal(float)
    #: image pixel under the mouse as (x, y), or None when outside the image
    cursor_moved = Signal(object)
    #: a finished stroke: the document's undo patch (an Edit), for the window's undo stack
    stroke_finished = Signal(object)
    #: True when a stroke starts, False when it ends (finished, cancelled or empty)
    stroke_active_changed = Signal(bool)
    #: the document's canvas changed size (outpainting or its undo): width, height
    image_resized = Signal(int, int)
    #: a left click in click mode (:meth:`set_click_mode`): image x, y and the keyboard modifiers
    image_clicked = Signal(float, float, object)

    def __init__(self, brush: BrushSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.brush = brush
        self.doc: Document | None = None
        self._photo: _Layer | None = None
        self._mask: _Layer | None = None
        self._zoom = 1.0
        self._off = QPointF(0, 0)
        self._fit_mode = True
        self._stroke_last: tuple[float, float] | None = None
        self._pan_last: QPointF | None = None
        self._space = False
        self._cursor: QPointF | None = None
        self._preview: tuple[QImage, BBox] | None = None
        self._drawn_radius = 0.0
        #: clicks are reported (``image_clicked``) instead of painting (a click tool is active)
        self.click_mode = False
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(200, 150)
        brush.changed.connect(self._brush_changed)

    # -- document -----------------------------------------------------------------------------

    def set_document(self, doc: Document | None) -> None:
        self.cancel_stroke()
        if self.doc is not None:
            self.doc.events.mask_changed.disconnect(self._on_mask_changed)
            self.doc.events.pixels_changed.disconnect(self._on_pixels_changed)
            self.doc.events.display_replaced.disconnect(self._on_display_replaced)
            self.doc.events.resized.disconnect(self._on_resized)
            self.doc.layers.events.changed.disconnect(self._on_layer_changed)
        self.doc = doc
        self._stroke_last = None
        self._preview = None
        if doc is None:
            self._photo = self._mask = None
        else:
            self._photo = _Layer(doc.display_rgb())
            self._mask = _Layer(doc.mask)
            doc.events.mask_changed.connect(self._on_mask_changed)
            doc.events.pixels_changed.connect(self._on_pixels_changed)
            doc.events.display_replaced.connect(self._on_display_replaced)
            doc.events.resized.connect(self._on_resized)
            doc.layers.events.changed.connect(self._on_layer_changed)
        self.fit()
        self.update()

    def _on_mask_changed(self, box: BBox) -> None:
        if self._mask is not None:
            self._mask.update(box)
        self.update(self.widget_rect(box))

    def _on_pixels_changed(self, box: BBox) -> None:
        if self._photo is not None:
            self._photo.update(box)
        self.update(self.widget_rect(box))

    def _on_display_replaced(self) -> None:
        if self._photo is not None and self.doc is not None:
            self._photo.rebase(self.doc.display_rgb())

    def _on_resized(self) -> None:
        """The canvas grew or shrank (outpainting, or its undo): new photo and mask arrays."""
        if self.doc is None:
            return
        self._stroke_last = None
        self._preview = None
        self._photo = _Layer(self.doc.display_rgb())
        self._mask = _Layer(self.doc.mask)
        self.fit()
        self.update()
        self.image_resized.emit(self.doc.width, self.doc.height)

    def _on_layer_changed(self, index: int, layer: object, name: str) -> None:
        if self.doc is not None and layer is self.doc.mask_layer:
            self.update()

    # -- view transform -----------------------------------------------------------------------

    @property
    def zoom(self) -> float:
        return self._zoom

    @property
    def offset(self) -> QPointF:
        """Widget position of the image's top-left corner."""
        return QPointF(self._off)

    def image_to_widget(self, x: float, y: float) -> QPointF:
        return QPointF(self._off.x() + x * self._zoom, self._off.y() + y * self._zoom)

    def widget_to_image(self, pos: QPointF) -> tuple[float, float]:
        return ((pos.x() - self._off.x()) / self._zoom, (pos.y() - self._off.y()) / self._zoom)

    def widget_rect(self, box: BBox, margin: int = 2) -> QRect:
        z = self._zoom
        r = QRectF(
            self._off.x() + box.x0 * z, self._off.y() + box.y0 * z, box.width * z, box.height * z
        )
        return r.toAlignedRect().adjusted(-margin, -margin, margin, margin)

    def image_rect(self) -> QRectF:
        if self.doc is None:
            return QRectF()
        return QRectF(
            self._off.x(), self._off.y(), self.doc.width * self._zoom, self.doc.height * self._zoom
        )

    def fit_zoom(self) -> float:
        if self.doc is None:
            return 1.0
        margin = 16
        w = max(1, self.width() - 2 * margin)
        h = max(1, self.height() - 2 * margin)
        return max(MIN_ZOOM, min(MAX_ZOOM, min(w / self.doc.width, h / self.doc.height)))

    def fit(self) -> None:
        """Ctrl+0: the whole photo, centred."""
        self._fit_mode = True
        self._zoom = self.fit_zoom()
        self._centre()

    def zoom_100(self) -> None:
        """Ctrl+1: one image pixel per screen pixel, keeping the centre of the view."""
        self.set_zoom(1.0, QPointF(self.width() / 2, self.height() / 2))

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * 1.25, QPointF(self.width() / 2, self.height() / 2))

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / 1.25, QPointF(self.width() / 2, self.height() / 2))

    def _centre(self) -> None:
        if self.doc is not None:
            self._off = QPointF(
                round((self.width() - self.doc.width * self._zoom) / 2),
                round((self.height() - self.doc.height * self._zoom) / 2),
            )
        self.update()
        self.zoom_changed.emit(self._zoom)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (widget coords) where it is."""
        if self.doc is None:
            return
        lo = min(MIN_ZOOM * 4, self.fit_zoom() / 2)
        zoom = max(lo, min(MAX_ZOOM, zoom))
        if abs(zoom - 1.0) < 1e-3:
            zoom = 1.0
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        ix, iy = self.widget_to_image(anchor)
        self._zoom = zoom
        self._fit_mode = False
        # whole-pixel offsets keep 100 % (and every integer zoom) crisp
        self._off = QPointF(round(anchor.x() - ix * zoom), round(anchor.y() - iy * zoom))
        self.update()
        self.zoom_changed.emit(self._zoom)

    def pan_by(self, dx: float, dy: float) -> None:
        self._off += QPointF(round(dx), round(dy))
        self._fit_mode = False
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802
        if self._fit_mode:
            self.fit()
        super().resizeEvent(event)

    # -- preview (used by generation: a result shown in place before it is kept) -------------

    def set_overlay(self, box: BBox | None, image: QImage | None) -> None:
        """Draw ``image`` scaled onto ``box`` (photo pixels) over the picture; ``None`` removes it.

        For generation: step previews and candidates shown in place before one is kept."""
        old = self._preview[1] if self._preview else None
        self._preview = None if image is None or box is None else (image, box)
        for b in (old, box):
            if b is not None:
                self.update(self.widget_rect(b))

    def overlay_box(self) -> BBox | None:
        """Where the overlay (a step preview, a candidate shown in place) is drawn, or None."""
        return self._preview[1] if self._preview else None

    def set_preview(self, rgb: np.ndarray | None, box: BBox | None = None) -> None:
        """:meth:`set_overlay` from an RGB array (the pixels of ``box``)."""
        image = None
        if rgb is not None:
            image = wrap_array(np.ascontiguousarray(rgb, dtype=np.uint8)).copy()
        self.set_overlay(box, image)

    # -- painting -----------------------------------------------------------------------------

    def _draw_layer(
        self, p: QPainter, layer: _Layer, clip: QRectF, dx: float = 0.0, dy: float = 0.0
    ) -> None:
        """Draw the part of ``layer`` under ``clip`` (widget coords) from the level that fits the zoom."""
        assert self.doc is not None
        z = self._zoom
        level = layer.pyramid.level_for(z * self.devicePixelRatioF())
        arr = layer.pyramid.levels[level]
        lh, lw = arr.shape[:2]
        sx = z * self.doc.width / lw
        sy = z * self.doc.height / lh
        ox, oy = self._off.x() - dx, self._off.y() - dy
        cx0, cy0 = clip.left() - dx, clip.top() - dy
        x0 = max(0, int(math.floor((cx0 - ox) / sx)) - 1)
        y0 = max(0, int(math.floor((cy0 - oy) / sy)) - 1)
        x1 = min(lw, int(math.ceil((cx0 + clip.width() - ox) / sx)) + 1)
        y1 = min(lh, int(math.ceil((cy0 + clip.height() - oy) / sy)) + 1)
        if x0 >= x1 or y0 >= y1:
            return
        p.save()
        p.setClipRect(clip.translated(-dx, -dy))
        p.setTransform(QTransform(sx, 0, 0, sy, ox, oy))
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, sx < 2.0 and sx != 1.0)
        src = QRectF(x0, y0, x1 - x0, y1 - y0)
        p.drawImage(src, layer.images[level], src)
        p.restore()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        rect = event.rect()
        p.fillRect(rect, BACKGROUND)
        if self.doc is None or self._photo is None or self._mask is None:
            p.setPen(QColor(0xB8, 0xBC, 0xC4))
            p.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "Open a photo (Ctrl+O), drop one here, or paste one (Ctrl+V)",
            )
            return
        img = self.image_rect()
        shadow = img.translated(3, 4)
        p.fillRect(shadow.intersected(QRectF(rect)), QColor(0, 0, 0, 70))
        vis = QRectF(rect).intersected(img)
        if not vis.isEmpty():
            self._draw_layer(p, self._photo, vis)
            ml = self.doc.mask_layer
            if ml.visible and ml.opacity > 0:
                self._draw_overlay(p, vis)
            if self._preview is not None:  # above the mask tint: seen as soon as it arrives
                self._draw_preview(p, vis)
        self._draw_cursor(p)

    def _draw_preview(self, p: QPainter, vis: QRectF) -> None:
        assert self._preview is not None
        image, box = self._preview
        p.save()
        p.setClipRect(vis)
        z = self._zoom
        p.setTransform(
            QTransform(z, 0, 0, z, self._off.x() + box.x0 * z, self._off.y() + box.y0 * z)
        )
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, z < 2.0)
        p.drawImage(QRectF(0, 0, box.width, box.height), image)
        p.restore()

    def _draw_overlay(self, p: QPainter, vis: QRectF) -> None:
        assert self.doc is not None and self._mask is not None
        r = vis.toAlignedRect()
        if r.isEmpty():
            return
        tmp = QImage(r.size(), QImage.Format.Format_ARGB32_Premultiplied)
        tmp.fill(Qt.GlobalColor.transparent)
        tp = QPainter(tmp)
        self._draw_layer(tp, self._mask, vis, r.x(), r.y())
        tp.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        tp.fillRect(tmp.rect(), QColor(*self.doc.mask_layer.colour))
        tp.end()
        p.setOpacity(self.doc.mask_layer.opacity)
        p.drawImage(r.topLeft(), tmp)
        p.setOpacity(1.0)

    def _cursor_radius(self) -> float:
        return max(1.0, self.brush.radius * self._zoom)

    def _draw_cursor(self, p: QPainter) -> None:
        if self._cursor is None or self._pan_last is not None or self._space or self.doc is None:
            return
        if self.click_mode:
            return  # a click tool shows the cross cursor, not the brush
        c = self._cursor
        r = self._cursor_radius()
        self._drawn_radius = r
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0, 160), 3))
        p.drawEllipse(c, r, r)
        p.setPen(QPen(QColor(255, 255, 255, 230), 1))
        p.drawEllipse(c, r, r)
        if self.brush.hardness < 0.95 and r > 6:
            inner = max(1.0, r * self.brush.hardness)
            pen = QPen(QColor(255, 255, 255, 150), 1, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawEllipse(c, inner, inner)
        # a small cross marks the exact centre; a minus sign marks the eraser
        p.setPen(QPen(QColor(255, 255, 255, 230), 1))
        p.drawLine(QPointF(c.x() - 4, c.y()), QPointF(c.x() + 4, c.y()))
        if not self.brush.erase:
            p.drawLine(QPointF(c.x(), c.y() - 4), QPointF(c.x(), c.y() + 4))

    def _cursor_region(self, c: QPointF | None) -> QRegion:
        if c is None:
            return QRegion()
        r = self._cursor_radius() + 3
        outer = QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r).toAlignedRect().adjusted(-1, -1, 1, 1)
        region = QRegion(outer)
        inner_half = (r - 4) / math.sqrt(2)  # the square inside the ring needs no repaint
        if inner_half > 8:
            inner = QRectF(c.x() - inner_half, c.y() - inner_half, 2 * inner_half, 2 * inner_half)
            ir = inner.toAlignedRect().adjusted(1, 1, -1, -1)
            region -= QRegion(ir)
            region += QRegion(QRect(int(c.x()) - 6, int(c.y()) - 6, 13, 13))
        return region

    def _move_cursor(self, pos: QPointF | None) -> None:
        old = self._cursor
        self._cursor = pos
        self.update(self._cursor_region(old) + self._cursor_region(pos))

    def _brush_changed(self) -> None:
        c = self._cursor
        if c is not None:  # repaint the old ring (maybe bigger) and the new one
            r = max(self._drawn_radius, self._cursor_radius()) + 4
            self.update(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r).toAlignedRect())

    # -- input --------------------------------------------------------------------------------

    def _image_pixel(self, pos: QPointF) -> tuple[int, int] | None:
        if self.doc is None:
            return None
        x, y = self.widget_to_image(pos)
        if 0 <= x < self.doc.width and 0 <= y < self.doc.height:
            return int(x), int(y)
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space
        ):
            self._pan_last = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            self._move_cursor(None)
            return
        if button == Qt.MouseButton.LeftButton and self.doc is not None and self.click_mode:
            x, y = self.widget_to_image(pos)
            self.image_clicked.emit(x, y, event.modifiers())
            return
        if (
            button == Qt.MouseButton.LeftButton
            and self.doc is not None
            and self._stroke_last is None
        ):
            b = self.brush
            x, y = self.widget_to_image(pos)
            self.doc.begin_stroke()
            self.doc.paint_dab(x, y, b.radius, b.hardness, b.opacity, b.erase)
            self._stroke_last = (x, y)
            self.stroke_active_changed.emit(True)
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._pan_last is not None:
            d = pos - self._pan_last
            self._pan_last = pos
            self.pan_by(d.x(), d.y())
            return
        if self._stroke_last is not None and self.doc is not None:
            b = self.brush
            x, y = self.widget_to_image(pos)
            self.doc.paint_segment(
                self._stroke_last, (x, y), b.radius, b.hardness, b.opacity, b.erase
            )
            self._stroke_last = (x, y)
        if not self._space:
            self._move_cursor(pos)
        self.cursor_moved.emit(self._image_pixel(pos))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_last is not None and event.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_last = None
            self._update_cursor_shape()
            return
        if event.button() == Qt.MouseButton.LeftButton and self._stroke_last is not None:
            self.finish_stroke()
            return
        super().mouseReleaseEvent(event)

    def set_click_mode(self, on: bool) -> None:
        """A click tool (smart masks) takes left clicks instead of the brush."""
        self.finish_stroke()
        self.click_mode = bool(on)
        self._update_cursor_shape()
        self.update()

    @property
    def stroking(self) -> bool:
        return self._stroke_last is not None

    def finish_stroke(self) -> None:
        """End the stroke in progress (if any) and hand its patch over as one undo step."""
        if self._stroke_last is None:
            return
        self._stroke_last = None
        edit = None
        if self.doc is not None and self.doc.stroke_active:
            edit = self.doc.end_stroke()
        self.stroke_active_changed.emit(False)
        if edit is not None:
            self.stroke_finished.emit(edit)

    def cancel_stroke(self) -> None:
        """Drop the stroke in progress (Esc): the mask goes back to what it was."""
        if self._stroke_last is None:
            return
        self._stroke_last = None
        if self.doc is not None and self.doc.stroke_active:
            self.doc.cancel_stroke()
        self.stroke_active_changed.emit(False)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if self.doc is None:
            return
        dy = event.angleDelta().y() or event.pixelDelta().y()
        if dy == 0:
            return
        # one notch (120) = x1.19; trackpads send many small deltas and zoom just as smoothly
        self.set_zoom(self._zoom * 2.0 ** (dy / 480.0), event.position())
        self._move_cursor(event.position())
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = True
                self._move_cursor(None)
                self._update_cursor_shape()
            return
        if (
            event.key() == Qt.Key.Key_Escape
            and self._stroke_last is not None
            and self.doc is not None
        ):
            self._stroke_last = None
            self.doc.cancel_stroke()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space = False
                self._update_cursor_shape()
            return
        super().keyReleaseEvent(event)

    def enterEvent(self, event) -> None:  # noqa: N802
        self._update_cursor_shape()
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self._move_cursor(None)
        self.cursor_moved.emit(None)
        super().leaveEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self._space = False
        self._update_cursor_shape()
        super().focusOutEvent(event)

    def _update_cursor_shape(self) -> None:
        if self._pan_last is not None:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self._space:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif self.click_mode:
            self.setCursor(Qt.CursorShape.CrossCursor)
        elif self.doc is not None:
            self.setCursor(QCursor(Qt.CursorShape.BlankCursor))
        else:
            self.unsetCursor()
