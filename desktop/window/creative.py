"""Wiring of the "beyond the fill" features into the window: the Image menu with Extend canvas…
(outpainting), the Live preview toggle (Generate menu and toolbar). One call from :meth:`MainWindow.__init__`, after the generation and compare
features (the extender reads the generation model's request), so the window assembly stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from desktop.live.preview import ClassicalLiveEngine, LivePreview
from desktop.outpaint.action import CanvasExtender

if TYPE_CHECKING:
    from desktop.window.main_window import MainWindow


@dataclass
class CreativeTools:
    image_menu: QMenu
    extender: CanvasExtender
    live: LivePreview


def install_creative(w: MainWindow) -> CreativeTools:
    image_menu = QMenu("&Image", w)
    image_menu.setObjectName("imageMenu")
    w.menuBar().insertMenu(w.generate_menu.menuAction(), image_menu)
    extender = CanvasExtender(
        w, lambda: w.doc, w.push_edit, lambda: w.generation.model.request, w.show_error
    )
    extender.install(image_menu, w.toolbar)
    w.canvas.image_resized.connect(w.status.set_image_size)
    live = LivePreview(
        w,
        lambda: w.doc,
        lambda: w.generation.model.effective_request(),
        ClassicalLiveEngine(),
        w.canvas.set_preview,
        w.show_error,
    )
    w.generate_menu.addSeparator()
    w.generate_menu.addAction(live.action)
    w.toolbar.addAction(live.action)
    w.canvas.stroke_finished.connect(live.stroke_ended)
    return CreativeTools(image_menu, extender, live)
