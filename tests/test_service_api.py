"""The predictions API on a real loopback server, driven by the hosted API's own client
(``replicate``, unchanged) and by plain HTTP: classical engine, files, auth, limits, queue."""

from __future__ import annotations

import base64
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
import pytest
import replicate
from replicate.exceptions import ModelError, ReplicateError

from inpaint_core.imaging import sources as image_sources
from inpaint_core.imaging import url_guard
from inpaint_core.request import InpaintRequest
from tests.engines_for_tests import SolidFillEngine
from tests.service_helpers import photo_and_mask, png_bytes, read_png, start_server

CLASSICAL = "inpaint-studio/classical"


@pytest.fixture(scope="module")
def server():
    s = start_server()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return photo_and_mask(tmp_path_factory.mktemp("service-inputs"))


@pytest.fixture
def client(server):
    c = replicate.Client(api_token="unused", base_url=server.url)
    c.poll_interval = 0.05
    return c


def fetch(server, url: str, token: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = httpx.get(url, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return r.content


def test_run_with_file_objects_uploads_them_and_returns_output_urls(server, client, files):
    photo, mask = files
    with photo.open("rb") as p, mask.open("rb") as m:
        output = client.run(CLASSICAL, input={"image": p, "mask": m, "seed": 3})
    assert isinstance(output, list) and len(output) == 1
    assert output[0].startswith(f"{server.url}/v1/predictions/")
    assert output[0].endswith("/output/0.png")
    rgb, text = read_png(fetch(server, output[0]))
    assert rgb.shape == (96, 96, 3)
    # parameters inside, as the CLI writes them
    used = InpaintRequest.from_json(text["inpaint_studio"])
    assert used.engine == "classical" and "Engine: classical" in text["parameters"]
    # the uploads are listed as files with checksums
    uploaded = client.files.list()
    assert {f.name for f in uploaded} >= {"photo.png", "mask.png"}
    assert all(len(f.checksums["sha256"]) == 64 for f in uploaded)


def test_model_version_create_and_wait(server, client, files):
    model = client.models.get(CLASSICAL)
    version = model.latest_version
    props = version.openapi_schema["components"]["schemas"]["Input"]["properties"]
    for name in (
        "prompt",
        "negative_prompt",
        "image",
        "mask",
        "scheduler",
        "num_inference_steps",
        "guidance_scale",
        "strength",
        "seed",
        "num_outputs",
        "width",
        "height",
        "disable_safety_checker",
    ):
        assert name in props, name
    assert "DPMSolverMultistep" in props["scheduler"]["enum"]
    assert "K_EULER_ANCESTRAL" in props["scheduler"]["enum"]
    assert client.models.get(CLASSICAL).versions.get(version.id).id == version.id

    photo, mask = files
    with photo.open("rb") as p, mask.open("rb") as m:
        pred = client.predictions.create(version=version.id, input={"image": p, "mask": m})
    assert pred.status in ("starting", "processing", "succeeded")
    assert pred.urls["get"].endswith(pred.id) and pred.urls["cancel"].endswith("/cancel")
    pred.wait()
    assert pred.status == "succeeded", pred.error
    assert pred.metrics["predict_time"] > 0
    assert pred.model == CLASSICAL and pred.version == version.id
    assert pred.completed_at >= pred.started_at >= pred.created_at
    assert client.predictions.get(pred.id).output == pred.output
    # "owner/name:version" runs that version
    with photo.open("rb") as p, mask.open("rb") as m:
        assert len(client.run(f"{CLASSICAL}:{version.id}", input={"image": p, "mask": m})) == 1


def test_base64_strategy_sends_data_uris(server, client, files):
    photo, mask = files
    with photo.open("rb") as p, mask.open("rb") as m:
        pred = client.predictions.create(
            version=client.models.get(CLASSICAL).latest_version.id,
            input={"image": p, "mask": m},
            file_encoding_strategy="base64",
        )
    pred.wait()
    assert pred.status == "succeeded", pred.error
    assert pred.input["image"].startswith("data:image/png;base64,")
    rgb, _ = read_png(fetch(server, pred.output[0]))
    # the same inputs uploaded as files give the same pixels (the classical fill is deterministic)
    with photo.open("rb") as p, mask.open("rb") as m:
        again = client.run(CLASSICAL, input={"image": p, "mask": m})
    assert np.array_equal(read_png(fetch(server, again[0]))[0], rgb)


def test_long_poll_returns_when_done_not_after_the_wait(server, files):
    photo, mask = files
    body = {
        "input": {
            "image": "data:image/png;base64," + base64.b64encode(photo.read_bytes()).decode(),
            "mask": "data:image/png;base64," + base64.b64encode(mask.read_bytes()).decode(),
        }
    }
    created = httpx.post(f"{server.url}/v1/models/{CLASSICAL}/predictions", json=body, timeout=30)
    assert created.status_code == 201, created.text
    t0 = time.monotonic()
    r = httpx.get(
        created.json()["urls"]["get"], headers={"Prefer": "wait=50"}, timeout=httpx.Timeout(70)
    )
    elapsed = time.monotonic() - t0
    assert r.json()["status"] == "succeeded"
    assert elapsed < 40  # it came back when the prediction ended, well before the 50 s wait


def test_blocking_create_reports_starting_when_the_wait_runs_out(tmp_path, files):
    """The hosted client reads any other status of a blocking create as final."""
    engine = SolidFillEngine(steps=2)
    engine.gate = threading.Event()
    s = start_server(engine_factory=lambda request: engine)
    try:
        photo, mask = files
        r = httpx.post(
            f"{s.url}/v1/models/{CLASSICAL}/predictions",
            json={"input": {"image": _data_uri(photo), "mask": _data_uri(mask)}},
            headers={"Prefer": "wait=1"},
            timeout=30,
        )
        assert r.status_code == 201 and r.json()["status"] == "starting"
        engine.gate.set()
        c = replicate.Client(api_token="x", base_url=s.url)
        c.poll_interval = 0.05
        pred = c.predictions.get(r.json()["id"])
        pred.wait()
        assert pred.status == "succeeded"
    finally:
        engine.gate.set()
        s.stop()


def _data_uri(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def test_list_is_paginated_newest_first(files):
    s = start_server(page_size=2)
    try:
        c = replicate.Client(api_token="x", base_url=s.url)
        c.poll_interval = 0.05
        photo, mask = files
        ids = []
        for _ in range(3):
            pred = c.predictions.create(
                version=c.models.get(CLASSICAL).latest_version.id,
                input={"image": _data_uri(photo), "mask": _data_uri(mask)},
            )
            ids.append(pred.id)
        first = c.predictions.list()
        assert [p.id for p in first.results] == ids[::-1][:2] and first.next
        second = c.predictions.list(first.next)
        assert [p.id for p in second.results] == ids[:1] and second.next is None
    finally:
        s.stop()


# -- bad input: 4xx naming the field, or a failed prediction with a clear error -----------------


def _post(server, input_: dict, **kw) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v1/models/{CLASSICAL}/predictions", json={"input": input_}, timeout=30, **kw
    )


@pytest.mark.parametrize(
    ("input_", "field"),
    [
        ({"mask": "data:,x"}, "input.image"),
        ({"image": "data:,x", "mask": "data:,x", "scheduler": "NOPE"}, "input.scheduler"),
        (
            {"image": "data:,x", "mask": "data:,x", "num_inference_steps": -3},
            "input.num_inference_steps",
        ),
        ({"image": "data:,x", "mask": "data:,x", "width": 100}, "input.width"),
        ({"image": "data:,x", "mask": "data:,x", "seed": -1}, "input.seed"),
        ({"image": "data:,x", "mask": "data:,x", "colour": 1}, "input.colour"),
        ({"image": "file:///etc/passwd", "mask": "data:,x"}, "input.image"),
        ({"image": "/etc/passwd", "mask": "data:,x"}, "input.image"),
        ({"image": "data:,x", "mask": "ftp://example.com/m.png"}, "input.mask"),
        ({"image": "data:,x", "mask": "http://127.0.0.1:1/v1/files/nope"}, None),
    ],
)
def test_bad_inputs_are_422_naming_the_field(server, input_, field):
    r = _post(server, input_)
    if field is None:  # a URL elsewhere: accepted, then fails as a prediction (next tests)
        assert r.status_code == 201
        return
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith(field), r.json()


def test_unknown_upload_url_on_this_server_is_422(server):
    r = _post(server, {"image": f"{server.url}/v1/files/doesnotexist", "mask": "data:,x"})
    assert r.status_code == 422 and "input.image" in r.json()["detail"]


def test_malformed_json_and_unknown_version_are_422(server):
    r = httpx.post(
        f"{server.url}/v1/predictions",
        content=b'{"version": "x", "input": {',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422 and "malformed JSON" in r.json()["detail"]
    r = httpx.post(f"{server.url}/v1/predictions", json={"version": "abc", "input": {}})
    assert r.status_code == 422
    r = httpx.post(
        f"{server.url}/v1/predictions",
        json={"version": "abc", "input": {"image": "data:,x", "mask": "data:,x"}},
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("version")


def _failed(client, input_) -> str:
    with pytest.raises(ModelError) as info:
        client.run(CLASSICAL, input=input_)
    pred = info.value.prediction
    assert pred.status == "failed"
    return pred.error


def test_not_an_image_fails_the_prediction_naming_the_input(client, files):
    photo, mask = files
    error = _failed(client, {"image": "data:text/plain,hello", "mask": _data_uri(mask)})
    assert error.startswith("image:") and "not a recognised image" in error


def test_wrong_size_mask_fails_naming_both_sizes(client, files):
    photo, _ = files
    small = png_bytes(np.full((40, 30), 255, np.uint8))
    error = _failed(
        client,
        {
            "image": _data_uri(photo),
            "mask": "data:image/png;base64," + base64.b64encode(small).decode(),
        },
    )
    assert error.startswith("mask:") and "30x40" in error and "96x96" in error


class _Redirector(BaseHTTPRequestHandler):
    """A "public" photo host (on loopback, taken as public by the test) whose URL redirects to
    ``internal.example``, a name the test resolves to 10.0.0.1."""

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(302)
        self.send_header("Location", "http://internal.example/secret.png")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def no_traffic_off_loopback(monkeypatch):
    """Any connection to an address other than 127.0.0.1 fails the test (it is recorded)."""
    attempts: list[object] = []
    real = socket.socket.connect

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if host != "127.0.0.1":
            attempts.append(address)
            raise AssertionError(f"connect to {address} attempted")
        return real(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def test_private_address_urls_are_refused_before_any_connection(
    files, monkeypatch, no_traffic_off_loopback
):
    """A name resolving to 10.0.0.1: refused after resolution; no connection is ever tried."""
    resolved = []

    def resolve_host(host, port):
        resolved.append(host)
        return ["10.0.0.1"]

    monkeypatch.setattr(url_guard, "resolve_host", resolve_host)
    s = start_server()
    try:
        c = replicate.Client(api_token="x", base_url=s.url)
        c.poll_interval = 0.05
        photo, mask = files
        error = _failed(c, {"image": "http://intranet.example/photo.png", "mask": _data_uri(mask)})
        assert resolved == ["intranet.example"]
        assert error.startswith("image:")
        assert "10.0.0.1" in error and "--allow-private-urls" in error
    finally:
        s.stop()
    assert no_traffic_off_loopback == []


def test_a_public_url_redirecting_to_a_private_address_is_refused(
    files, monkeypatch, no_traffic_off_loopback
):
    """The guard runs per redirect hop: the first URL is public, its redirect is not."""
    monkeypatch.setattr(url_guard, "resolve_host", lambda host, port: ["10.0.0.1"])
    # the loopback photo host stands for a public one; nothing else is public here
    monkeypatch.setattr(url_guard, "is_public_address", lambda a: a == "127.0.0.1")
    monkeypatch.setattr(image_sources, "is_public_address", lambda a: a == "127.0.0.1")
    redirector = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    threading.Thread(target=redirector.serve_forever, daemon=True).start()
    s = start_server()
    try:
        c = replicate.Client(api_token="x", base_url=s.url)
        c.poll_interval = 0.05
        _, mask = files
        photo_url = f"http://127.0.0.1:{redirector.server_address[1]}/photo.png"
        error = _failed(c, {"image": photo_url, "mask": _data_uri(mask)})
        assert error.startswith("image:")
        assert "internal.example is 10.0.0.1" in error and "--allow-private-urls" in error
    finally:
        s.stop()
        redirector.shutdown()
        redirector.server_close()
    assert no_traffic_off_loopback == []


def test_loopback_url_input_is_refused_by_default(server, client, files):
    _, mask = files
    error = _failed(client, {"image": f"{server.url}/openapi.json", "mask": _data_uri(mask)})
    assert "127.0.0.1" in error and "refused" in error


def test_public_resolving_url_is_fetched_when_private_urls_allowed(tmp_path, files):
    """With --allow-private-urls a loopback URL is downloaded through load_image's limits."""
    s = start_server(allow_private_urls=True)
    try:
        c = replicate.Client(api_token="x", base_url=s.url)
        c.poll_interval = 0.05
        photo, mask = files
        with photo.open("rb") as p:
            upload = c.files.create(p)
        output = c.run(
            CLASSICAL,
            input={"image": f"{s.url}/v1/files/{upload.id}/download?x=1", "mask": _data_uri(mask)},
        )
        assert len(output) == 1
    finally:
        s.stop()


def test_60_mb_bodies_are_413(server):
    blob = b"\0" * (60 * 1024 * 1024)
    r = httpx.post(f"{server.url}/v1/files", files={"content": ("big.png", blob, "image/png")})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    r = httpx.post(
        f"{server.url}/v1/models/{CLASSICAL}/predictions",
        content=b'{"input": {"image": "data:,' + blob + b'"}}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_60_mb_streamed_bodies_without_length_are_413(server):
    """No Content-Length (chunked): the limit is counted while the body streams in."""

    def body(head: bytes, tail: bytes):
        yield head
        for _ in range(60):
            yield b"a" * (1024 * 1024)
        yield tail

    r = httpx.post(
        f"{server.url}/v1/models/{CLASSICAL}/predictions",
        content=body(b'{"input": {"image": "data:,', b'"}}'),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 413
    head = (
        b'--xyz\r\nContent-Disposition: form-data; name="content"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n"
    )
    r = httpx.post(
        f"{server.url}/v1/files",
        content=body(head, b"\r\n--xyz--\r\n"),
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        timeout=60,
    )
    assert r.status_code == 413


def test_oversized_data_uri_under_the_body_limit_is_refused_by_the_image_limit(files):
    s = start_server()
    s.config.max_image_bytes = 1000  # the per-image limit, checked when decoding
    try:
        c = replicate.Client(api_token="x", base_url=s.url)
        c.poll_interval = 0.05
        photo, mask = files
        error = _failed(c, {"image": _data_uri(photo), "mask": _data_uri(mask)})
        assert error.startswith("image:") and "limit" in error
    finally:
        s.stop()


# -- auth -------------------------------------------------------------------------------------


def test_token_is_required_on_every_route_but_openapi(files):
    s = start_server(token="s3cret")
    try:
        for path in ("/v1/predictions", "/v1/models/inpaint-studio/classical", "/v1/files"):
            assert httpx.get(s.url + path).status_code == 401
        bad = replicate.Client(api_token="wrong", base_url=s.url)
        with pytest.raises(ReplicateError) as info:
            bad.models.get(CLASSICAL)
        assert info.value.status == 401
        assert httpx.get(s.url + "/openapi.json").status_code == 200
        good = replicate.Client(api_token="s3cret", base_url=s.url)
        photo, mask = files
        with photo.open("rb") as p, mask.open("rb") as m:
            output = good.run(CLASSICAL, input={"image": p, "mask": m})
        assert httpx.get(output[0]).status_code == 401
        assert fetch(s, output[0], token="s3cret").startswith(b"\x89PNG")
    finally:
        s.stop()


# -- queue: one worker, bounded, the event loop stays free ------------------------------------


def test_full_queue_is_429_with_retry_after_and_loop_stays_responsive(files):
    engine = SolidFillEngine(steps=2)
    engine.gate = threading.Event()
    s = start_server(queue_size=1, engine_factory=lambda request: engine)
    try:
        photo, mask = files
        body = {"input": {"image": _data_uri(photo), "mask": _data_uri(mask)}}
        url = f"{s.url}/v1/models/{CLASSICAL}/predictions"
        running = httpx.post(url, json=body, timeout=30).json()
        waiting = httpx.post(url, json=body, timeout=30).json()
        full = httpx.post(url, json=body, timeout=30)
        assert full.status_code == 429, full.text
        assert int(full.headers["Retry-After"]) >= 1
        # the worker is held inside the engine; the server still answers at once
        deadline = time.monotonic() + 10
        while httpx.get(running["urls"]["get"], timeout=5).json()["status"] != "processing":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert httpx.get(waiting["urls"]["get"], timeout=5).json()["status"] == "starting"
        # the queued one is cancelled at once, without reaching the engine
        calls = len(engine.calls)
        cancelled = httpx.post(waiting["urls"]["cancel"], timeout=15).json()
        assert cancelled["status"] == "canceled"
        engine.gate.set()
        done = httpx.get(running["urls"]["get"], headers={"Prefer": "wait=30"}, timeout=40)
        assert done.json()["status"] == "succeeded"
        assert len(engine.calls) == calls  # the cancelled one never ran
        assert httpx.post(url, json=body, timeout=30).status_code == 201  # room again
    finally:
        engine.gate.set()
        s.stop()


def test_concurrent_clients_all_succeed_none_lost(server, files):
    photo, mask = files
    results: dict[int, object] = {}

    def one(i: int) -> None:
        c = replicate.Client(api_token="x", base_url=server.url)
        c.poll_interval = 0.05
        try:
            results[i] = c.run(
                CLASSICAL, input={"image": _data_uri(photo), "mask": _data_uri(mask)}
            )
        except Exception as exc:  # noqa: BLE001 - recorded, asserted below
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 8
    outputs = [r for r in results.values() if isinstance(r, list)]
    assert len(outputs) == 8, results
    assert len({o[0] for o in outputs}) == 8  # eight distinct predictions


def test_finished_predictions_and_uploads_expire(files):
    s = start_server(keep_seconds=5)
    try:
        c = replicate.Client(api_token="x", base_url=s.url)
        c.poll_interval = 0.05
        photo, mask = files
        with photo.open("rb") as p, mask.open("rb") as m:
            out = c.run(CLASSICAL, input={"image": p, "mask": m})
        assert s.service.sweep(now=time.time() + 1) == 0
        assert s.service.sweep(now=time.time() + 60) == 3  # the prediction and two uploads
        assert httpx.get(out[0]).status_code == 404
    finally:
        s.stop()
