"""The brush/eraser settings shared by the canvas, the toolbar and the menus."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, QSettings, Signal

from desktop.settings import read

MIN_SIZE, MAX_SIZE = 1.0, 2000.0


class BrushSettings(QObject):
    """Diameter in image pixels, hardness and opacity in [0, 1], and paint or erase."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._size = 40.0
        self._hardness = 0.8
        self._opacity = 1.0
        self._erase = False

    @property
    def size(self) -> float:
        return self._size

    @property
    def radius(self) -> float:
        return self._size / 2.0

    @property
    def hardness(self) -> float:
        return self._hardness

    @property
    def opacity(self) -> float:
        return self._opacity

    @property
    def erase(self) -> bool:
        return self._erase

    def set_size(self, size: float) -> None:
        size = float(min(MAX_SIZE, max(MIN_SIZE, round(size))))
        if size != self._size:
            self._size = size
            self.changed.emit()

    def bigger(self) -> None:
        """``]``: about 15 % bigger, at least one pixel (the same feel at 5 px and at 500 px)."""
        self.set_size(max(self._size + 1, math.ceil(self._size * 1.15)))

    def smaller(self) -> None:
        self.set_size(min(self._size - 1, math.floor(self._size / 1.15)))

    def set_hardness(self, value: float) -> None:
        value = min(1.0, max(0.0, float(value)))
        if value != self._hardness:
            self._hardness = value
            self.changed.emit()

    def set_opacity(self, value: float) -> None:
        value = min(1.0, max(0.01, float(value)))
        if value != self._opacity:
            self._opacity = value
            self.changed.emit()

    def set_erase(self, erase: bool) -> None:
        if bool(erase) != self._erase:
            self._erase = bool(erase)
            self.changed.emit()

    def swap(self) -> None:
        self.set_erase(not self._erase)

    def save(self, settings: QSettings) -> None:
        settings.setValue("brush/size", self._size)
        settings.setValue("brush/hardness", self._hardness)
        settings.setValue("brush/opacity", self._opacity)

    def load(self, settings: QSettings) -> None:
        self.set_size(read(settings, "brush/size", self._size, float))
        self.set_hardness(read(settings, "brush/hardness", self._hardness, float))
        self.set_opacity(read(settings, "brush/opacity", self._opacity, float))
