"""RemoteEngine: the engine interface over the predictions API — same pixels as the local
engine on the same crop, progress events, cancel stopping the remote job, errors as InpaintError."""

from __future__ import annotations

import base64
import threading
import time

import httpx
import numpy as np
import pytest

from inpaint_core import imaging
from inpaint_core.engines.base import EngineOutput
from inpaint_core.engines.registry import get_engine
from inpaint_core.errors import InpaintError, JobCancelled
from inpaint_core.events import CancelToken, EngineEvent
from inpaint_core.inpaint import inpaint
from inpaint_core.request import InpaintRequest
from inpaint_core.service.remote import (
    RemoteEngine,
    _seed_groups,
    list_server_models,
    server_model,
)
from inpaint_core.sweep import plan_sweep, run_sweep
from tests.service_helpers import photo_and_mask, start_server


@pytest.fixture(scope="module")
def server(tiny_model_dir):
    s = start_server(model=str(tiny_model_dir), token="tk")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    photo, mask = photo_and_mask(tmp_path_factory.mktemp("remote-inputs"), size=80)
    image = imaging.load_image(photo)
    return image, imaging.load_mask(mask, image.size)


def request(tiny_model_dir, **kw) -> InpaintRequest:
    base = dict(
        engine="diffusion",
        model=str(tiny_model_dir),
        prompt="a wall",
        steps=3,
        seed=9,
        target_size=64,
    )
    base.update(kw)
    return InpaintRequest(**base)


def test_remote_run_equals_local_run(server, inputs, tiny_model_dir):
    image, mask = inputs
    req = request(tiny_model_dir, seeds=(9, 10, 40), mask_feather=0)
    events = []
    remote = inpaint(req, image, mask, RemoteEngine(server.url, "tk"), events.append)
    local = inpaint(req, image, mask, get_engine("diffusion", model=str(tiny_model_dir)))
    assert [r.seed for r in remote] == [9, 10, 40]
    for r, loc in zip(remote, local, strict=True):
        assert r.box == loc.box
        assert np.abs(r.patch.astype(int) - loc.patch.astype(int)).max() <= 2
    assert any(e.kind == "progress" and e.total_steps == 3 for e in events)


def test_remote_classical(server, inputs):
    image, mask = inputs
    req = InpaintRequest(engine="classical", options={"method": "biharmonic"})
    remote = inpaint(req, image, mask, RemoteEngine(server.url, "tk", engine="classical"))
    local = inpaint(req, image, mask, get_engine("classical"))
    assert np.array_equal(remote[0].patch, local[0].patch)


def test_cancel_stops_the_remote_job(server, inputs, tiny_model_dir):
    image, mask = inputs
    token = CancelToken()
    started = threading.Event()

    def on_event(event):
        if event.kind == "progress" and event.step >= 2:
            started.set()
            token.cancel()

    with pytest.raises(JobCancelled):
        inpaint(
            request(tiny_model_dir, steps=400),
            image,
            mask,
            RemoteEngine(server.url, "tk", poll_interval=0.02),
            on_event,
            token,
        )
    assert started.is_set()
    newest = server.service.page(None)[0][0]
    assert newest.status == "canceled"


def test_errors_are_inpaint_errors(server, inputs, tiny_model_dir):
    image, mask = inputs
    with pytest.raises(InpaintError, match="HTTP 401"):
        inpaint(request(tiny_model_dir), image, mask, RemoteEngine(server.url, "wrong"))
    with pytest.raises(InpaintError, match="cannot reach"):
        inpaint(request(tiny_model_dir), image, mask, RemoteEngine("http://127.0.0.1:9", "tk"))


def test_seed_groups():
    assert _seed_groups([1, 2, 3, 7, 8]) == [[1, 2, 3], [7, 8]]
    assert _seed_groups([1, 2, 3, 4, 5]) == [[1, 2, 3, 4], [5]]


def test_compare_sweep_runs_remotely(server, inputs, tiny_model_dir):
    """Compare's sweeps go through the same engine interface: seeds x schedulers remotely."""
    image, mask = inputs
    plan = plan_sweep(
        request(tiny_model_dir, steps=2), seeds=[3, 8], schedulers=["DDIM", "K_EULER"]
    )
    cells = run_sweep(plan, image, mask, RemoteEngine(server.url, "tk"))
    assert len(cells) == 4
    assert sorted(c.result.seed for c in cells) == [3, 3, 8, 8]
    assert {c.result.request.scheduler for c in cells} == {"DDIM", "K_EULER"}


class PreviewingEngine:
    """Three slow steps, each with a preview (red, brighter every step); flags even seeds."""

    name = "classical"
    native_resolution = True

    def run(self, request, image, mask, on_event, cancel):
        for step in (1, 2, 3):
            cancel.raise_if_cancelled()
            on_event(EngineEvent("progress", progress=step / 3, step=step, total_steps=3))
            preview = np.zeros_like(image)
            preview[..., 0] = 80 * step
            on_event(EngineEvent("preview", step=step, preview=preview))
            time.sleep(0.3)
        return [
            EngineOutput(image.copy(), seed=s, nsfw_flagged=s % 2 == 0)
            for s in request.resolved().seeds
        ]


@pytest.fixture
def previewing_server():
    s = start_server(token="tk", engine_factory=lambda request: PreviewingEngine())
    yield s
    s.stop()


def test_step_previews_and_the_safety_flag_reach_the_remote_engine(previewing_server, inputs):
    image, mask = inputs
    seen_urls: list[str] = []
    engine = RemoteEngine(previewing_server.url, "tk", engine="classical", poll_interval=0.02)
    engine.preview_interval_s = 0.0
    fetch = engine._preview

    def spy(url):
        seen_urls.append(url)
        return fetch(url)

    engine._preview = spy
    events = []
    req = InpaintRequest(engine="classical", seeds=(7, 8))
    results = inpaint(req, image, mask, engine, events.append)
    previews = [e for e in events if e.kind == "preview"]
    assert previews, "no step preview came over the API"
    assert all(p.box == results[0].box for p in previews)  # placed on the photo here
    assert all(p.preview_alpha is not None for p in previews)
    reds = [int(p.preview[..., 0].max()) for p in previews]
    assert reds == sorted(reds) and reds[-1] >= 160  # later steps, brighter
    assert all(url.endswith("/preview.png") for url in seen_urls)
    assert [r.nsfw_flagged for r in results] == [False, True]
    pred = previewing_server.service.page(None)[0][0].to_json(previewing_server.url)
    assert pred["nsfw_flagged"] == [1]
    assert "preview" not in pred["urls"]  # offered only while it runs


def test_the_preview_route_while_running_and_after(previewing_server, inputs, tmp_path):
    photo, mask = photo_and_mask(tmp_path, size=64)
    headers = {"Authorization": "Bearer tk"}
    data = {
        "input": {
            "image": "data:image/png;base64," + base64.b64encode(photo.read_bytes()).decode(),
            "mask": "data:image/png;base64," + base64.b64encode(mask.read_bytes()).decode(),
        }
    }
    with httpx.Client(base_url=previewing_server.url, headers=headers, timeout=30) as http:
        pred = http.post("/v1/models/inpaint-studio/classical/predictions", json=data).json()
        deadline = time.monotonic() + 20
        while "preview" not in pred["urls"] and time.monotonic() < deadline:
            time.sleep(0.02)
            pred = http.get(pred["urls"]["get"]).json()
        assert "preview" in pred["urls"]
        got = http.get(pred["urls"]["preview"])
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        assert imaging.load_image(got.content).rgb[..., 0].max() >= 80
        done = http.get(pred["urls"]["get"], headers={"Prefer": "wait=20"}).json()
        assert done["status"] == "succeeded"
        gone = http.get(pred["urls"]["preview"])
        assert gone.status_code == 404 and "no step preview" in gone.json()["detail"]


def test_server_models_by_slug(server, tiny_model_dir):
    assert list_server_models(server.url, "tk") == ["inpaint-studio/stable-diffusion-inpainting"]
    assert server_model("inpaint-studio/stable-diffusion-inpainting") is not None
    assert server_model(str(tiny_model_dir)) is None  # a local path: the server's --model
    assert server_model("runwayml/stable-diffusion-inpainting") is None  # a hub id
    with pytest.raises(InpaintError, match="HTTP 401"):
        list_server_models(server.url, "wrong")
