"""Wiring of the "beyond the fill" features into the window: the Image menu with Extend canvas…
(outpainting). One call from :meth:`MainWindow.__init__`, after the generation and compare
features (the extender reads the generation model's request), so the window assembly stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from desktop.outpaint.action import CanvasExtender

if TYPE_CHECKING:
    from desktop.window.main_window import MainWindow


@dataclass
class CreativeTools:
    image_menu: QMenu
    extender: CanvasExtender


def install_creative(w: MainWindow) -> CreativeTools:
    image_menu = QMenu("&Image", w)
    image_menu.setObjectName("imageMenu")
    w.menuBar().insertMenu(w.generate_menu.menuAction(), image_menu)
    extender = CanvasExtender(
        w, lambda: w.doc, w.push_edit, lambda: w.generation.model.request, w.show_error
    )
    extender.install(image_menu, w.toolbar)
    w.canvas.image_resized.connect(w.status.set_image_size)
    return CreativeTools(image_menu, extender)
