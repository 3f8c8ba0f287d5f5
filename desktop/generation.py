"""Generation in the window: connects the parameters panel, the engine bridge, the document/canvas
and the candidates tray.

Everything that touches torch runs on the bridge's ONE worker thread (model loading, generation,
even the device query for the status bar); this module only reacts to the bridge's GUI-thread
signals, so the window stays responsive and a second run can be queued while one runs.
``install(window)`` fills the window's ``parametersDock`` and ``candidatesDock``, adds the actions
(Generate: Ctrl+Enter, Cancel: Esc, Save with parameters, Open parameters from PNG) and the
status-bar fields (device, loaded model).

Overlay on the canvas: step previews while a run goes, otherwise the selected candidate in place
(the mask tint is hidden meanwhile). Hold ``\\`` to see the picture without it (before/after).

Split: this module keeps the job bookkeeping (generate, cancel, load a model, the device query and
the bridge's signals); candidates (kept in the core's :class:`~inpaint_core.candidates.CandidateHistory`)
and the overlay are in :mod:`desktop.generation_candidates`, the actions and ``install`` in
:mod:`desktop.generation_actions`, parameters in PNG files in :mod:`desktop.generation_files`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QWidget

from inpaint_core.candidates import CandidateHistory
from inpaint_core.errors import InpaintError
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest
from inpaint_core.sweep import format_duration

from .candidates_tray import CandidatesTray
from .engine_bridge import EngineBridge
from .generation_actions import install, make_actions
from .generation_candidates import BEFORE_AFTER_KEY, CandidatesMixin
from .generation_files import LAYERS_CHUNK, ParameterFilesMixin, summary
from .generation_host import (
    DocumentHost,
    StudioEngineCache,
    describe_device,
    leave_a_core_to_the_window,
    overlay_image,
    plan_region,
    window_host,
)
from .parameters_panel import ParametersPanel

__all__ = [
    "BEFORE_AFTER_KEY",
    "LAYERS_CHUNK",
    "DocumentHost",
    "GenerationController",
    "install",
    "make_bridge",
    "summary",
    "window_host",
]


@dataclass
class _Job:
    kind: str  # "generate" | "load" | "device"
    request: InpaintRequest | None = None
    box: BBox | None = None
    alpha: np.ndarray | None = None  # the mask on the working grid, for step previews
    model: str | None = None
    document: Any = None
    started: bool = False
    stepped: bool = False
    first_step: tuple[int, float] | None = None  # (step, time) of the first step seen, for the ETA


class GenerationController(CandidatesMixin, ParameterFilesMixin, QObject):
    """Owns the parameters panel, the candidates tray, the actions and the job bookkeeping.

    Candidates and the overlay: :mod:`desktop.generation_candidates`; actions and installing into
    the window: :mod:`desktop.generation_actions`; parameters in PNGs: :mod:`desktop.generation_files`."""

    def __init__(
        self,
        host: DocumentHost,
        *,
        bridge: EngineBridge | None = None,
        settings: QSettings | None = None,
        parent: QObject | None = None,
        query_device: bool = True,
    ) -> None:
        super().__init__(parent)
        self.host = host
        if bridge is None:
            self.engine_cache: Any = StudioEngineCache()
            bridge = make_bridge(self.engine_cache, parent=self)
        else:
            self.engine_cache = bridge.queue.engine_factory
        self.bridge = bridge
        self.settings = settings if settings is not None else QSettings()
        self.panel = ParametersPanel()
        #: every candidate of this picture (the core list; the tray only shows it)
        self.candidates = CandidateHistory()
        self.tray = CandidatesTray(history=self.candidates)
        self.jobs: dict[str, _Job] = {}
        self.model_name: str | None = None
        self._step_preview: tuple[BBox, QImage] | None = None
        self._before_after = False
        self._offered: InpaintRequest | None = None
        self._closed = False
        self._tuned = False
        #: asks a yes/no question (tests replace it)
        self.confirm: Callable[[str, str], bool] = self._ask

        self.device_label = QLabel("Device: …", objectName="deviceStatus")
        self.device_label.setToolTip("Where generation runs (checked on the worker thread)")
        self.model_label = QLabel("Model: none loaded", objectName="modelStatus")
        for label in (self.device_label, self.model_label):
            label.setContentsMargins(6, 0, 6, 0)
            label.setMinimumWidth(24)  # may be clipped: the status bar must not widen the window

        make_actions(self)
        self._connect()
        self.panel.restore_settings(self.settings)
        self.rescan_models()
        self._query_device = query_device
        if query_device:
            self.refresh_device()

    def _connect(self) -> None:
        b = self.bridge
        b.job_started.connect(self._on_started)
        b.progress_changed.connect(self._on_progress)
        b.preview_ready.connect(self._on_preview)
        b.results_ready.connect(self._on_results)
        b.job_failed.connect(self._on_failed)
        b.job_cancelled.connect(self._on_cancelled)
        b.job_finished.connect(self._on_finished)
        self.generate_action.triggered.connect(self.generate)
        self.cancel_action.triggered.connect(self.cancel)
        self.save_action.triggered.connect(lambda: self.save_with_parameters())
        self.open_params_action.triggered.connect(lambda: self.open_parameters())
        self.rescan_action.triggered.connect(self.rescan_models)
        self.panel.generate_clicked.connect(self.generate)
        self.panel.cancel_clicked.connect(self.cancel)
        self.panel.model_chosen.connect(self.load_model)
        self.panel.offer_load_button.clicked.connect(self._accept_offer)
        self.tray.preview_requested.connect(lambda _c: self._refresh_overlay())
        self.tray.keep_requested.connect(self.keep)
        self.tray.save_requested.connect(lambda c: self.save_candidate(c))
        self.tray.use_settings_requested.connect(self.use_settings)
        self.tray.discarded.connect(lambda _c: self._refresh_overlay())
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def rescan_models(self) -> None:
        """Fill the model picker from disk; with no inpainting model found, the classical engine
        (no weights) is chosen."""
        try:
            from inpaint_core.models import list_models

            models = list_models()
        except Exception as exc:  # noqa: BLE001 - a broken models folder must not stop the window
            models = []
            self.panel.show_message(f"Could not list the models: {exc}")
        self.panel.set_models(models)
        if not any(m.is_inpainting for m in models) and not self.panel.model:
            self.panel.engine_combo.setCurrentIndex(self.panel.engine_combo.findData("classical"))
        if self.panel.engine == "diffusion" and self.panel.model and not self.model_name:
            self.model_label.setText(f"Model: {Path(self.panel.model).name} (not loaded yet)")

    # -- jobs -------------------------------------------------------------------------------------
    def _generate_jobs(self) -> list[str]:
        return [j for j, job in self.jobs.items() if job.kind == "generate"]

    def generate(self) -> str | None:
        """Queue a generation with the panel's parameters (never blocks; a run already going is
        not disturbed). Returns the job id, or None when something is missing (said in the panel)."""
        req = self.panel.validate()
        if req is None:
            self.panel.show_message("Fix the marked field first.")
            return None
        picture, mask = self.host.picture(), self.host.mask()
        if picture is None or mask is None:
            self.panel.show_message("Open a photo first.")
            return None
        try:
            region = plan_region(req, mask)
        except InpaintError as exc:
            self.panel.show_message(f"{exc}  (B: brush)")
            return None
        self.panel.show_message("")
        box = region.box
        alpha = np.where(mask[box.slices] > 0, 255, 0).astype(np.uint8)
        if not region.native:
            alpha = cv2.resize(alpha, region.grid, interpolation=cv2.INTER_AREA)
        job_id = self.bridge.submit(req, picture, mask)
        self.jobs[job_id] = _Job("generate", req, box, alpha, req.model, self.host.document)
        self._update_busy()
        if len(self._generate_jobs()) > 1:
            self.panel.set_progress(
                self.panel.progress_bar.value() / 1000, self._progress_text("Running")
            )
        return job_id

    def cancel(self) -> None:
        """Stop the running generation within one step and drop the queued ones."""
        for job_id in self._generate_jobs():
            self.bridge.cancel(job_id)

    def load_model(self, source: str) -> str:
        """Load ``source`` on the worker, into the engine cache the generations use."""
        factory = self.bridge.queue.engine_factory

        def run(on_event: Any, cancel: Any) -> list[Any]:
            engine = factory(InpaintRequest(engine="diffusion", model=source))
            load = getattr(engine, "load", None)
            if load is not None:
                load(on_event)
            return [getattr(engine, "model_name", "") or Path(source).name]

        self.model_label.setText(f"Model: loading {Path(source).name}…")
        self.panel.set_model_progress(0.0, "Loading…")
        job_id = self.bridge.submit_call(run, label=f"load {source}")
        self.jobs[job_id] = _Job("load", model=source)
        return job_id

    def refresh_device(self) -> None:
        """Device + memory for the status bar, asked on the worker (after each generation too)."""
        if self._closed or not self._query_device:
            return
        first = not self._tuned
        self._tuned = True

        def run(_e: Any, _c: Any) -> list[Any]:
            if first:  # the first job on the worker: before any generation
                leave_a_core_to_the_window()
            return [describe_device()]

        job_id = self.bridge.submit_call(run, label="device")
        self.jobs[job_id] = _Job("device")

    # -- bridge signals ---------------------------------------------------------------------------
    def _on_started(self, job_id: str, _label: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        job.started = True
        if job.kind == "generate":
            self.panel.set_progress(0.0, self._progress_text("Starting…"))

    def _progress_text(self, text: str) -> str:
        queued = sum(1 for j in self._generate_jobs() if not self.jobs[j].started)
        return text + (f"  ·  {queued} queued" if queued else "")

    def _on_progress(self, job_id: str, fraction: float, step: int, total: int, msg: str) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        loading = msg.startswith(("loading model", "model ")) or job.kind == "load"
        if loading and job.kind != "device":
            self.panel.set_model_progress(fraction, msg or "Loading…")
        if job.kind == "generate":
            job.stepped = job.stepped or step > 0
            text = f"Step {step}/{total}" if total else (msg or "Working…")
            if step and total:
                now = time.monotonic()
                if job.first_step is None or step < job.first_step[0]:
                    job.first_step = (step, now)  # (a second batch of seeds starts again)
                elif step - job.first_step[0] >= 2:
                    per_step = (now - job.first_step[1]) / (step - job.first_step[0])
                    text += f"  ·  {format_duration(per_step * (total - step))} left"
            self.panel.set_progress(fraction if step else 0.0, self._progress_text(text))

    def _on_preview(self, job_id: str, rgb: Any) -> None:
        job = self.jobs.get(job_id)
        if job is None or job.box is None or job.document is not self.host.document:
            return
        alpha = job.alpha
        if alpha is not None and alpha.shape != rgb.shape[:2]:
            alpha = cv2.resize(alpha, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_AREA)
        self._step_preview = (job.box, overlay_image(rgb, alpha))
        self._refresh_overlay()

    def _on_results(self, job_id: str, results: list[Any]) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        if job.kind == "device":
            self.device_label.setText(f"Device: {results[0]}" if results else "Device: ?")
        elif job.kind == "load":
            self._model_loaded(str(results[0]) if results else None)
        elif job.kind == "generate":
            self._step_preview = None
            model = next((r.info.get("model") for r in results if r.info.get("model")), None)
            if job.request is not None and job.request.engine == "diffusion":
                self._model_loaded(model or self.model_name)
            if job.document is not self.host.document:
                return  # made for a picture that is no longer open
            self._show_new_candidates(job_id, results, model, job.document)

    def _model_loaded(self, name: str | None) -> None:
        self.model_name = name
        self.model_label.setText(f"Model: {name}" if name else "Model: none loaded")
        self.panel.set_model_progress(None)
        self.panel.set_model_error(None)

    def _on_failed(self, job_id: str, message: str) -> None:
        job = self.jobs.get(job_id)
        if job is None or job.kind == "device":
            return
        # a diffusion generation that fails before its first step failed to load its model
        loading = job.kind == "generate" and not job.stepped and job.request is not None
        if job.kind == "load" or (loading and job.request.engine == "diffusion"):
            self.panel.set_model_progress(None)
            source = job.model if job.kind == "load" else job.request.model
            if source:
                self.panel.set_model_error(source, message)
                self.model_name = None
                self.model_label.setText("Model: none (loading failed)")
        what = "Loading the model" if job.kind == "load" else "Generation"
        self.panel.show_message(f"{what} failed: {message}")
        self._status(f"{what} failed: {message}")

    def _on_cancelled(self, job_id: str) -> None:
        job = self.jobs.get(job_id)
        if job is not None and job.kind == "generate":
            self._status("Generation cancelled")
            self.panel.set_progress(0.0, "Cancelled")

    def _on_finished(self, job_id: str) -> None:
        job = self.jobs.pop(job_id, None)
        if job is None or job.kind != "generate":
            return
        self._step_preview = None
        self._refresh_overlay()
        if not self._generate_jobs() and self.panel.progress_bar.format().startswith(
            ("Step", "Starting", "Running")
        ):
            self.panel.set_progress(1.0, "Done")
        self._update_busy()
        QTimer.singleShot(0, self.refresh_device)  # memory use changed

    def _update_busy(self) -> None:
        busy = bool(self._generate_jobs())
        self.cancel_action.setEnabled(busy)
        self.panel.cancel_button.setEnabled(busy)
        self.panel.generate_button.setText("Queue Another" if busy else "Generate")

    def _status(self, text: str) -> None:
        window = self.panel.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(text, 8000)

    # -- window events, a new picture -----------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return self._before_after_key(event)
        if kind == QEvent.Type.Close and obj is self.parent() and not self._closed:
            # the window may still refuse to close (unsaved work): decide once it has
            QTimer.singleShot(0, self._shutdown_if_closed)
        return False

    def _shutdown_if_closed(self) -> None:
        window = self.parent()
        if isinstance(window, QWidget) and not window.isVisible():
            self.shutdown()

    def document_changed(self, doc: Any) -> None:
        """A new picture: candidates and queued runs of the old one no longer apply."""
        self.cancel()
        self._step_preview = None
        self.candidates.clear()
        self._watch_layers(doc)
        self._refresh_overlay()
        self.host.hide_mask_overlay(False)
        if doc is not None:
            self.offer_parameters(dict(getattr(doc, "text", {}) or {}), doc.photo.name)

    # -- lifetime ---------------------------------------------------------------------------------
    def save_settings(self) -> None:
        self.panel.save_settings(self.settings)
        self.settings.sync()

    def shutdown(self) -> None:
        """Save settings, cancel everything, stop the worker (waits a few seconds at most)."""
        if self._closed:
            return
        self._closed = True
        server = getattr(self, "window_server", None)  # Generate ▸ Engine… ▸ serve this window
        if server is not None:
            server.stop()
        self.save_settings()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.bridge.cancel_all()
        self.bridge.shutdown()


def make_bridge(engine_factory: Any, parent: QObject | None = None) -> EngineBridge:
    """The window's bridge (the queue throttles progress and previews on separate clocks)."""
    return EngineBridge(engine_factory=engine_factory, parent=parent)
