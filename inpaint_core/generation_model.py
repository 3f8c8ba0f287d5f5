"""The generation model: the state of "make candidates for this picture", without Qt.

It holds the current :class:`~inpaint_core.request.InpaintRequest` plus the choices that only the
UI makes (seed lock, size mode, model files the user opened), the typed state of every job
(:class:`JobState`), the state of the model load (:class:`ModelState`) and the
:class:`~inpaint_core.candidates.CandidateHistory` of the open picture. It persists itself
(:meth:`GenerationModel.to_dict` / :meth:`GenerationModel.from_dict`) and announces every change as
a typed event (:class:`GenerationEvents`), so widgets bind to it both ways and never read state back
from display text. (Krita AI Diffusion keeps ``model/model.py`` apart from ``ui/``; napari keeps
evented models under thin Qt views: same idea.)

It talks to an :class:`EngineClient` (the local :class:`~inpaint_core.jobs.JobQueue` is one; a
remote client only has to speak the same small protocol) and is fed that client's
:class:`~inpaint_core.events.EngineEvent` stream through :meth:`GenerationModel.handle`. The model
is not thread-safe: call ``handle`` on the thread that owns the model (the GUI forwards worker
events to its own thread first).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from .candidates import Candidate, CandidateHistory
from .document.evented import Emitter
from .errors import InpaintError, RequestValidationError
from .events import EngineEvent
from .inpaint import InpaintResult
from .masks import BBox
from .request import InpaintRequest, follow_seam_defaults

#: the persisted format's version (``to_dict``); ``from_dict`` reads older ones it knows
STATE_VERSION = 1


class EngineClient(Protocol):
    """What the model needs from whoever runs its jobs (local queue or a remote server).

    Events about the jobs come back as :class:`EngineEvent` objects, which the owner hands to
    :meth:`GenerationModel.handle` (on the model's thread)."""

    def submit(self, request: InpaintRequest, image: np.ndarray, mask: np.ndarray) -> str: ...

    def submit_load(self, source: str) -> str: ...

    def submit_call(self, run: Callable[..., list[Any]], label: str = "") -> str: ...

    def cancel(self, job_id: str | None = None) -> None: ...

    def shutdown(self) -> None: ...


# -- typed states ---------------------------------------------------------------------------------
class JobKind(enum.Enum):
    GENERATE = "generate"
    LOAD = "load"
    CALL = "call"  # anything else run on the worker (e.g. the device query)


class JobStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"

    @property
    def final(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.CANCELLED, JobStatus.FAILED)


@dataclass(frozen=True)
class JobState:
    """One job as the UI shows it. ``step``/``total`` count the engine's steps; ``eta_s`` is the
    time left once two steps were timed (None before); ``error`` is set when ``FAILED``."""

    id: str
    kind: JobKind
    status: JobStatus = JobStatus.QUEUED
    step: int = 0
    total: int = 0
    fraction: float = 0.0
    eta_s: float | None = None
    error: str | None = None
    request: InpaintRequest | None = None
    source: str | None = None  # the model a LOAD job loads
    document: Any = field(default=None, repr=False, compare=False)


class ModelStatus(enum.Enum):
    NONE = "none"
    LOADING = "loading"
    LOADED = "loaded"
    FAILED = "failed"


@dataclass(frozen=True)
class ModelState:
    """The diffusion model behind generations: ``source`` is what was asked for (path or repo id),
    ``name``/``device`` what got loaded, ``fraction`` the load progress, ``error`` why it failed."""

    status: ModelStatus = ModelStatus.NONE
    source: str | None = None
    name: str | None = None
    device: str | None = None
    fraction: float = 0.0
    error: str | None = None
    memory: str | None = None  # the memory-ladder rung, when the engine reports one


@dataclass(frozen=True)
class Preview:
    """A step preview placed on the photo: ``rgb`` (and ``alpha``, the mask) cover ``box``."""

    job_id: str
    box: BBox
    rgb: np.ndarray
    alpha: np.ndarray | None


@dataclass(frozen=True)
class DeviceInfo:
    """Where generation runs: ``kind`` is ``cuda``, ``mps`` or ``cpu``; ``label`` is for people."""

    kind: str
    label: str


class SizeMode(enum.Enum):
    AUTO = "auto"  # working size matched to the crop's aspect at target_size
    EXPLICIT = "explicit"  # width x height as given


class GenerationEvents:
    """Typed events of a :class:`GenerationModel` (each an :class:`Emitter`; arguments in brackets).

    ``request_changed(request)``, ``choices_changed()`` (seed lock, size mode),
    ``job_state_changed(JobState)``, ``progress(JobState)`` (a running job advanced),
    ``preview(Preview)``, ``results(job_id, list[Candidate])``, ``model_loading(ModelState)``,
    ``model_loaded(ModelState)``, ``model_failed(ModelState)``, ``model_changed(ModelState)``
    (every model-state change, the three above included), ``device_changed(DeviceInfo)``,
    ``busy_changed(bool)`` (generations queued or running), ``message(str)`` (a line for the user).
    """

    def __init__(self) -> None:
        self.request_changed = Emitter()
        self.choices_changed = Emitter()
        self.job_state_changed = Emitter()
        self.progress = Emitter()
        self.preview = Emitter()
        self.results = Emitter()
        self.model_loading = Emitter()
        self.model_loaded = Emitter()
        self.model_failed = Emitter()
        self.model_changed = Emitter()
        self.device_changed = Emitter()
        self.busy_changed = Emitter()
        self.message = Emitter()


# -- the model ------------------------------------------------------------------------------------
class GenerationModel:
    """See the module docstring. ``client`` may be None until :meth:`attach` (e.g. settings are
    read before the worker starts); ``clock`` is for tests of the ETA."""

    def __init__(
        self,
        client: EngineClient | None = None,
        *,
        request: InpaintRequest | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.events = GenerationEvents()
        self._request = request or InpaintRequest()
        self.seed_locked = self._request.seed is not None
        self.size_mode = SizeMode.EXPLICIT if self._request.width else SizeMode.AUTO
        self.opened_models: list[str] = []
        #: plain (4-channel) models the user chose to run as masked img2img (lower quality)
        self.img2img_models: list[str] = []
        self.model_state = ModelState()
        self.device: DeviceInfo | None = None
        #: every candidate of the open picture
        self.candidates = CandidateHistory()
        #: jobs not finished yet, by id, in submission order
        self.jobs: dict[str, JobState] = {}
        self.document: Any = None
        self._clock = clock
        self._first_step: dict[str, tuple[int, float]] = {}
        self._stepped: set[str] = set()
        self._calls: dict[str, Callable[[list[Any]], None]] = {}

    def attach(self, client: EngineClient) -> None:
        self.client = client

    # -- the request and the UI-only choices ---------------------------------------------------------
    @property
    def request(self) -> InpaintRequest:
        return self._request

    def set_request(self, request: InpaintRequest) -> None:
        """A new (valid) request; a concrete seed locks it, an explicit size sets the size mode.

        Taken as it is, grow/feather included: a whole request (a PNG's parameters, a candidate's)
        carries the values it was made with, and an explicit 0/0 on a diffusion request is not the
        classical engine's default left behind (replacing it would break the replay)."""
        self.seed_locked = request.seed is not None
        self.size_mode = SizeMode.EXPLICIT if request.width and request.height else SizeMode.AUTO
        self._set(request, follow_engine=False)
        self.events.choices_changed.emit()

    def edit(self, request: InpaintRequest, *, seed_locked: bool, size_mode: SizeMode) -> None:
        """The request and the choices together, as a form edits them (the seed may be kept
        while unlocked: it is remembered, not used)."""
        choices = (seed_locked, size_mode) != (self.seed_locked, self.size_mode)
        self.seed_locked, self.size_mode = seed_locked, size_mode
        self._set(request)
        if choices:
            self.events.choices_changed.emit()

    def update(self, **changes: Any) -> InpaintRequest:
        """Change some fields; raises :class:`RequestValidationError` (nothing changes) when the
        result is invalid."""
        self._set(replace(self._request, **changes))
        return self._request

    def _set(self, request: InpaintRequest, *, follow_engine: bool = True) -> None:
        """``follow_engine``: an edit that switches the engine moves grow/feather still at the old
        engine's defaults to the new one's; a whole request set or restored keeps its own."""
        if follow_engine:
            request = _follow_seam_defaults(self._request, request)
        if request != self._request:
            self._request = request
            self.events.request_changed.emit(request)

    def set_seed_locked(self, locked: bool) -> None:
        if locked != self.seed_locked:
            self.seed_locked = locked
            self.events.choices_changed.emit()

    def set_size_mode(self, mode: SizeMode) -> None:
        if mode != self.size_mode:
            self.size_mode = mode
            self.events.choices_changed.emit()

    def add_opened_model(self, source: str) -> None:
        """Remember a model file/folder the user opened (the picker lists it; persisted)."""
        if source and source not in self.opened_models:
            self.opened_models.append(source)

    def allow_masked_img2img(self, source: str) -> None:
        """The user agreed to run the plain (non-inpainting) model ``source`` as masked img2img
        (the engine's ``allow_non_inpainting``); remembered and persisted."""
        if source and source not in self.img2img_models:
            self.img2img_models.append(source)
            self.events.choices_changed.emit()

    def effective_request(self) -> InpaintRequest:
        """The request a generation runs: a random seed when the seed is not locked, the working
        size only in explicit mode, no model for the classical engine."""
        req = self._request
        changes: dict[str, Any] = {}
        if not self.seed_locked:
            changes.update(seed=None, seeds=None)
        if self.size_mode is SizeMode.AUTO:
            changes.update(width=None, height=None)
        if req.engine not in ("diffusion", "erase"):
            changes.update(model=None)
        return replace(req, **changes) if changes else req

    # -- persistence ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """What to remember between sessions (the request and the UI's choices; no jobs)."""
        return {
            "version": STATE_VERSION,
            "request": self._request.to_dict(),
            "seed_locked": self.seed_locked,
            "size_mode": self.size_mode.value,
            "opened_models": list(self.opened_models),
            "img2img_models": list(self.img2img_models),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], client: EngineClient | None = None) -> GenerationModel:
        """Read :meth:`to_dict`'s output; unreadable parts keep their defaults (a settings file from
        another version must never stop the window)."""
        model = cls(client)
        model.restore(data)
        return model

    def restore(self, data: dict[str, Any]) -> None:
        """:meth:`from_dict` into this model (events announce what changed)."""
        if not isinstance(data, dict):
            return
        raw = data.get("request")
        if isinstance(raw, dict):
            try:
                self._set(InpaintRequest.from_dict(raw), follow_engine=False)
            except (RequestValidationError, TypeError, ValueError):
                pass
        self.seed_locked = bool(data.get("seed_locked", self._request.seed is not None))
        try:
            self.size_mode = SizeMode(data.get("size_mode", self.size_mode.value))
        except ValueError:
            pass
        models = data.get("opened_models")
        if isinstance(models, list):
            self.opened_models = [m for m in models if isinstance(m, str) and m]
        plain = data.get("img2img_models")
        if isinstance(plain, list):
            self.img2img_models = [m for m in plain if isinstance(m, str) and m]
        self.events.choices_changed.emit()

    # -- the picture ---------------------------------------------------------------------------------
    def set_document(self, document: Any) -> None:
        """A new picture: its candidates start empty, queued and running runs of the old one stop."""
        self.cancel()
        self.document = document
        self.candidates.clear()

    def canvas_moved(self, dx: int, dy: int, size: tuple[int, int]) -> list[Candidate]:
        """The open picture's canvas changed size, the old picture now at (dx, dy) of the new
        one (Extend canvas, or its undo). Its candidates move with it (none is lost); those
        that would fall outside are dropped and returned. Runs started on the old canvas are
        stopped and their results ignored: they would land in the wrong place."""
        self.cancel()
        for job_id, state in list(self.jobs.items()):
            if state.kind is JobKind.GENERATE:
                self.jobs[job_id] = replace(state, document=None)  # made for the old canvas
        return self.candidates.move_by(dx, dy, size, self.document)

    # -- jobs ----------------------------------------------------------------------------------------
    def _require_client(self) -> EngineClient:
        if self.client is None:
            raise InpaintError("no engine to run on (the worker is not started)")
        return self.client

    def generate(self, image: np.ndarray, mask: np.ndarray) -> str:
        """Queue a generation of :meth:`effective_request` on ``image`` (flattened picture) and
        ``mask``; returns the job id. Never blocks; a run already going is not disturbed."""
        req = self.effective_request()
        if req.engine == "diffusion" and not req.model:
            raise RequestValidationError(
                "model", "the diffusion engine needs a model: choose one or open a model file"
            )
        if req.engine == "erase" and not req.model:
            raise RequestValidationError(
                "model", "the erase engine needs a model: a LaMa or MI-GAN TorchScript file"
            )
        job_id = self._require_client().submit(req, image, mask)
        self._add_job(JobState(job_id, JobKind.GENERATE, request=req, document=self.document))
        self.events.busy_changed.emit(True)
        return job_id

    def load_model(self, source: str) -> str:
        """Load ``source`` on the worker (into the cache the generations use)."""
        job_id = self._require_client().submit_load(source)
        self._add_job(JobState(job_id, JobKind.LOAD, source=source))
        self._set_model(ModelState(ModelStatus.LOADING, source=source))
        return job_id

    def run_call(
        self, run: Callable[..., list[Any]], on_result: Callable[[list[Any]], None], label: str
    ) -> str:
        """Run ``run(on_event, cancel)`` on the worker; ``on_result(results)`` here when it ends."""
        job_id = self._require_client().submit_call(run, label)
        self._add_job(JobState(job_id, JobKind.CALL))
        self._calls[job_id] = on_result
        return job_id

    def query_device(self, describe: Callable[[], DeviceInfo]) -> str:
        """Ask the worker where generation runs (``describe()`` there); ``device_changed`` tells."""
        return self.run_call(lambda _e, _c: [describe()], self._device_result, "device")

    def _device_result(self, results: list[Any]) -> None:
        info = results[0] if results else None
        self.device = info if isinstance(info, DeviceInfo) else DeviceInfo("cpu", str(info))
        self.events.device_changed.emit(self.device)

    def cancel(self) -> None:
        """Stop the running generation within one step and drop the queued ones."""
        if self.client is None:
            return
        for job_id in self.generation_ids():
            self.client.cancel(job_id)

    def generation_ids(self) -> list[str]:
        return [j for j, s in self.jobs.items() if s.kind is JobKind.GENERATE]

    @property
    def busy(self) -> bool:
        """Generations queued or running."""
        return bool(self.generation_ids())

    def queued_count(self) -> int:
        return sum(
            1
            for s in self.jobs.values()
            if s.kind is JobKind.GENERATE and s.status is JobStatus.QUEUED
        )

    def _add_job(self, state: JobState) -> None:
        self.jobs[state.id] = state
        self.events.job_state_changed.emit(state)

    def _update_job(self, state: JobState) -> None:
        self.jobs[state.id] = state
        self.events.job_state_changed.emit(state)

    def _set_model(self, state: ModelState) -> None:
        if state == self.model_state:
            return
        self.model_state = state
        if state.status is ModelStatus.LOADING:
            self.events.model_loading.emit(state)
        elif state.status is ModelStatus.LOADED:
            self.events.model_loaded.emit(state)
        elif state.status is ModelStatus.FAILED:
            self.events.model_failed.emit(state)
        self.events.model_changed.emit(state)

    # -- the engine's event stream -------------------------------------------------------------------
    def handle(self, event: EngineEvent) -> None:
        """Fold one event of the client's stream into the state (events of unknown jobs, e.g. a
        compare sweep on the same worker, are ignored)."""
        job = self.jobs.get(event.job_id)
        if job is None:
            return
        handler = _HANDLERS.get(event.kind)
        if handler is not None:
            handler(self, job, event)

    def _on_started(self, job: JobState, _event: EngineEvent) -> None:
        self._update_job(replace(job, status=JobStatus.RUNNING))

    def _on_progress(self, job: JobState, event: EngineEvent) -> None:
        if event.phase == "load":
            source = job.source or (job.request.model if job.request else None)
            self._set_model(
                ModelState(ModelStatus.LOADING, source=source, fraction=float(event.progress))
            )
            return
        if job.kind is not JobKind.GENERATE:
            return
        step, total = event.step, event.total_steps
        if step > 0:
            self._stepped.add(job.id)
        eta = job.eta_s
        if step and total:
            now = self._clock()
            first = self._first_step.get(job.id)
            if first is None or step < first[0]:
                self._first_step[job.id] = (step, now)  # (a second batch of seeds starts again)
                eta = None
            elif step - first[0] >= 2:
                eta = (now - first[1]) / (step - first[0]) * (total - step)
        state = replace(
            job,
            status=JobStatus.RUNNING,
            step=step,
            total=total,
            fraction=float(event.progress) if step else 0.0,
            eta_s=eta,
        )
        self.jobs[job.id] = state
        self.events.progress.emit(state)

    def _on_preview(self, job: JobState, event: EngineEvent) -> None:
        if (
            job.kind is JobKind.GENERATE
            and event.preview is not None
            and event.box is not None
            and job.document is self.document
        ):
            self.events.preview.emit(Preview(job.id, event.box, event.preview, event.preview_alpha))

    def _on_result(self, job: JobState, event: EngineEvent) -> None:
        self._update_job(replace(job, status=JobStatus.DONE, fraction=1.0, eta_s=None))
        if job.kind is JobKind.CALL:
            on_result = self._calls.pop(job.id, None)
            if on_result is not None:
                on_result(list(event.images))
        elif job.kind is JobKind.LOAD:
            info = event.images[0] if event.images else None
            name = getattr(info, "name", None) or (str(info) if info else job.source)
            device = getattr(info, "device", None)
            memory = getattr(info, "memory", None)
            self._set_model(
                ModelState(ModelStatus.LOADED, job.source, name, device, 1.0, memory=memory)
            )
        else:
            self._generation_results(job, [r for r in event.images if isinstance(r, InpaintResult)])

    def _generation_results(self, job: JobState, results: list[InpaintResult]) -> None:
        model = next((r.info.get("model") for r in results if r.info.get("model")), None)
        if job.request is not None and job.request.engine == "diffusion":
            device = next((r.info.get("device") for r in results if r.info.get("device")), None)
            memory = next((r.info.get("memory") for r in results if r.info.get("memory")), None)
            current = self.model_state
            self._set_model(
                ModelState(
                    ModelStatus.LOADED,
                    job.request.model,
                    model or current.name,
                    device or current.device,
                    1.0,
                    memory=memory or current.memory,
                )
            )
        if job.document is not self.document:
            return  # made for a picture that is no longer open
        added = self.candidates.add_results(results, job.id, model, job.document)
        self.events.results.emit(job.id, added)

    def _on_error(self, job: JobState, event: EngineEvent) -> None:
        message = event.error or "unknown error"
        self._update_job(replace(job, status=JobStatus.FAILED, error=message, eta_s=None))
        self._calls.pop(job.id, None)
        # a diffusion generation that fails before its first step failed to load its model
        loading = (
            job.kind is JobKind.GENERATE
            and job.id not in self._stepped
            and job.request is not None
            and job.request.engine == "diffusion"
        )
        if job.kind is JobKind.LOAD or loading:
            source = job.source if job.kind is JobKind.LOAD else job.request.model  # type: ignore[union-attr]
            self._set_model(ModelState(ModelStatus.FAILED, source=source, error=message))
        if job.kind is not JobKind.CALL:
            what = "Loading the model" if job.kind is JobKind.LOAD else "Generation"
            self.events.message.emit(f"{what} failed: {message}")

    def _on_cancelled(self, job: JobState, _event: EngineEvent) -> None:
        self._update_job(replace(job, status=JobStatus.CANCELLED, eta_s=None))
        self._calls.pop(job.id, None)
        if job.kind is JobKind.LOAD and self.model_state.status is ModelStatus.LOADING:
            self._set_model(ModelState())

    def _on_finished(self, job: JobState, _event: EngineEvent) -> None:
        self.jobs.pop(job.id, None)
        self._first_step.pop(job.id, None)
        self._stepped.discard(job.id)
        if not job.status.final:  # finished without a verdict: count it as done
            self.events.job_state_changed.emit(replace(job, status=JobStatus.DONE))
        if job.kind is JobKind.GENERATE and not self.busy:
            self.events.busy_changed.emit(False)


_HANDLERS: dict[str, Callable[[GenerationModel, JobState, EngineEvent], None]] = {
    "started": GenerationModel._on_started,
    "progress": GenerationModel._on_progress,
    "preview": GenerationModel._on_preview,
    "result": GenerationModel._on_result,
    "error": GenerationModel._on_error,
    "cancelled": GenerationModel._on_cancelled,
    "finished": GenerationModel._on_finished,
}

__all__ = [
    "DeviceInfo",
    "EngineClient",
    "GenerationEvents",
    "GenerationModel",
    "JobKind",
    "JobState",
    "JobStatus",
    "ModelState",
    "ModelStatus",
    "Preview",
    "SizeMode",
]


def _follow_seam_defaults(old: InpaintRequest, new: InpaintRequest) -> InpaintRequest:
    """Grow/feather follow the engine until the user changes them (see
    :func:`~inpaint_core.request.follow_seam_defaults`)."""
    if new.engine == old.engine:
        return new
    grow, feather = follow_seam_defaults(old.engine, new.engine, new.mask_grow, new.mask_feather)
    return replace(new, mask_grow=grow, mask_feather=feather)
