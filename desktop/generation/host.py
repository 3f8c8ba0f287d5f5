"""What generation needs from the window, and the worker-side helpers of the studio.

:class:`DocumentHost` gives the generation feature the open Document (flattened picture and mask
copies the worker can own), the canvas overlay, and keeping a result as a layer through the
window's one edit path (``push_edit``: the undo history's one command type), so the feature runs in
the studio window and in a bare test window alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtGui import QImage

from inpaint_core.cpu_threads import default_cpu_threads
from inpaint_core.document import Document, Edit
from inpaint_core.generation_model import DeviceInfo
from inpaint_core.jobs import EngineCache
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest
from inpaint_core.service.remote import RemoteEngine, server_model

Overlay = Callable[[BBox | None, QImage | None], None]


class DocumentHost:
    """``document()``: the open Document or None. ``push_edit(edit)``: put an applied edit on the
    undo history. ``set_overlay(box, image)``: draw ``image`` scaled onto ``box`` (photo pixels)
    over the canvas; ``(None, None)`` removes it. ``layer_added(layer)``: the window selects it."""

    def __init__(
        self,
        document: Callable[[], Document | None],
        push_edit: Callable[[Edit], Any],
        set_overlay: Overlay | None = None,
        layer_added: Callable[[Any], Any] | None = None,
    ) -> None:
        self._document = document
        self._push_edit = push_edit
        self._set_overlay = set_overlay
        self._layer_added = layer_added
        self._mask_hidden_by_us = False

    @property
    def document(self) -> Document | None:
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

    def keep(self, rgb: np.ndarray, box: BBox, name: str, info: dict[str, Any]) -> Any:
        """A result as a new layer: one step on the undo history. Returns the layer."""
        doc = self.document
        if doc is None:
            return None
        edit = doc.add_result_layer(rgb, box, name, info=info)
        self._push_edit(edit)
        layer = edit.layer  # type: ignore[attr-defined]
        if self._layer_added is not None:
            self._layer_added(layer)
        return layer

    def kept_layers(self) -> list[dict[str, Any]]:
        """The info of the visible result layers made by a generation, bottom to top."""
        doc = self.document
        if doc is None:
            return []
        return [
            layer.info
            for layer in doc.result_layers
            if layer.visible and isinstance(layer.info.get("request"), InpaintRequest)
        ]


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
        remote = self.remote  # (set on the GUI thread: read once)
        if remote is not None:
            # one of the server's models by its slug, or (a local path) the server's own --model
            model = server_model(request.model) if request.engine == "diffusion" else None
            key = (*remote, request.engine, model)
            if key not in self._remote_engines:
                url, token = remote
                self._remote_engines[key] = RemoteEngine(
                    url, token, engine=request.engine, model=model
                )
            engine = self._remote_engines[key]
        else:
            engine = super().__call__(request)
        if hasattr(engine, "preview"):
            engine.preview = self.previews
        if hasattr(engine, "preview_interval_s"):
            engine.preview_interval_s = self.preview_interval_s
        return engine


def leave_a_core_to_the_window() -> int:
    """Run the worker thread's torch CPU work on :func:`default_cpu_threads` threads (all cores
    but one, or ``$INPAINT_STUDIO_TORCH_THREADS``), so the window's thread always finds a free
    core; generation itself uses the same count whatever the calling thread has (the engine sets
    it per run), so the studio's pictures are the CLI's. Call it on the worker thread (it imports
    torch; OpenMP's thread count is per calling thread, so this only touches the worker)."""
    import torch  # on the worker thread: the window starts without waiting for torch

    torch.set_num_threads(default_cpu_threads())
    return torch.get_num_threads()


def describe_device() -> DeviceInfo:
    """Where generation runs: kind ``cuda``/``mps``/``cpu`` and a label ('CUDA · <name> · 20.1 /
    24.0 GiB free', 'CPU (1 of 2 cores) · 24 GiB RAM (17 free)'). Call it on the worker thread."""
    import torch  # on the worker thread: the window starts without waiting for torch

    from inpaint_core.models import resolve_device  # (imports torch too)

    device = resolve_device(None)
    gib = 1024**3
    if device.startswith("cuda"):
        idx = torch.device(device).index or 0
        free, total = torch.cuda.mem_get_info(idx)
        name = torch.cuda.get_device_name(idx)
        return DeviceInfo("cuda", f"CUDA · {name} · {free / gib:.1f} / {total / gib:.1f} GiB free")
    try:
        import psutil  # optional

        vm = psutil.virtual_memory()
        mem = f"{vm.total / gib:.0f} GiB RAM ({vm.available / gib:.0f} free)"
    except Exception:  # noqa: BLE001 - memory is a nicety
        mem = ""
    cores = f"{torch.get_num_threads()} of {os.cpu_count()} cores"
    label = "MPS (Apple GPU)" if device == "mps" else f"CPU ({cores})"
    return DeviceInfo("mps" if device == "mps" else "cpu", f"{label} · {mem}" if mem else label)
