"""The window's "Compare side by side…" action (Ctrl+Shift+C): set up a sweep, open the view.

:class:`CompareLauncher` is given what it needs by the window that assembles it:

* the engine bridge: the generation feature's, so sweeps and single generations share ONE worker
  thread and ONE loaded model;
* the core generation model: the base request (its current valid values), the loaded model's
  name and the device kind (typed, never read from a label);
* the document (the flattened picture, as Generate uses) and ``keep_layer`` (the window's "add a
  result layer": one undo step, a new layer per kept cell, so several can be kept and masked
  between with the layer and mask tools).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMenu, QWidget

from desktop.compare.setup import SweepSetupDialog
from desktop.compare.view import CompareView
from desktop.engine_bridge import EngineBridge
from inpaint_core.document import Document
from inpaint_core.errors import InpaintError
from inpaint_core.generation_model import GenerationModel
from inpaint_core.imaging.highbits import HighBits
from inpaint_core.inpaint import plan_for
from inpaint_core.request import InpaintRequest
from inpaint_core.sweep import CellResult, prior_seconds_per_step

SHORTCUT = "Ctrl+Shift+C"

KeepLayer = Callable[[np.ndarray, Any, str, dict[str, Any]], Any]


class SpeedMemory:
    """Seconds per step learned from finished results (``info["seconds"]``/``["steps"]``/grid)."""

    def __init__(self) -> None:
        self.per_pixel_step: dict[str, float] = {}  # by model; "*" = the last one measured

    def learn(self, results: list[Any]) -> None:
        calls: dict[float, list[tuple[dict[str, Any], Any]]] = {}
        for r in results:
            res = getattr(r, "result", r)  # CellResult or InpaintResult
            info = getattr(res, "info", None) or {}
            req = getattr(res, "request", None)
            if getattr(req, "engine", None) != "diffusion":
                continue
            if info.get("seconds") and info.get("steps") and info.get("grid"):
                calls.setdefault(float(info["seconds"]), []).append((info, req))
        for seconds, items in calls.items():  # one engine call = one "seconds" value
            info, req = items[0]
            w, h = info["grid"]
            steps = max(1, int(int(info["steps"]) * req.strength))
            per_image_step = seconds / (steps * (1 + 0.8 * (len(items) - 1)))
            self.per_pixel_step[str(req.model)] = per_image_step / max(1, w * h)
            self.per_pixel_step["*"] = per_image_step / max(1, w * h)

    def seconds_per_step(
        self, base: InpaintRequest, grid: tuple[int, int] | None = None, device: str = "cpu"
    ) -> float | None:
        """Seconds per step of one image on ``grid`` (default: a square at the target size):
        measured here if anything ran, else the core's first guess for ``device``."""
        learned = self.per_pixel_step.get(str(base.model), self.per_pixel_step.get("*"))
        if base.engine != "diffusion" or learned is None:
            return prior_seconds_per_step(base, grid, device)
        w, h = grid or (base.width or base.target_size, base.height or base.target_size)
        return learned * w * h


class CompareLauncher(QObject):
    """``document()``: the open Document; ``tell(text)``: a message for the user."""

    def __init__(
        self,
        window: QWidget,
        model: GenerationModel,
        bridge: EngineBridge,
        document: Callable[[], Document | None],
        keep_layer: KeepLayer,
        tell: Callable[[str], None],
        menu: QMenu,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(window)
        self.settings = settings  # where the compare views' export dialogs start
        self.window, self.model, self._bridge = window, model, bridge
        self.document, self.keep_layer, self._tell = document, keep_layer, tell
        self.views: list[CompareView] = []
        self.speed = SpeedMemory()
        self.action = QAction("&Compare side by side…", window, objectName="compareAction")
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setToolTip(
            f"Sweep seeds × schedulers (× steps, guidance, strength) into a live grid ({SHORTCUT})"
        )
        self.action.triggered.connect(self.open)
        window.addAction(self.action)
        menu.addSeparator()
        menu.addAction(self.action)
        bridge.results_ready.connect(self._learn)  # a method: delivered on the GUI thread

    def _learn(self, _job_id: str, results: list[Any]) -> None:
        self.speed.learn(results)

    def bridge(self) -> EngineBridge:
        return self._bridge

    def base_request(self) -> InpaintRequest:
        return self.model.effective_request()

    def _device(self) -> str:
        return self.model.device.kind if self.model.device is not None else "cpu"

    # -- the action -------------------------------------------------------------------------
    def open(self, *, plan: Any = None, exec_dialog: bool = True) -> CompareView | None:
        """Ask for the axes, then open the compare view and start the sweep on the bridge."""
        doc = self.document()
        if doc is None:
            self._tell("Open a photo first.")
            return None
        mask = np.array(doc.mask, copy=True)
        if not mask.any():
            self._tell("Paint a mask over what should change first (B for the brush).")
            return None
        base = plan.base if plan is not None else self.base_request()
        base = replace(base, seeds=None, num_outputs=1)
        seconds_per_step = self.speed.seconds_per_step(base, _grid(base, mask), self._device())
        if plan is None:
            dialog = SweepSetupDialog(base, seconds_per_step, self.window)
            if exec_dialog and dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            plan = dialog.plan()
            if plan is None:
                return None
        picture = np.array(doc.display_rgb(), copy=True)
        photo_layer = getattr(doc, "photo", None)
        alpha = getattr(photo_layer, "alpha", None)
        model_name = self.model.model_state.name or (
            Path(str(base.model)).name if base.model else None
        )
        view = CompareView(
            _Picture(picture, alpha, getattr(photo_layer, "high_bits", None)),
            plan,
            seconds_per_step=seconds_per_step,
            model_name=model_name,
            source_name=getattr(getattr(doc, "photo", None), "name", "") or "",
            settings=self.settings,
            parent=self.window,
        )
        view.setWindowFlag(Qt.WindowType.Window, True)
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        view.resize(1200, 820)
        view.cell_kept.connect(self.keep)
        view.destroyed.connect(lambda *_: self.views.remove(view) if view in self.views else None)
        self.views.append(view)
        view.show()
        view.start(self.bridge(), picture, mask)
        return view

    def keep(self, cell: CellResult) -> Any:
        """A kept cell becomes its own result layer (one undo step)."""
        r = cell.result
        info = {"request": r.request, "seed": r.seed, "sweep_cell": cell.cell.label}
        return self.keep_layer(np.array(r.patch, copy=True), r.box, cell.cell.label, info)


def _grid(base: InpaintRequest, mask: np.ndarray) -> tuple[int, int] | None:
    """The working grid the sweep will use (the region maths only; no engine is touched)."""
    try:
        return plan_for(base, mask, base.engine).grid
    except (InpaintError, ValueError):
        return None


class _Picture:
    """The picture a sweep works on (the flattened document) with the photo's alpha, if any, and
    a 16-bit photo's samples (its saved cells are 16-bit)."""

    def __init__(
        self, rgb: np.ndarray, alpha: np.ndarray | None, high_bits: HighBits | None = None
    ) -> None:
        self.rgb, self.alpha, self.high_bits = rgb, alpha, high_bits
