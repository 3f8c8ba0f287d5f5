"""The predictions API with the diffusion engine (tiny random-weight model, CPU): same seed →
same pixels, the output PNG's parameters reproduce it (as the CLI's do), cancel within one step."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import replicate

from inpaint_core import imaging
from inpaint_core.cli import main as cli_main
from inpaint_core.engines.registry import get_engine
from inpaint_core.inpaint import inpaint
from inpaint_core.request import InpaintRequest
from tests.service_helpers import photo_and_mask, read_png, start_server

SD = "inpaint-studio/stable-diffusion-inpainting"


@pytest.fixture(scope="module")
def server(tiny_model_dir, tmp_path_factory, monkeypatch_module):
    models = tmp_path_factory.mktemp("models-dir")
    monkeypatch_module.setenv("INPAINT_STUDIO_MODELS", str(tiny_model_dir.parent))
    monkeypatch_module.setenv("HF_HUB_CACHE", str(models / "hf"))
    s = start_server(model=str(tiny_model_dir), discover_models=True)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return photo_and_mask(tmp_path_factory.mktemp("diffusion-inputs"), size=64)


@pytest.fixture
def client(server):
    c = replicate.Client(api_token="x", base_url=server.url)
    c.poll_interval = 0.05
    return c


def run(client, files, model=SD, **params):
    photo, mask = files
    with photo.open("rb") as p, mask.open("rb") as m:
        inp = {"image": p, "mask": m, "prompt": "a brick wall", "num_inference_steps": 3}
        inp.update(params)
        return client.run(model, input=inp)


def pixels(server, url):
    return read_png(httpx.get(url, timeout=30).content)


def test_models_served_include_the_server_model_and_found_ones(client, tiny_model_dir):
    names = {m.name for m in client.models.list()}
    assert {"stable-diffusion-inpainting", "classical", tiny_model_dir.name} <= names
    sd = client.models.get(SD)
    assert sd.latest_version.id != client.models.get("inpaint-studio/classical").latest_version.id


def test_same_seed_same_pixels_other_seed_other_pixels(server, client, files):
    a = pixels(server, run(client, files, seed=11)[0])[0]
    b = pixels(server, run(client, files, seed=11)[0])[0]
    c = pixels(server, run(client, files, seed=12)[0])[0]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_num_outputs_batch_matches_single_seeds(server, client, files):
    outs = run(client, files, seed=21, num_outputs=2)
    assert len(outs) == 2
    single = pixels(server, run(client, files, seed=22)[0])[0]
    second, text = pixels(server, outs[1])
    assert InpaintRequest.from_json(text["inpaint_studio"]).seed == 22
    # batched and single differ by at most rounding on CPU (the PNG records its batch)
    assert np.abs(second.astype(int) - single.astype(int)).max() <= 2


def test_output_parameters_rerun_reproduce_the_image_and_match_the_cli(
    server, client, files, tmp_path, tiny_model_dir
):
    out = run(client, files, seed=5, scheduler="K_EULER", guidance_scale=6.0)
    rgb, text = pixels(server, out[0])
    used = InpaintRequest.from_json(text["inpaint_studio"])
    assert used.seed == 5 and used.scheduler == "K_EULER" and used.guidance_scale == 6.0
    assert used.model == str(tiny_model_dir)
    # re-running the saved parameters in-process gives the same pixels
    photo, mask = files
    image = imaging.load_image(photo)
    again = inpaint(
        used,
        image,
        imaging.load_mask(mask, image.size),
        get_engine("diffusion", model=used.model),
    )
    assert np.array_equal(again[0].composite(image.rgb), rgb)
    # the CLI, given the same inputs and parameters, writes the same image and the same chunks
    cli_out = tmp_path / "cli.png"
    code = cli_main(
        [
            "run",
            "--image",
            str(photo),
            "--mask",
            str(mask),
            "--model",
            str(tiny_model_dir),
            "--prompt",
            "a brick wall",
            "--steps",
            "3",
            "--seed",
            "5",
            "--scheduler",
            "K_EULER",
            "--guidance-scale",
            "6.0",
            "--out",
            str(cli_out),
            "--quiet",
        ]
    )
    assert code == 0
    cli_rgb, cli_text = read_png(cli_out.read_bytes())
    assert np.array_equal(cli_rgb, rgb)
    assert cli_text["inpaint_studio"] == text["inpaint_studio"]
    assert cli_text["parameters"] == text["parameters"]


def test_cancel_stops_a_running_diffusion_prediction(server, client, files):
    photo, mask = files
    with photo.open("rb") as p, mask.open("rb") as m:
        pred = client.models.predictions.create(
            model=SD,
            input={"image": p, "mask": m, "num_inference_steps": 400, "seed": 1},
        )
    deadline = time.monotonic() + 60
    while True:  # wait until the UNet is stepping
        pred.reload()
        progress = pred.progress
        if pred.status == "processing" and progress is not None and progress.current >= 2:
            break
        assert pred.status in ("starting", "processing"), pred.error
        assert time.monotonic() < deadline, "the prediction never started stepping"
        time.sleep(0.02)
    t0 = time.monotonic()
    pred.cancel()
    assert pred.status == "canceled"
    assert time.monotonic() - t0 < 10
    assert pred.output is None
    final = pred.progress
    assert final is not None and final.current < 400  # stopped long before the end
    # the worker is free again: the next prediction runs
    assert len(run(client, files, seed=3)) == 1


def test_found_model_slug_runs(server, client, files, tiny_model_dir):
    out = run(client, files, model=f"inpaint-studio/{tiny_model_dir.name}", seed=4)
    _, text = pixels(server, out[0])
    assert InpaintRequest.from_json(text["inpaint_studio"]).model == str(tiny_model_dir)


def test_classical_engine_refuses_diffusion_and_bad_model_fails_cleanly(
    client, files, server, tmp_path
):
    r = httpx.post(
        f"{server.url}/v1/models/inpaint-studio/classical/predictions",
        json={"input": {"image": "data:,x", "mask": "data:,x", "engine": "diffusion"}},
    )
    assert r.status_code == 422 and r.json()["detail"].startswith("input.engine")
    broken = start_server(model=str(tmp_path / "no-such-model"))
    try:
        c = replicate.Client(api_token="x", base_url=broken.url)
        c.poll_interval = 0.05
        with pytest.raises(replicate.exceptions.ModelError) as info:
            run(c, files)
        assert info.value.prediction.status == "failed"
        assert "no-such-model" in info.value.prediction.error
        # the server (and its worker) lives on
        assert len(run(c, files, model="inpaint-studio/classical")) == 1
    finally:
        broken.stop()


def test_the_readme_example_runs(tiny_model_dir, tmp_path, monkeypatch, capsys):
    """The ``replicate`` snippet of README's "Use it as a service", as written (URL swapped)."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Use it as a service") :]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "resources" / "sample.jpg", tmp_path / "photo.jpg")
    shutil.copy(root / "resources" / "sample_mask.png", tmp_path / "mask.png")
    monkeypatch.chdir(tmp_path)
    s = start_server(model=str(tiny_model_dir), token="TOKEN")
    try:
        code = snippet.replace("http://127.0.0.1:5123", s.url)
        assert code != snippet
        exec(compile(code, "README.md", "exec"), {})
    finally:
        s.stop()
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"['{s.url}/v1/predictions/") and printed[0].endswith("0.png']")
    assert printed[1].startswith("succeeded [")
