"""The core generation model without Qt: request and choices, persistence, typed job and
model-load states folded from an engine's event stream, placed previews, candidates."""

import json
import queue

import numpy as np
import pytest

from inpaint_core.errors import RequestValidationError
from inpaint_core.events import EngineEvent
from inpaint_core.generation_model import (
    DeviceInfo,
    GenerationModel,
    JobKind,
    JobStatus,
    ModelState,
    ModelStatus,
    SizeMode,
)
from inpaint_core.inpaint import InpaintResult, plan_for
from inpaint_core.jobs import JobQueue, LoadedModelInfo
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest
from tests.engines_for_tests import SolidFillEngine


class FakeClient:
    """Records what the model asks for; the test plays the engine's events back."""

    def __init__(self):
        self.submitted, self.cancelled, self.n = [], [], 0

    def _id(self):
        self.n += 1
        return f"job-{self.n}"

    def submit(self, request, image, mask):
        self.submitted.append(("generate", request))
        return self._id()

    def submit_load(self, source):
        self.submitted.append(("load", source))
        return self._id()

    def submit_call(self, run, label=""):
        self.submitted.append(("call", run))
        return self._id()

    def cancel(self, job_id=None):
        self.cancelled.append(job_id)

    def shutdown(self):
        pass


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def _recorder(model):
    seen = []
    for name in ("job_state_changed", "progress", "results", "model_changed", "busy_changed"):
        getattr(model.events, name).connect(lambda *a, n=name: seen.append((n, a)))
    return seen


def _inputs():
    photo = np.full((64, 96, 3), 120, np.uint8)
    mask = np.zeros((64, 96), np.uint8)
    mask[20:30, 40:60] = 255
    return photo, mask


def _result(req, seed=None, **info):
    return InpaintResult(BBox(0, 0, 4, 4), np.zeros((4, 4, 3), np.uint8), seed, req, info=info)


# -- the request, the choices, persistence ----------------------------------------------------------
def test_request_round_trip_through_to_dict_and_from_dict():
    model = GenerationModel()
    req = InpaintRequest(
        prompt="a cat\non a mat",
        engine="diffusion",
        model="/models/x.safetensors",
        seed=7,
        width=512,
        height=384,
        options={"method": "telea", "batch_seeds": [7, 8]},
    )
    model.set_request(req)
    model.add_opened_model("/models/x.safetensors")
    data = json.loads(json.dumps(model.to_dict()))  # what settings store: plain JSON
    again = GenerationModel.from_dict(data)
    assert again.request == req
    assert again.seed_locked and again.size_mode is SizeMode.EXPLICIT
    assert again.opened_models == ["/models/x.safetensors"]
    assert again.to_dict() == model.to_dict()


def test_unlocked_seed_and_auto_size_are_left_out_of_the_run():
    model = GenerationModel(request=InpaintRequest(seed=5, width=256, height=256))
    assert model.effective_request().seed == 5
    model.set_seed_locked(False)
    model.set_size_mode(SizeMode.AUTO)
    run = model.effective_request()
    assert run.seed is None and run.width is None and run.height is None
    # the choices persist, the request keeps the values for when they are switched back
    again = GenerationModel.from_dict(model.to_dict())
    assert not again.seed_locked and again.size_mode is SizeMode.AUTO
    assert again.request.seed == 5 and again.request.width == 256


def test_an_unreadable_settings_blob_keeps_the_defaults():
    model = GenerationModel.from_dict({"request": {"steps": -3}, "size_mode": "sideways"})
    assert model.request == InpaintRequest() and model.size_mode is SizeMode.AUTO
    assert GenerationModel.from_dict("garbage").request == InpaintRequest()  # type: ignore[arg-type]


def test_update_validates_and_announces_the_change():
    model = GenerationModel()
    changed = []
    model.events.request_changed.connect(changed.append)
    model.update(steps=12)
    assert [r.steps for r in changed] == [12]
    with pytest.raises(RequestValidationError):
        model.update(steps=0)
    assert model.request.steps == 12 and len(changed) == 1


# -- job states -------------------------------------------------------------------------------------
def test_generation_goes_queued_running_done_with_step_total_and_eta():
    clock = Clock()
    client = FakeClient()
    model = GenerationModel(client, clock=clock)
    doc = object()
    model.set_document(doc)
    seen = _recorder(model)
    job = model.generate(*_inputs())
    assert model.jobs[job].status is JobStatus.QUEUED and model.busy
    assert model.queued_count() == 1
    model.handle(EngineEvent("started", job_id=job))
    assert model.jobs[job].status is JobStatus.RUNNING
    for step, t in ((1, 100.0), (2, 101.0), (3, 102.0)):
        clock.t = t
        model.handle(
            EngineEvent("progress", job_id=job, progress=step / 10, step=step, total_steps=10)
        )
    state = model.jobs[job]
    assert (state.step, state.total) == (3, 10)
    assert state.eta_s == pytest.approx(7.0)  # 1 s a step, 7 steps left
    req = client.submitted[0][1]
    model.handle(EngineEvent("result", job_id=job, images=[_result(req, 1), _result(req, 2)]))
    assert model.jobs[job].status is JobStatus.DONE
    assert [c.seed for c in model.candidates] == [1, 2]
    assert all(c.document is doc for c in model.candidates)
    model.handle(EngineEvent("finished", job_id=job))
    assert job not in model.jobs and not model.busy
    states = [a[0].status for n, a in seen if n == "job_state_changed"]
    assert states == [JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE]
    assert ("busy_changed", (True,)) in seen and seen[-1] == ("busy_changed", (False,))


def test_cancel_asks_the_client_and_the_job_ends_cancelled():
    client = FakeClient()
    model = GenerationModel(client)
    first = model.generate(*_inputs())
    second = model.generate(*_inputs())
    model.cancel()
    assert client.cancelled == [first, second]
    for job in (first, second):
        model.handle(EngineEvent("cancelled", job_id=job))
        assert model.jobs[job].status is JobStatus.CANCELLED
        model.handle(EngineEvent("finished", job_id=job))
    assert not model.jobs and not model.candidates


def test_a_failed_generation_carries_its_message():
    model = GenerationModel(FakeClient())
    messages = []
    model.events.message.connect(messages.append)
    job = model.generate(*_inputs())
    model.handle(EngineEvent("started", job_id=job))
    model.handle(EngineEvent("error", job_id=job, error="out of memory"))
    state = model.jobs[job]
    assert state.status is JobStatus.FAILED and state.error == "out of memory"
    assert messages == ["Generation failed: out of memory"]
    assert model.model_state.status is ModelStatus.NONE  # classical: no model involved


def test_results_of_a_picture_no_longer_open_are_dropped():
    client = FakeClient()
    model = GenerationModel(client)
    model.set_document("first")
    job = model.generate(*_inputs())
    model.set_document("second")  # cancels the old picture's runs...
    assert client.cancelled == [job]
    req = client.submitted[0][1]
    model.handle(EngineEvent("result", job_id=job, images=[_result(req, 3)]))  # ...too late
    assert not model.candidates


def test_events_of_unknown_jobs_are_ignored():
    model = GenerationModel(FakeClient())
    model.handle(EngineEvent("result", job_id="job-99", images=[1, 2]))
    assert not model.candidates and not model.jobs


def test_diffusion_without_a_model_is_refused_at_the_field():
    model = GenerationModel(FakeClient(), request=InpaintRequest(engine="diffusion"))
    with pytest.raises(RequestValidationError) as err:
        model.generate(*_inputs())
    assert err.value.field == "model"


# -- model-load states -------------------------------------------------------------------------------
def test_model_load_none_loading_loaded():
    model = GenerationModel(FakeClient())
    states = []
    model.events.model_changed.connect(states.append)
    assert model.model_state == ModelState()
    job = model.load_model("/models/tiny")
    assert model.model_state.status is ModelStatus.LOADING
    model.handle(EngineEvent("started", job_id=job))
    model.handle(EngineEvent("progress", job_id=job, progress=0.5, phase="load"))
    assert model.model_state.fraction == 0.5
    model.handle(EngineEvent("result", job_id=job, images=[LoadedModelInfo("tiny", "cpu")]))
    assert model.model_state == ModelState(ModelStatus.LOADED, "/models/tiny", "tiny", "cpu", 1.0)
    assert [s.status for s in states] == [
        ModelStatus.LOADING,
        ModelStatus.LOADING,
        ModelStatus.LOADED,
    ]


def test_model_load_failure_and_a_diffusion_run_failing_before_its_first_step():
    model = GenerationModel(FakeClient())
    job = model.load_model("/models/broken")
    model.handle(EngineEvent("error", job_id=job, error="not an inpainting model"))
    assert model.model_state.status is ModelStatus.FAILED
    assert model.model_state.error == "not an inpainting model"
    model.set_request(InpaintRequest(engine="diffusion", model="/models/other"))
    run = model.generate(*_inputs())
    model.handle(EngineEvent("progress", job_id=run, progress=0.1, phase="load"))
    assert model.model_state.status is ModelStatus.LOADING
    model.handle(EngineEvent("error", job_id=run, error="file is truncated"))
    assert model.model_state == ModelState(
        ModelStatus.FAILED, source="/models/other", error="file is truncated"
    )


def test_a_diffusion_result_marks_its_model_loaded_with_the_device():
    client = FakeClient()
    model = GenerationModel(client, request=InpaintRequest(engine="diffusion", model="/m/tiny"))
    job = model.generate(*_inputs())
    req = client.submitted[0][1]
    model.handle(
        EngineEvent("result", job_id=job, images=[_result(req, 1, model="tiny", device="cpu")])
    )
    assert model.model_state.status is ModelStatus.LOADED
    assert (model.model_state.name, model.model_state.device) == ("tiny", "cpu")
    assert model.candidates[0].model_name == "tiny"


def test_device_query_runs_on_the_worker_and_lands_as_an_event():
    client = FakeClient()
    model = GenerationModel(client)
    seen = []
    model.events.device_changed.connect(seen.append)
    info = DeviceInfo("cpu", "CPU (1 of 2 cores)")
    job = model.query_device(lambda: info)
    kind, run = client.submitted[0]
    assert kind == "call" and model.jobs[job].kind is JobKind.CALL
    model.handle(EngineEvent("result", job_id=job, images=run(None, None)))
    assert seen == [info] and model.device == info


# -- with the real job queue ------------------------------------------------------------------------
class PreviewEngine(SolidFillEngine):
    """Sends a preview on the working grid before filling."""

    def run(self, request, image, mask, on_event, cancel):
        on_event(EngineEvent("preview", preview=np.full_like(image, 9)))
        return super().run(request, image, mask, on_event, cancel)


def test_with_the_job_queue_previews_arrive_placed_on_the_photo():
    events: queue.Queue = queue.Queue()
    engine = PreviewEngine(native_resolution=False)
    jobs = JobQueue(events.put, lambda _req: engine, progress_interval=0)
    model = GenerationModel(jobs, request=InpaintRequest(num_outputs=2, seed=4))
    previews = []
    model.events.preview.connect(previews.append)
    photo, mask = _inputs()
    try:
        job = model.generate(photo, mask)
        while job in model.jobs:
            model.handle(events.get(timeout=30))  # the model's thread pumps the worker's events
    finally:
        jobs.shutdown()
    region = plan_for(model.effective_request(), mask, engine)
    (preview,) = previews
    assert preview.box == region.box
    assert preview.rgb.shape[:2] == preview.alpha.shape == (region.grid[1], region.grid[0])
    assert preview.alpha.max() == 255 and preview.alpha.min() == 0
    assert [c.seed for c in model.candidates] == [4, 5]
