"""The window's "Compare side by side…" action (Ctrl+Shift+C): set up a sweep, open the view.

``install(window)`` is the whole wiring. It finds what it needs on the window when triggered, not
at install time, so it works whichever of the window's parts is installed first:

* the engine bridge: the generation controller's (``window.generation.bridge``), so sweeps and
  single generations share ONE worker thread and ONE loaded model; otherwise a bridge of its own;
* the base request: the parameters panel's current values (``window.generation.panel``);
* the picture and mask: the window's document (the flattened picture, as Generate uses);
* keeping a cell: the window's ``apply_result_layer`` (one undo step, a new layer per kept cell,
  so several can be kept and masked between with the layer and mask tools).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QMainWindow, QMenu, QMessageBox

from desktop.compare.setup import SweepSetupDialog
from desktop.compare.view import CompareView
from desktop.engine_bridge import EngineBridge
from inpaint_core.errors import InpaintError
from inpaint_core.inpaint import plan_for
from inpaint_core.request import InpaintRequest
from inpaint_core.sweep import CellResult, prior_seconds_per_step

SHORTCUT = "Ctrl+Shift+C"


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
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.views: list[CompareView] = []
        self.speed = SpeedMemory()
        self._own_bridge: EngineBridge | None = None
        self._learning: set[int] = set()
        self.action = QAction("&Compare side by side…", window, objectName="compareAction")
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setToolTip(
            f"Sweep seeds × schedulers (× steps, guidance, strength) into a live grid ({SHORTCUT})"
        )
        self.action.triggered.connect(self.open)
        window.addAction(self.action)
        self._place_in_menu()

    # -- what the window offers -------------------------------------------------------------
    @property
    def generation(self) -> Any:
        return getattr(self.window, "generation", None)

    def bridge(self) -> EngineBridge:
        gen = self.generation
        bridge = getattr(gen, "bridge", None)
        if bridge is None:
            if self._own_bridge is None:
                self._own_bridge = EngineBridge(parent=self)
            bridge = self._own_bridge
        if id(bridge) not in self._learning:  # learn step times from every finished job
            bridge.results_ready.connect(lambda _job, results: self.speed.learn(results))
            self._learning.add(id(bridge))
        return bridge

    def base_request(self) -> InpaintRequest | None:
        panel = getattr(self.generation, "panel", None)
        if panel is None:
            return InpaintRequest()
        return panel.validate()  # None (with the bad field marked) on bad input

    def _device(self) -> str:
        """The generation panel's device (it asks the worker once); "cpu" when unknown."""
        label = getattr(self.generation, "device_label", None)
        text = label.text().lower() if label is not None else ""
        return "cuda" if "cuda" in text else "mps" if "mps" in text else "cpu"

    def _place_in_menu(self, retry: bool = True) -> None:
        for menu in self.window.menuBar().findChildren(QMenu):
            if menu.objectName() == "generateMenu" or menu.title().replace("&", "") == "Generate":
                menu.addSeparator()
                menu.addAction(self.action)
                return
        if retry:  # the generation part may install its menu later in the same start-up
            QTimer.singleShot(0, lambda: self._place_in_menu(retry=False))
            return
        for menu in self.window.menuBar().findChildren(QMenu):
            if menu.title().replace("&", "") == "Tools":
                menu.addSeparator()
                menu.addAction(self.action)
                return
        self.window.menuBar().addAction(self.action)

    def _tell(self, text: str) -> None:
        show = getattr(self.window, "show_error", None)
        if show is not None:
            show(text)
        else:
            QMessageBox.information(self.window, "Compare", text)

    # -- the action -------------------------------------------------------------------------
    def open(self, *, plan: Any = None, exec_dialog: bool = True) -> CompareView | None:
        """Ask for the axes, then open the compare view and start the sweep on the bridge."""
        doc = getattr(self.window, "document", None)
        if doc is None:
            self._tell("Open a photo first.")
            return None
        mask = np.array(doc.mask, copy=True)
        if not mask.any():
            self._tell("Paint a mask over what should change first (B for the brush).")
            return None
        base = plan.base if plan is not None else self.base_request()
        if base is None:
            self._tell("Fix the marked parameter first.")
            return None
        base = InpaintRequest.from_dict({**base.to_dict(), "seeds": None, "num_outputs": 1})
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
        gen = self.generation
        model_name = getattr(gen, "model_name", None) or (
            Path(str(base.model)).name if base.model else None
        )
        view = CompareView(
            _Picture(picture, alpha),
            plan,
            seconds_per_step=seconds_per_step,
            model_name=model_name,
            source_name=getattr(getattr(doc, "photo", None), "name", "") or "",
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
        info = {"request": r.request.to_dict(), "seed": r.seed, "sweep_cell": cell.cell.label}
        name = f"{cell.cell.label}"
        apply = getattr(self.window, "apply_result_layer", None)
        if apply is None:
            self._tell("This window cannot add layers.")
            return None
        return apply(np.array(r.patch, copy=True), r.box, name, info)


def _grid(base: InpaintRequest, mask: np.ndarray) -> tuple[int, int] | None:
    """The working grid the sweep will use (the region maths only; no engine is touched)."""
    try:
        stub = SimpleNamespace(native_resolution=base.engine == "classical")
        return plan_for(base, mask, stub).grid  # type: ignore[arg-type]
    except (InpaintError, ValueError):
        return None


class _Picture:
    """The picture a sweep works on (the flattened document) with the photo's alpha, if any."""

    def __init__(self, rgb: np.ndarray, alpha: np.ndarray | None) -> None:
        self.rgb, self.alpha = rgb, alpha


def install(window: QMainWindow) -> CompareLauncher:
    """Add the Compare action to ``window`` (kept as ``window.compare``)."""
    launcher = CompareLauncher(window)
    window.compare = launcher  # type: ignore[attr-defined]
    return launcher
