"""Generation in the window: the core :class:`~inpaint_core.generation_model.GenerationModel` and
the widgets bound to it.

Everything that touches torch runs on the bridge's ONE worker thread (model loading, generation,
even the device query for the status bar); the bridge hands every engine event to this object on
the GUI thread, which folds it into the model (:meth:`GenerationModel.handle`). The widgets follow
the model's typed events: progress text is made from a :class:`~inpaint_core.generation_model.
JobState`, the model field from a :class:`~inpaint_core.generation_model.ModelState`; nothing is
read back from a label.

The parts, each passed what it needs: :class:`~desktop.generation.panel.ParametersPanel` (the
request), :class:`~desktop.generation.tray.CandidatesTray` (the candidate history),
:class:`~desktop.generation.candidates.CanvasPreview` (the overlay),
:class:`~desktop.generation.candidates.CandidateActions` (keep, use settings),
:class:`~desktop.generation.files.ParameterFiles` (PNG parameters),
:class:`~desktop.generation.engine_settings.EngineSettings` (this machine or a remote server;
serving this window) and :class:`~desktop.generation.actions.GenerationActions`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QWidget

from desktop.engine_bridge import EngineBridge
from desktop.generation.actions import GenerationActions
from desktop.generation.candidates import CandidateActions, CanvasPreview
from desktop.generation.engine_settings import EngineLocation, EngineSettings
from desktop.generation.files import ParameterFiles
from desktop.generation.host import (
    DocumentHost,
    StudioEngineCache,
    describe_device,
    leave_a_core_to_the_window,
)
from desktop.generation.panel import ParametersPanel
from desktop.generation.settings import restore_state, save_state
from desktop.generation.tray import CandidatesTray
from inpaint_core.errors import RequestValidationError
from inpaint_core.events import EngineEvent
from inpaint_core.generation_model import (
    DeviceInfo,
    GenerationModel,
    JobKind,
    JobState,
    JobStatus,
    ModelState,
    ModelStatus,
)
from inpaint_core.models import list_models
from inpaint_core.service.remote import list_server_models
from inpaint_core.sweep import format_duration


def progress_text(state: JobState, queued: int) -> tuple[float, str]:
    """The progress bar of a generation: (fraction, text)."""
    if state.status is JobStatus.QUEUED:
        text = "Running"
    elif state.total:
        text = f"Step {state.step}/{state.total}"
        if state.eta_s is not None:
            text += f"  ·  {format_duration(state.eta_s)} left"
    else:
        text = "Starting…"
    return state.fraction, text + (f"  ·  {queued} queued" if queued else "")


def model_text(state: ModelState) -> str:
    name = state.name or (Path(state.source).name if state.source else "")
    if state.status is ModelStatus.LOADING:
        return f"Model: loading {name}…"
    if state.status is ModelStatus.LOADED:
        # the memory-ladder rung, when the engine reports one (inpaint_core.models.memory)
        return f"Model: {name}" + (f"  ·  memory: {state.memory}" if state.memory else "")
    if state.status is ModelStatus.FAILED:
        return "Model: none (loading failed)"
    return "Model: none loaded"


class GenerationController(QObject):
    """Owns the generation model and the parts bound to it (see the module docstring)."""

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
        self.settings = settings if settings is not None else QSettings()
        self.model = GenerationModel()
        restore_state(self.model, self.settings)
        self.model.set_document(host.document)
        if bridge is None:
            self.engine_cache: Any = StudioEngineCache()
            bridge = EngineBridge(engine_factory=self.engine_cache, parent=self)
        else:
            self.engine_cache = bridge.queue.engine_factory
        self.bridge = bridge
        self.model.attach(bridge)
        self._allow_plain_models()
        bridge.event_received.connect(self._on_engine_event)  # queued onto the GUI thread

        self.panel = ParametersPanel(self.model, settings=self.settings)
        self.tray = CandidatesTray(history=self.model.candidates)
        self.preview = CanvasPreview(host, self.tray, self.panel.window)
        self.candidates = CandidateActions(
            self.model, host, self.tray, self.panel, self.preview, self.status_message
        )
        self.files = ParameterFiles(host, self.panel, self.status_message, self.settings)
        self.tray.save_requested.connect(lambda c: self.files.save_candidate(c))
        self.engine = EngineSettings(
            self.settings,
            self.engine_cache if isinstance(self.engine_cache, StudioEngineCache) else None,
            bridge.queue,
            lambda: self.panel.picker.current or self.model.request.model,
            self._message,
            self._engine_changed,
            self.panel,
        )
        self.actions = GenerationActions(
            self,
            self.panel,
            self.model,
            {
                "generate": self.generate,
                "cancel": self.cancel,
                "save": self.files.save_with_parameters,
                "open_params": self.files.open_parameters,
                "rescan": self.rescan_models,
                "engine": self.engine.edit,
            },
        )
        self.device_label = QLabel("Device: …", objectName="deviceStatus")
        self.device_label.setToolTip("Where generation runs (checked on the worker thread)")
        self.model_label = QLabel(model_text(self.model.model_state), objectName="modelStatus")
        for label in (self.device_label, self.model_label):
            label.setContentsMargins(6, 0, 6, 0)
            label.setMinimumWidth(24)  # may be clipped: the status bar must not widen the window
        self._closed = False
        self._tuned = False
        self._query_device = query_device
        self._bind()
        self.rescan_models()
        self.engine.apply(self.engine.location)  # the saved choice (may refresh the device)

    def _bind(self) -> None:
        ev = self.model.events
        ev.job_state_changed.connect(self._job_state_changed)
        ev.progress.connect(self._progress)
        ev.preview.connect(self.preview.show_step)
        ev.busy_changed.connect(self.panel.set_busy)
        ev.message.connect(self._message)
        ev.model_changed.connect(lambda s: self.model_label.setText(model_text(s)))
        ev.device_changed.connect(self._device_changed)
        ev.choices_changed.connect(self._allow_plain_models)
        self.panel.generate_clicked.connect(self.generate)
        self.panel.cancel_clicked.connect(self.cancel)
        self.panel.picker.chosen.connect(self.load_model)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.preview)  # the before/after key

    def _allow_plain_models(self) -> None:
        """The plain models the user agreed to run as masked img2img, for the engine cache."""
        allowed = getattr(self.engine_cache, "allow_non_inpainting", None)
        if isinstance(allowed, set):
            allowed.clear()
            allowed.update(self.model.img2img_models)

    def _on_engine_event(self, event: EngineEvent) -> None:
        self.model.handle(event)

    # -- commands ---------------------------------------------------------------------------------
    def rescan_models(self) -> None:
        """Fill the model picker from disk; with no inpainting model found, the classical engine
        (no weights) is chosen."""
        try:
            models = list_models()
        except Exception as exc:  # noqa: BLE001 - a broken models folder must not stop the window
            models = []
            self.panel.show_message(f"Could not list the models: {exc}")
        self.panel.picker.set_models(models)
        self.panel.fill_erase_models()
        if not any(m.is_inpainting for m in models) and not self.panel.picker.current:
            self.panel.engine_combo.setCurrentIndex(self.panel.engine_combo.findData("classical"))
        source = self.panel.picker.current
        if self.panel.engine == "diffusion" and source and self.model.model_state.name is None:
            self.model_label.setText(f"Model: {Path(source).name} (not loaded yet)")

    def generate(self) -> str | None:
        """Queue a generation with the panel's parameters (never blocks; a run already going is
        not disturbed). Returns the job id, or None when something is missing (said in the panel)."""
        if self.panel.validate() is None:
            self.panel.show_message("Fix the marked field first.")
            return None
        picture, mask = self.host.picture(), self.host.mask()
        if picture is None or mask is None:
            self.panel.show_message("Open a photo first.")
            return None
        if not np.any(mask):
            self.panel.show_message("the mask is empty: paint or load the area to fill  (B: brush)")
            return None
        if self.model.document is not self.host.document:
            self.document_changed(self.host.document)
        try:
            job_id = self.model.generate(picture, mask)
        except RequestValidationError as exc:
            self.panel.show_field_error(exc.field, str(exc))
            return None
        self.panel.show_message("")
        return job_id

    def cancel(self) -> None:
        """Stop the running generation within one step and drop the queued ones."""
        self.model.cancel()

    def load_model(self, source: str) -> str:
        """Load ``source`` on the worker, into the engine cache the generations use."""
        return self.model.load_model(source)

    def refresh_device(self) -> None:
        """Device + memory for the status bar, asked on the worker (after each generation too)."""
        if self._closed or not self._query_device:
            return
        if self.engine.location.remote:
            self.device_label.setText(f"Device: remote server {self.engine.location.url}")
            return
        first = not self._tuned
        self._tuned = True

        def describe() -> DeviceInfo:
            if first:  # the first job on the worker: before any generation
                leave_a_core_to_the_window()
            return describe_device()

        self.model.query_device(describe)

    # -- the model's events -------------------------------------------------------------------------
    def _job_state_changed(self, state: JobState) -> None:
        if state.kind is not JobKind.GENERATE:
            return
        others = [j for j in self.model.generation_ids() if j != state.id]
        queued = self.model.queued_count()
        if state.status is JobStatus.QUEUED and others:
            current = self.panel.progress_bar.value() / 1000
            self.panel.set_progress(current, progress_text(state, queued)[1])
        elif state.status is JobStatus.RUNNING:
            self.panel.set_progress(*progress_text(state, queued))
        elif state.status is JobStatus.DONE and not others:
            self.panel.set_progress(1.0, "Done")
        elif state.status is JobStatus.CANCELLED:
            self.status_message("Generation cancelled")
            self.panel.set_progress(0.0, "Cancelled")
        if state.status.final:
            self.preview.clear_step()
            QTimer.singleShot(0, self.refresh_device)  # memory use changed

    def _progress(self, state: JobState) -> None:
        self.panel.set_progress(*progress_text(state, self.model.queued_count()))

    def _message(self, text: str) -> None:
        self.panel.show_message(text)
        self.status_message(text)

    def _engine_changed(self, location: EngineLocation, served_url: str | None) -> None:
        """Generate ▸ Engine… chose where generation runs (and whether this window is served)."""
        self.refresh_device()
        self.panel.picker.set_server_models([])
        if location.remote and not self._closed:
            # asked on the worker (a network call): the server's models join the picker
            url, token = location.url, location.token or None
            self.model.run_call(
                lambda _e, _c: list_server_models(url, token),
                lambda slugs: self._server_models(location, slugs),
                "server models",
            )
        tip = "Where generation runs (checked on the worker thread)"
        if served_url:
            tip += f"\nThis window is served to scripts at {served_url}"
            self.status_message(f"Serving this window at {served_url}")
        self.device_label.setToolTip(tip)

    def _server_models(self, location: EngineLocation, slugs: list[str]) -> None:
        if self.engine.location == location:  # still the server in use
            self.panel.picker.set_server_models(slugs)

    def _device_changed(self, info: DeviceInfo) -> None:
        if self.engine.location.remote:
            return  # an answer about this machine, asked before the switch to a server
        self.device_label.setText(f"Device: {info.label}")

    def status_message(self, text: str) -> None:
        window = self.panel.window()
        if isinstance(window, QMainWindow):
            window.statusBar().showMessage(text, 8000)

    # -- window events, a new picture -----------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Close and obj is self.parent() and not self._closed:
            # the window may still refuse to close (unsaved work): decide once it has
            QTimer.singleShot(0, self._shutdown_if_closed)
        return False

    def _shutdown_if_closed(self) -> None:
        window = self.parent()
        if isinstance(window, QWidget) and not window.isVisible():
            self.shutdown()

    def document_changed(self, doc: Any) -> None:
        """A new picture: candidates and queued runs of the old one no longer apply."""
        self.model.set_document(doc)
        self.candidates.watch(doc)
        self.preview.clear_step()
        self.host.hide_mask_overlay(False)
        if doc is not None:
            # parsed on the loading thread (Document.from_image), never here on the GUI thread
            self.files.offer_parameters(getattr(doc, "parameters", None), doc.photo.name)

    # -- lifetime ---------------------------------------------------------------------------------
    def save_settings(self) -> None:
        self.panel.validate()  # an edit still waiting for its validation goes in first
        save_state(self.model, self.settings)
        self.settings.sync()

    def shutdown(self) -> None:
        """Save settings, cancel everything, stop the worker (waits a few seconds at most)."""
        if self._closed:
            return
        self._closed = True
        self.engine.stop()  # scripts' predictions end here, before the worker stops
        self.save_settings()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.preview)
        self.bridge.cancel_all()
        self.bridge.shutdown()
