"""The window side of generation: what the controller needs from a window, and small helpers.

:class:`DocumentHost` adapts a window (its ``inpaint_core`` Document, its QUndoStack, its canvas
overlay, its "apply result as layer") to the few calls :mod:`desktop.generation` makes, so the
controller can be driven by the studio window and by a bare test window alike.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
from PySide6.QtGui import QImage, QUndoCommand, QUndoStack

from inpaint_core.jobs import EngineCache
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest
from inpaint_core.service.remote import RemoteEngine


class EditCommand(QUndoCommand):
    """One document :class:`~inpaint_core.document.Edit`, already applied when pushed (the first
    ``redo`` does nothing)."""

    def __init__(self, document: Any, edit: Any, text: str) -> None:
        super().__init__(text)
        self.document, self.edit, self._first = document, edit, True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self.edit.apply(self.document, undo=False)

    def undo(self) -> None:
        self.edit.apply(self.document, undo=True)


class DocumentHost:
    """``document``: returns the current Document (or None). ``set_overlay(box, image)``: draw a
    QImage scaled onto ``box`` (photo pixels) over the canvas; ``(None, None)`` removes it.
    ``apply_layer(rgb, box, name, info)``: the window's own "apply result as layer" (one undo
    step); without it the edit is pushed on ``undo_stack`` here."""

    def __init__(
        self,
        document: Callable[[], Any],
        undo_stack: QUndoStack,
        set_overlay: Callable[[BBox | None, QImage | None], None] | None = None,
        apply_layer: Callable[..., Any] | None = None,
    ) -> None:
        self._document = document
        self.undo_stack = undo_stack
        self._set_overlay = set_overlay
        self._apply_layer = apply_layer
        self._mask_hidden_by_us = False

    @property
    def document(self) -> Any:
        return self._document()

    def picture(self) -> np.ndarray | None:
        """The flattened picture (photo + visible result layers): a copy the worker can own while
        the user goes on painting and keeping."""
        doc = self.document
        return None if doc is None else np.array(doc.display_rgb(), copy=True)

    def mask(self) -> np.ndarray | None:
        doc = self.document
        return None if doc is None else np.array(doc.mask, copy=True)

    def set_overlay(self, box: BBox | None, image: QImage | None) -> None:
        if self._set_overlay is not None:
            self._set_overlay(box, image)

    def hide_mask_overlay(self, hidden: bool) -> None:
        """Hide the mask tint while a candidate is shown in place (it would colour the result);
        shows it again afterwards unless the user hid it meanwhile."""
        doc = self.document
        if doc is None:
            self._mask_hidden_by_us = False
            return
        layer = doc.mask_layer
        index = doc.layers.index_of(layer)
        if hidden and layer.visible:
            doc.set_layer_visible(index, False)  # a view setting: not on the history
            self._mask_hidden_by_us = True
        elif not hidden and self._mask_hidden_by_us:
            self._mask_hidden_by_us = False
            if not layer.visible:
                doc.set_layer_visible(index, True)

    def keep(self, rgb: np.ndarray, box: BBox, name: str, info: dict[str, Any]) -> None:
        if self._apply_layer is not None:
            self._apply_layer(rgb, box, name, info)
            return
        doc = self.document
        edit = doc.add_result_layer(rgb, box, name, info=info)
        self.undo_stack.push(EditCommand(doc, edit, f"Keep {name}"))

    def kept_requests(self) -> list[dict[str, Any]]:
        """The generation info of the visible result layers that carry one, bottom to top."""
        doc = self.document
        if doc is None:
            return []
        return [
            layer.info
            for layer in doc.result_layers
            if layer.visible and isinstance(layer.info.get("request"), dict)
        ]


def window_host(window: Any) -> DocumentHost:
    """A host over the studio's main window (``document``, ``undo_stack``, ``canvas.set_overlay``,
    ``apply_result_layer``)."""
    stack = getattr(window, "undo_stack", None)
    if stack is None:
        stack = QUndoStack(window)
    canvas = getattr(window, "canvas", None)
    return DocumentHost(
        lambda: getattr(window, "document", None),
        stack,
        getattr(canvas, "set_overlay", None),
        getattr(window, "apply_result_layer", None),
    )


#: at most 4 step previews a second: enough to watch, cheap (see bench/responsiveness.py)
PREVIEW_INTERVAL_S = 0.25


class StudioEngineCache(EngineCache):
    """The core's engine cache, plus the window's preview policy applied to every engine it hands
    out: ``previews`` on/off, at most one per ``preview_interval_s``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.previews = True
        self.preview_interval_s = PREVIEW_INTERVAL_S
        #: (url, token) of a remote ``serve`` (Generate ▸ Engine…); None: this machine
        self.remote: tuple[str, str | None] | None = None
        self._remote_engines: dict[tuple[Any, ...], RemoteEngine] = {}

    def __call__(self, request: InpaintRequest) -> Any:
        if self.remote is not None:
            key = (*self.remote, request.engine)
            if key not in self._remote_engines:
                url, token = self.remote
                self._remote_engines[key] = RemoteEngine(url, token, engine=request.engine)
            return self._remote_engines[key]
        engine = super().__call__(request)
        if hasattr(engine, "preview"):
            engine.preview = self.previews
        if hasattr(engine, "preview_interval_s"):
            engine.preview_interval_s = self.preview_interval_s
        return engine


def overlay_image(rgb: np.ndarray, alpha: np.ndarray | None) -> QImage:
    """RGB (+ alpha) uint8 arrays -> a QImage that owns its pixels (premultiplied with alpha: the
    fastest format to draw)."""
    h, w = rgb.shape[:2]
    if alpha is None:
        rgb = np.ascontiguousarray(rgb)
        return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format.Format_RGB888).copy()
    rgba = np.ascontiguousarray(np.dstack([rgb, alpha]))
    img = QImage(rgba.data, w, h, rgba.strides[0], QImage.Format.Format_RGBA8888)
    return img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


def plan_region(request: InpaintRequest, mask: np.ndarray) -> Any:
    """The region ``inpaint`` will use (for placing previews). Only the engine's
    ``native_resolution`` matters and it is known per engine name, so no engine (and no torch)
    is created on the GUI thread."""
    from inpaint_core.inpaint import plan_for

    stub = SimpleNamespace(native_resolution=request.engine == "classical")
    return plan_for(request, mask, stub)  # type: ignore[arg-type]


THREADS_ENV = "INPAINT_STUDIO_TORCH_THREADS"


def leave_a_core_to_the_window() -> int:
    """Run torch's CPU work on all cores but one, so the window's thread always finds a free core.

    Measured here (2 cores; bench/responsiveness.py): with other programs busy, the tiny model's
    100 steps took 1.7 s every time on 1 torch thread, and 4.7 to 43 s on 2 (OpenMP threads
    waiting for each other at every barrier while the OS runs something else); on an idle
    machine 2 threads were ~12 % faster (2.57 s against 2.91 s for 200 steps). Steady beats
    fastest-when-idle for a window. ``$INPAINT_STUDIO_TORCH_THREADS`` or ``$OMP_NUM_THREADS`` win
    when set. Call it on the worker thread (it imports torch; OpenMP's thread count is per
    calling thread, so this only touches the worker)."""
    import os

    import torch

    wanted = os.environ.get(THREADS_ENV, "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        torch.set_num_threads(int(wanted))
    elif not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    return torch.get_num_threads()


def describe_device() -> str:
    """'CUDA · <name> · 20.1 / 24.0 GiB free', 'MPS (Apple GPU) · …' or 'CPU (1 of 2 cores) · 24
    GiB RAM (17 free)'. Imports torch: call it on the worker thread."""
    import os

    import torch

    from inpaint_core.models import resolve_device

    device = resolve_device(None)
    gib = 1024**3
    if device.startswith("cuda"):
        idx = torch.device(device).index or 0
        free, total = torch.cuda.mem_get_info(idx)
        name = torch.cuda.get_device_name(idx)
        return f"CUDA · {name} · {free / gib:.1f} / {total / gib:.1f} GiB free"
    try:
        import psutil

        vm = psutil.virtual_memory()
        mem = f"{vm.total / gib:.0f} GiB RAM ({vm.available / gib:.0f} free)"
    except Exception:  # noqa: BLE001 - memory is a nicety
        mem = ""
    cores = f"{torch.get_num_threads()} of {os.cpu_count()} cores"
    label = "MPS (Apple GPU)" if device == "mps" else f"CPU ({cores})"
    return f"{label} · {mem}" if mem else label
