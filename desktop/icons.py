"""Small line icons drawn with QPainter (no icon theme needed, same look on every platform)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from inpaint_core.resources import resources_dir

INK = QColor(0x2B, 0x2F, 0x36)
ACCENT = QColor(0xE0, 0x44, 0x44)
BLUE = QColor(0x2F, 0x80, 0xED)


def app_icon() -> QIcon:
    icon = QIcon()
    folder = resources_dir() / "icons"
    for name in ("app.svg", "app-256.png", "app-64.png", "app-32.png"):
        path = folder / name
        if path.exists():
            icon.addFile(str(path))
    return icon


def _pen(p: QPainter, color: QColor = INK, width: float = 1.6) -> None:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)


def _brush(p: QPainter) -> None:
    _pen(p)
    path = QPainterPath()
    path.moveTo(18.5, 3.5)
    path.lineTo(20.5, 5.5)
    path.lineTo(11, 15)
    path.lineTo(9, 13)
    path.closeSubpath()
    p.setBrush(QColor(0xF2, 0xF2, 0xF2))
    p.drawPath(path)
    tip = QPainterPath()
    tip.moveTo(9, 13)
    tip.cubicTo(6, 13, 5, 15, 5, 17)
    tip.cubicTo(5, 19, 4, 20, 3, 20.5)
    tip.cubicTo(7, 21, 11, 19.5, 11, 15)
    tip.closeSubpath()
    p.setBrush(ACCENT)
    p.drawPath(tip)


def _eraser(p: QPainter) -> None:
    _pen(p)
    p.save()
    p.translate(12, 12)
    p.rotate(-45)
    p.setBrush(QColor(0xF2, 0xF2, 0xF2))
    p.drawRoundedRect(QRectF(-8, -4.5, 16, 9), 1.5, 1.5)
    p.setBrush(QColor(0xF0, 0x8A, 0xB0))
    p.drawRoundedRect(QRectF(-8, -4.5, 6, 9), 1.5, 1.5)
    p.restore()
    p.drawLine(QPointF(10, 20.5), QPointF(21, 20.5))


def _swap(p: QPainter) -> None:
    _pen(p)
    p.drawArc(QRectF(5, 5, 14, 14), 30 * 16, 150 * 16)
    p.drawArc(QRectF(5, 5, 14, 14), 210 * 16, 150 * 16)
    p.setBrush(INK)
    p.drawPolygon(QPolygonF([QPointF(18.5, 6), QPointF(19.5, 11), QPointF(14.5, 9.5)]))
    p.drawPolygon(QPolygonF([QPointF(5.5, 18), QPointF(4.5, 13), QPointF(9.5, 14.5)]))


def _open(p: QPainter) -> None:
    _pen(p)
    p.setBrush(QColor(0xF6, 0xD3, 0x65))
    path = QPainterPath()
    path.moveTo(3, 6)
    path.lineTo(9, 6)
    path.lineTo(11, 8)
    path.lineTo(20, 8)
    path.lineTo(20, 19)
    path.lineTo(3, 19)
    path.closeSubpath()
    p.drawPath(path)
    p.setBrush(QColor(0xFB, 0xE3, 0x93))
    front = QPolygonF([QPointF(3, 19), QPointF(6, 11), QPointF(22.5, 11), QPointF(20, 19)])
    p.drawPolygon(front)


def _export(p: QPainter) -> None:
    _pen(p)
    p.drawRoundedRect(QRectF(4, 9, 16, 11), 2, 2)
    _pen(p, BLUE, 1.8)
    p.drawLine(QPointF(12, 3), QPointF(12, 14))
    p.drawLine(QPointF(8.5, 6.5), QPointF(12, 3))
    p.drawLine(QPointF(15.5, 6.5), QPointF(12, 3))


def _arrow_curve(p: QPainter, mirror: bool) -> None:
    p.save()
    if mirror:
        p.translate(24, 0)
        p.scale(-1, 1)
    _pen(p, INK, 1.8)
    path = QPainterPath()
    path.moveTo(6, 10)
    path.lineTo(15, 10)
    path.cubicTo(19, 10, 20.5, 13, 20.5, 15)
    path.cubicTo(20.5, 18, 18, 20, 15, 20)
    path.lineTo(11, 20)
    p.drawPath(path)
    p.drawLine(QPointF(6, 10), QPointF(10, 6))
    p.drawLine(QPointF(6, 10), QPointF(10, 14))
    p.restore()


def _fit(p: QPainter) -> None:
    _pen(p)
    for sx, sy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
        cx, cy = 12 - 8 * sx, 12 - 8 * sy
        p.drawLine(QPointF(cx, cy), QPointF(cx + 5 * sx, cy))
        p.drawLine(QPointF(cx, cy), QPointF(cx, cy + 5 * sy))
    p.setBrush(QColor(0xBF, 0xD7, 0xF7))
    p.drawRect(QRectF(8, 9, 8, 6))


def _extend(p: QPainter) -> None:
    """A picture with arrows pushing its left and right edges outwards (Extend canvas)."""
    _pen(p)
    p.setBrush(QColor(0xBF, 0xD7, 0xF7))
    p.drawRect(QRectF(8, 6, 8, 12))
    for sx in (1, -1):
        x0, x1 = 12 + 6 * sx, 12 + 10 * sx
        p.drawLine(QPointF(x0, 12), QPointF(x1, 12))
        p.drawLine(QPointF(x1, 12), QPointF(x1 - 3 * sx, 9))
        p.drawLine(QPointF(x1, 12), QPointF(x1 - 3 * sx, 15))


def _zoom100(p: QPainter) -> None:
    _pen(p)
    p.drawEllipse(QRectF(3, 3, 14, 14))
    p.drawLine(QPointF(15, 15), QPointF(21, 21))
    f = p.font()
    f.setPixelSize(8)
    f.setBold(True)
    p.setFont(f)
    p.drawText(QRectF(3, 3, 14, 14), Qt.AlignmentFlag.AlignCenter, "1:1")


def _overlay(p: QPainter) -> None:
    _pen(p)
    p.drawRoundedRect(QRectF(3, 5, 18, 14), 2, 2)
    c = QColor(ACCENT)
    c.setAlpha(150)
    p.setBrush(c)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QRectF(7, 8, 10, 8))


def _invert(p: QPainter) -> None:
    _pen(p)
    p.drawEllipse(QRectF(4, 4, 16, 16))
    p.setBrush(INK)
    path = QPainterPath()
    path.moveTo(12, 4)
    path.arcTo(QRectF(4, 4, 16, 16), 90, 180)
    path.closeSubpath()
    p.drawPath(path)


def _clear(p: QPainter) -> None:
    _pen(p)
    p.drawRoundedRect(QRectF(4, 4, 16, 16), 2, 2)
    _pen(p, ACCENT, 1.8)
    p.drawLine(QPointF(8, 8), QPointF(16, 16))
    p.drawLine(QPointF(16, 8), QPointF(8, 16))


def _plus_minus(sign: str) -> Callable[[QPainter], None]:
    def draw(p: QPainter) -> None:
        _pen(p)
        c = QColor(ACCENT)
        c.setAlpha(110)
        p.setBrush(c)
        r = 7.5 if sign == "+" else 5.0
        p.drawEllipse(QPointF(10, 12), r, r)
        _pen(p, INK, 1.8)
        p.drawLine(QPointF(17, 5), QPointF(22, 5))
        if sign == "+":
            p.drawLine(QPointF(19.5, 2.5), QPointF(19.5, 7.5))

    return draw


def _feather(p: QPainter) -> None:
    for i in range(5, 0, -1):
        c = QColor(ACCENT)
        c.setAlpha(int(255 * (1 - i / 6)))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c)
        r = 2 + i * 1.7
        p.drawEllipse(QPointF(12, 12), r, r)


def _eye(p: QPainter) -> None:
    _pen(p)
    path = QPainterPath()
    path.moveTo(2.5, 12)
    path.cubicTo(7, 5, 17, 5, 21.5, 12)
    path.cubicTo(17, 19, 7, 19, 2.5, 12)
    p.drawPath(path)
    p.setBrush(INK)
    p.drawEllipse(QPointF(12, 12), 3, 3)


def _up_down(up: bool) -> Callable[[QPainter], None]:
    def draw(p: QPainter) -> None:
        _pen(p, INK, 1.8)
        y0, y1 = (19, 5) if up else (5, 19)
        p.drawLine(QPointF(12, y0), QPointF(12, y1))
        d = 5 if up else -5
        p.drawLine(QPointF(12, y1), QPointF(7, y1 + d))
        p.drawLine(QPointF(12, y1), QPointF(17, y1 + d))

    return draw


def _merge(p: QPainter) -> None:
    _pen(p)
    p.setBrush(QColor(0xBF, 0xD7, 0xF7))
    p.drawRect(QRectF(4, 13, 16, 7))
    _pen(p, INK, 1.8)
    p.drawLine(QPointF(12, 3), QPointF(12, 10))
    p.drawLine(QPointF(12, 10), QPointF(8.5, 6.5))
    p.drawLine(QPointF(12, 10), QPointF(15.5, 6.5))


def _flatten(p: QPainter) -> None:
    _pen(p)
    for i, y in enumerate((5, 10, 15)):
        p.setBrush(QColor(0xBF, 0xD7, 0xF7) if i == 2 else QColor(0xF2, 0xF2, 0xF2))
        poly = QPolygonF(
            [QPointF(12, y), QPointF(21, y + 3), QPointF(12, y + 6), QPointF(3, y + 3)]
        )
        p.drawPolygon(poly)


def _delete(p: QPainter) -> None:
    _pen(p)
    p.drawLine(QPointF(4, 6), QPointF(20, 6))
    p.drawLine(QPointF(9.5, 6), QPointF(10, 3.5))
    p.drawLine(QPointF(14.5, 6), QPointF(14, 3.5))
    p.drawLine(QPointF(10, 3.5), QPointF(14, 3.5))
    path = QPainterPath()
    path.moveTo(6, 6)
    path.lineTo(7.5, 20.5)
    path.lineTo(16.5, 20.5)
    path.lineTo(18, 6)
    p.drawPath(path)
    for x in (10, 14):
        p.drawLine(QPointF(x, 9.5), QPointF(x, 17.5))


def _photo(p: QPainter) -> None:
    _pen(p)
    p.setBrush(QColor(0xDD, 0xEB, 0xFB))
    p.drawRoundedRect(QRectF(3, 5, 18, 14), 1.5, 1.5)
    p.setBrush(QColor(0x6C, 0xA0, 0x5A))
    p.drawPolygon(
        QPolygonF(
            [QPointF(4, 18), QPointF(10, 11), QPointF(14, 15), QPointF(16, 13), QPointF(20, 18)]
        )
    )
    p.setBrush(QColor(0xF6, 0xC3, 0x43))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(QPointF(16, 9), 1.8, 1.8)


def _mask(p: QPainter) -> None:
    _pen(p)
    p.drawRoundedRect(QRectF(3, 5, 18, 14), 1.5, 1.5)
    c = QColor(ACCENT)
    c.setAlpha(170)
    p.setBrush(c)
    p.setPen(Qt.PenStyle.NoPen)
    path = QPainterPath()
    path.moveTo(6, 15)
    path.cubicTo(8, 8, 12, 16, 14, 9)
    path.cubicTo(15, 6, 19, 9, 18, 13)
    path.cubicTo(17, 17, 9, 18, 6, 15)
    p.drawPath(path)


def _layer(p: QPainter) -> None:
    _pen(p)
    p.setBrush(QColor(0xFF, 0xE4, 0xB8))
    p.drawRoundedRect(QRectF(3, 5, 18, 14), 1.5, 1.5)
    p.setBrush(QColor(0xF0, 0x9A, 0x3E))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(QRectF(7, 9, 10, 6), 1, 1)


def _sample(p: QPainter) -> None:
    _photo(p)
    _pen(p, BLUE, 1.6)
    p.drawLine(QPointF(17, 17), QPointF(22, 22))


def _paste(p: QPainter) -> None:
    _pen(p)
    p.setBrush(QColor(0xE6, 0xD2, 0xB5))
    p.drawRoundedRect(QRectF(4, 4, 16, 17), 2, 2)
    p.setBrush(QColor(0xF2, 0xF2, 0xF2))
    p.drawRoundedRect(QRectF(8, 2.5, 8, 4), 1, 1)
    p.drawRect(QRectF(7, 9, 10, 9))


_DRAW: dict[str, Callable[[QPainter], None]] = {
    "brush": _brush,
    "eraser": _eraser,
    "swap": _swap,
    "open": _open,
    "export": _export,
    "undo": lambda p: _arrow_curve(p, False),
    "redo": lambda p: _arrow_curve(p, True),
    "fit": _fit,
    "zoom100": _zoom100,
    "extend": _extend,
    "overlay": _overlay,
    "invert": _invert,
    "clear": _clear,
    "grow": _plus_minus("+"),
    "shrink": _plus_minus("-"),
    "feather": _feather,
    "eye": _eye,
    "up": _up_down(True),
    "down": _up_down(False),
    "merge": _merge,
    "flatten": _flatten,
    "delete": _delete,
    "photo": _photo,
    "mask": _mask,
    "layer": _layer,
    "sample": _sample,
    "paste": _paste,
}


@cache
def icon(name: str) -> QIcon:
    """A 24x24 (and 48x48 for HiDPI) icon by name; unknown names give an empty icon."""
    draw = _DRAW.get(name)
    result = QIcon()
    if draw is None:
        return result
    for scale in (1, 2):
        pm = QPixmap(24 * scale, 24 * scale)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.scale(scale, scale)
        draw(p)
        p.end()
        pm.setDevicePixelRatio(scale)
        result.addPixmap(pm)
    return result


def names() -> list[str]:
    return sorted(_DRAW)
