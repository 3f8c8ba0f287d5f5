"""The "Live" toggle: when a stroke ends, a cheap re-render of the masked region through the core
:class:`~inpaint_core.live.LiveRunner` (debounced, the stale run cancelled, never two at once, the
last stroke wins), shown as the canvas overlay. The full-quality Generate is unchanged.

:class:`LivePreview` gets what it needs from the window that assembles it: the open document (the
flattened picture and its mask), the current request (made cheap by
:func:`~inpaint_core.live.preview_request`), the engine to run it on, and "show this patch over
the canvas". Results arrive on the runner's worker thread and cross to the GUI thread through a
queued signal; only the newest stroke's result is ever shown.

The engine comes from ``engine_for`` (:class:`desktop.live.engines.LiveEngines`): the classical
engine on the runner's own thread, a diffusion model on the generation queue's one worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from inpaint_core.document import Document
from inpaint_core.engines.base import Engine
from inpaint_core.errors import InpaintError
from inpaint_core.live import DEFAULT_DEBOUNCE_S, LiveResult, LiveRunner, preview_request
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest

SHORTCUT = "Ctrl+Shift+L"

ShowPatch = Callable[[np.ndarray | None, BBox | None], None]


class LivePreview(QObject):
    """``engine_for(request)``: the engine a live run of ``request`` uses; raises
    :class:`InpaintError` with the reason when there is none."""

    #: (LiveResult) the newest stroke's preview, on the GUI thread
    shown = Signal(object)
    #: (bool) a live render started / ended (delivered, failed or stopped): Esc can stop it
    rendering_changed = Signal(bool)
    _delivered = Signal(object)
    _failed = Signal(int, str)

    def __init__(
        self,
        window: QWidget,
        document: Callable[[], Document | None],
        request: Callable[[], InpaintRequest],
        engine_for: Callable[[InpaintRequest], Engine],
        show: ShowPatch,
        tell: Callable[[str], None],
        *,
        debounce_s: float = DEFAULT_DEBOUNCE_S,
        preview_size: int = 256,
        max_steps: int | None = 8,
    ) -> None:
        super().__init__(window)
        self.document, self.request, self.engine_for = document, request, engine_for
        self.show, self.tell = show, tell
        self.debounce_s = debounce_s
        self.preview_size = preview_size
        #: a cap on a live render's steps (a few-step model keeps its own fewer)
        self.max_steps = max_steps
        self.runner: LiveRunner | None = None
        self._engine: Engine | None = None
        #: the generation of the newest submitted stroke, and the last result shown
        self.submitted = 0
        self._for: tuple[Document, tuple[int, int]] | None = None  # the picture it was made for
        self.last: LiveResult | None = None
        #: a render of the newest stroke is waiting or running
        self.rendering = False
        self.action = QAction("&Live preview", window, objectName="livePreviewAction")
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setToolTip(
            "Live: re-render the masked area at low resolution whenever a stroke ends "
            f"(classical engine or a few-step model; {SHORTCUT})"
        )
        self.action.toggled.connect(self._toggled)
        window.addAction(self.action)
        # worker thread -> GUI thread
        self._delivered.connect(self._on_delivered, Qt.ConnectionType.QueuedConnection)
        self._failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)

    @property
    def enabled(self) -> bool:
        return self.action.isChecked()

    # -- strokes ---------------------------------------------------------------------------------
    def stroke_ended(self, *_: Any) -> int | None:
        """A stroke ended (or the mask changed): preview the masked area. Returns the stroke's
        generation, or None when nothing was submitted."""
        doc = self.document()
        if not self.enabled or doc is None:
            return None
        if not doc.mask.any():
            self.show(None, None)
            return None
        try:
            request = preview_request(
                self.request(), target_size=self.preview_size, max_steps=self.max_steps
            )
            runner = self._runner_for(request)
        except InpaintError as exc:
            self.tell(f"Live preview: {exc}")
            self.action.setChecked(False)
            return None
        self.submitted = runner.submit(request, doc.flatten(), doc.mask)
        self._for = (doc, doc.size)
        self._set_rendering(True)
        return self.submitted

    def stop_render(self) -> None:
        """Stop the waiting or running render (Esc, Cancel): within a step for a diffusion
        model; Live stays on, the preview already shown stays."""
        if self.runner is not None:
            self.runner.cancel()
        self._set_rendering(False)

    def _set_rendering(self, on: bool) -> None:
        if on != self.rendering:
            self.rendering = on
            self.rendering_changed.emit(on)

    def _runner_for(self, request: InpaintRequest) -> LiveRunner:
        engine = self.engine_for(request)
        if self.runner is not None and engine is self._engine:
            return self.runner
        self.close()
        self._engine = engine
        self.runner = LiveRunner(
            engine,
            self._delivered.emit,  # worker thread: a queued signal carries it to the GUI thread
            debounce_s=self.debounce_s,
            on_error=lambda gen, exc: self._failed.emit(gen, str(exc)),
        )
        return self.runner

    # -- results (GUI thread) ----------------------------------------------------------------------
    def _on_delivered(self, live: LiveResult) -> None:
        if live.generation == self.submitted:
            self._set_rendering(False)
        if not self.enabled or live.generation != self.submitted or not live.results:
            return  # switched off meanwhile, or a newer stroke is on its way
        doc = self.document()
        if self._for is None or doc is not self._for[0] or doc.size != self._for[1]:
            return  # another picture (or another canvas size) by now: it would not fit
        result = live.results[0]
        self.last = live
        self.show(result.patch, result.box)
        self.shown.emit(live)

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self.submitted:
            self._set_rendering(False)
            self.tell(f"Live preview failed: {message}")

    # -- switching -----------------------------------------------------------------------------------
    def _toggled(self, on: bool) -> None:
        if on:
            self.stroke_ended()
            return
        self.stop_render()
        self.last = None
        self.show(None, None)

    def close(self) -> None:
        """Stop the worker (the window is closing, or the engine changed)."""
        if self.runner is not None:
            self.runner.close()
        self.runner = None
        self._engine = None
