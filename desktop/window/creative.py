"""Wiring of the "beyond the fill" features into the window: the Image menu with Extend canvas…
(outpainting), the Live preview toggle (Generate menu and toolbar), the Smart mask tool (Mask
menu and toolbar; the canvas's click mode). One call from :meth:`MainWindow.__init__`, after the generation and compare
features (the extender reads the generation model's request), so the window assembly stays small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMenu

from desktop.live.engines import LiveEngines
from desktop.live.preview import LivePreview
from desktop.outpaint.action import CanvasExtender
from desktop.smart_mask.tool import SmartMaskTool

if TYPE_CHECKING:
    from desktop.window.main_window import MainWindow


@dataclass
class CreativeTools:
    image_menu: QMenu
    extender: CanvasExtender
    live: LivePreview
    smart_mask: SmartMaskTool


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
        LiveEngines(
            w.generation.bridge.submit_call,
            w.generation.bridge.cancel,
            w.generation.engine_cache,
        ),
        w.canvas.set_preview,
        w.show_error,
    )
    w.generate_menu.addSeparator()
    w.generate_menu.addAction(live.action)
    w.toolbar.addAction(live.action)
    w.canvas.stroke_finished.connect(live.stroke_ended)
    _cancel_stops_live(w, live)
    smart = SmartMaskTool(
        w, lambda: w.doc, w.push_edit, w.canvas.set_click_mode, w.settings, w.show_error
    )
    w.canvas.image_clicked.connect(smart.clicked)
    w.mask_menu.addSeparator()
    w.mask_menu.addActions([smart.action, smart.choose_action])
    w.toolbar.addAction(smart.action)
    # one canvas tool at a time: the brush or the eraser takes the canvas back from the click
    # tool; the click tool switched off (or its model dialog cancelled) gives it back to them
    w.actions.tools.addAction(smart.action)
    smart.action.toggled.connect(lambda on: on or w.select_paint_tool())
    return CreativeTools(image_menu, extender, live, smart)


def _cancel_stops_live(w: MainWindow, live: LivePreview) -> None:
    """Esc (Generate ▸ Cancel) and the panel's Cancel stop a running live render too, and are
    enabled while one runs, not only while a generation does."""
    cancel, panel, model = w.generation.actions.cancel, w.generation.panel, w.generation.model

    def update(*_: object) -> None:
        running = model.busy or live.rendering
        cancel.setEnabled(running)
        panel.cancel_button.setEnabled(running)

    live.rendering_changed.connect(update)
    model.events.busy_changed.connect(update)  # after the generation feature's own handlers
    cancel.triggered.connect(live.stop_render)
    panel.cancel_clicked.connect(live.stop_render)
    cancel.setToolTip("Stop the running generation or live render; drop queued generations (Esc)")
    panel.cancel_button.setToolTip(cancel.toolTip())
