"""The product promise, front door by front door: "same seed + same inputs = same picture, alone or
in a batch", and every output PNG reproduces from the parameters inside it.

For each front door (CLI ``run``, the predictions service, the ``batch`` command, the core
``GenerationModel`` behind the studio) and a few non-default settings (no grow/feather, odd grow,
feather and padding, another sampler, strength < 1, three seeds, the classical engine), the output
PNG is read back (our JSON chunk, and the A1111 ``parameters`` text on its own) and re-run: the
pixels must be identical. Tiny random-weight SD model on CPU.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import pytest
import replicate

from inpaint_core import cli, imaging
from inpaint_core.engines.registry import get_engine
from inpaint_core.generation_model import GenerationModel
from inpaint_core.inpaint import inpaint
from inpaint_core.metadata import JSON_CHUNK, PARAMETERS_CHUNK, read_parameters
from inpaint_core.options import RunOptions
from inpaint_core.request import InpaintRequest
from inpaint_core.saving import save_result_picture
from inpaint_core.schedulers import canonical_scheduler_name
from tests.service_helpers import photo_and_mask, start_server

#: the sampler's fields, which a classical fill's A1111 text does not claim (never used)
SAMPLER_FIELDS = ("steps", "scheduler", "guidance_scale", "strength")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    return photo_and_mask(tmp_path_factory.mktemp("repro-inputs"), size=96)


@pytest.fixture(scope="module")
def engines(tiny_model_dir):
    """One engine per (engine, model), as a replaying user's process would hold."""
    made: dict[tuple[str, str | None], object] = {}

    def engine_for(request: InpaintRequest):
        key = (request.engine, request.model if request.engine != "classical" else None)
        if key not in made:
            kwargs = {"model": request.model} if request.engine != "classical" else {}
            made[key] = get_engine(request.engine, **kwargs)
        return made[key]

    return engine_for


def loaded(png: Path | bytes) -> imaging.LoadedImage:
    return imaging.load_image(png if isinstance(png, bytes) else Path(png))


@pytest.fixture
def run_cli(capsys):
    """``cli.main(argv)`` -> (exit code, what it printed on stdout)."""

    def run(argv: list[str]) -> tuple[int, str]:
        code = cli.main(argv)
        return code, capsys.readouterr().out

    return run


def a1111_request(text: dict[str, str], json_request: InpaintRequest) -> InpaintRequest:
    """The request read from the A1111 ``parameters`` text alone (what other tools see)."""
    req = read_parameters({PARAMETERS_CHUNK: text[PARAMETERS_CHUNK]}, strict=True).request
    if req.engine == "classical":  # no sampler fields written: not compared
        req = replace(req, **{f: getattr(json_request, f) for f in SAMPLER_FIELDS})
    return req


def assert_replays(png: Path | bytes, inputs, engines, *, pasted: bool = True) -> InpaintRequest:
    """Re-run the PNG's own parameters on the same inputs: identical pixels. The A1111 text must
    hold the same request (model aside: it names the model, the JSON has its path)."""
    out = loaded(png)
    found = read_parameters(out)
    assert found.chunk == JSON_CHUNK
    req = found.request
    assert req.seeds is None and req.num_outputs == 1
    from_text = a1111_request(out.text, req)
    # A1111 names the sampler its own way ("Euler a"): the same scheduler as the request's
    assert canonical_scheduler_name(from_text.scheduler) == canonical_scheduler_name(req.scheduler)
    assert replace(from_text, model=req.model, scheduler=req.scheduler) == req, (from_text, req)
    photo = imaging.load_image(inputs[0])
    mask = imaging.load_mask(inputs[1], photo.size)
    (again,) = inpaint(req, photo, mask, engines(req))
    expected = again.composite(photo.rgb) if pasted else again.grid_image
    diff = np.abs(expected.astype(int) - out.rgb.astype(int))
    assert diff.max() == 0, f"replay differs: {int(diff.max())} levels in {int((diff > 0).sum())}"
    # the request the studio runs when these parameters are loaded into it is the same request
    model = GenerationModel()
    model.set_request(req)
    assert model.effective_request() == req
    return req


def assert_cli_replays(png: Path | bytes, inputs, run_cli, folder: Path) -> None:
    """The CLI's own replay, ``run --params-from PNG`` with the same inputs and no other setting:
    the same pixels and the same parameters, written again."""
    if isinstance(png, bytes):
        source = folder / "source.png"
        source.write_bytes(png)
    else:
        source = png
    again = folder / "again.png"
    code, _ = run_cli(
        [
            "run",
            *("--image", str(inputs[0]), "--mask", str(inputs[1])),
            *("--params-from", str(source), "--out", str(again), "--quiet"),
        ]
    )
    assert code == 0
    made, original = loaded(again), loaded(source)
    assert np.array_equal(made.rgb, original.rgb)
    assert made.text[JSON_CHUNK] == original.text[JSON_CHUNK]
    assert made.text[PARAMETERS_CHUNK] == original.text[PARAMETERS_CHUNK]


# -- CLI run --------------------------------------------------------------------------------------
DIFFUSION = ["--steps", "3", "--target-size", "64", "--prompt", "a brick wall"]

CLI_CASES = {
    "diffusion-grow0-feather0": [*DIFFUSION, "--grow", "0", "--feather", "0", "--seed", "5"],
    "diffusion-grow7-feather3-pad13-euler-a-strength": [
        *DIFFUSION,
        *("--grow", "7", "--feather", "3", "--padding", "13", "--scheduler", "Euler a"),
        *("--strength", "0.6", "--guidance-scale", "5.5", "--seed", "9"),
    ],
    "diffusion-3-seeds-grow0": [*DIFFUSION, "--grow", "0", "--feather", "0", "--seeds", "5,6,7"],
    "diffusion-defaults-fill-no-soft": [
        *DIFFUSION,
        *("--masked-content", "latent_noise", "--no-soft-inpainting", "--seed", "3"),
    ],
    "diffusion-explicit-size-color-match-fill": [
        *DIFFUSION,
        *("--width", "96", "--height", "64", "--color-match", "--padding", "5"),
        *("--masked-content", "fill", "--scheduler", "DDIM", "--seed", "2"),
    ],
    "classical-defaults": ["--engine", "classical"],
    "classical-grow7-feather3-pad13-ns": [
        *("--engine", "classical", "--grow", "7", "--feather", "3", "--padding", "13"),
        *("--method", "ns"),
    ],
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_run_outputs_replay_from_their_png(
    case, inputs, engines, tiny_model_dir, tmp_path, run_cli
):
    args = CLI_CASES[case]
    model = [] if "classical" in args else ["--model", str(tiny_model_dir)]
    out = tmp_path / "out"
    code, stdout = run_cli(
        [
            "run",
            *("--image", str(inputs[0]), "--mask", str(inputs[1]), "--out", str(out)),
            *model,
            *args,
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(stdout)
    paths = [Path(o["path"]) for o in report["outputs"]]
    assert len(paths) == (3 if "--seeds" in args else 1)
    for path in paths:
        req = assert_replays(path, inputs, engines)
        assert_cli_replays(path, inputs, run_cli, tmp_path)
        if "--grow" in args:  # the explicit values, not the engine's defaults
            assert (req.mask_grow, req.mask_feather) == (
                int(args[args.index("--grow") + 1]),
                int(args[args.index("--feather") + 1]),
            )


def test_each_seed_of_a_batch_is_its_single_run(inputs, tiny_model_dir, tmp_path, run_cli):
    """Three seeds in one run (one batched call by default) and each seed alone: within a level
    (kernels round per batch size), and each batched output replays exactly from its PNG (the
    matrix above); with ``max_batch`` 1 each seed is made alone: bit for bit."""
    base = [
        "run",
        *("--image", str(inputs[0]), "--mask", str(inputs[1]), "--model", str(tiny_model_dir)),
        *DIFFUSION,
        "--json",
    ]
    code, stdout = run_cli([*base, "--seeds", "5,6,7", "--out", str(tmp_path / "batch")])
    assert code == 0
    batch = {o["seed"]: o["path"] for o in json.loads(stdout)["outputs"]}
    assert loaded(Path(batch[6])).text  # parameters inside
    for seed, path in batch.items():
        code, _ = run_cli([*base, "--seed", str(seed), "--out", str(tmp_path / f"{seed}.png")])
        assert code == 0
        alone = loaded(tmp_path / f"{seed}.png").rgb
        diff = np.abs(alone.astype(int) - loaded(Path(path)).rgb.astype(int))
        assert diff.max() <= 1, f"seed {seed}: {int(diff.max())} levels in {int((diff > 0).sum())}"
    code, stdout = run_cli(
        [*base, "--seeds", "5,6,7", "--max-batch", "1", "--out", str(tmp_path / "one")]
    )
    assert code == 0
    for o in json.loads(stdout)["outputs"]:
        alone = loaded(tmp_path / f"{o['seed']}.png").rgb
        assert np.array_equal(alone, loaded(Path(o["path"])).rgb), o["seed"]


# -- the predictions service ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tiny_model_dir):
    s = start_server(model=str(tiny_model_dir))
    yield s
    s.stop()


SERVICE_CASES = {
    "diffusion-grow0-feather0": dict(mask_grow=0, mask_feather=0, seed=5),
    "diffusion-default-seam": dict(seed=5),
    "diffusion-grow7-feather3-pad13-euler-a-strength": dict(
        mask_grow=7,
        mask_feather=3,
        mask_padding=13,
        scheduler="K_EULER_ANCESTRAL",
        strength=0.6,
        guidance_scale=5.5,
        seed=9,
    ),
    "diffusion-3-outputs-grow0": dict(mask_grow=0, mask_feather=0, seed=5, num_outputs=3),
    "diffusion-not-pasted": dict(mask_grow=0, mask_feather=0, seed=4, paste_back=False),
    "classical-defaults": dict(engine="classical"),
    "classical-grow7-feather3-telea": dict(
        engine="classical", mask_grow=7, mask_feather=3, mask_padding=13, method="telea"
    ),
}


@pytest.mark.parametrize("case", list(SERVICE_CASES))
def test_service_outputs_replay_from_their_png(case, server, inputs, engines, run_cli, tmp_path):
    params = SERVICE_CASES[case]
    client = replicate.Client(api_token="x", base_url=server.url)
    client.poll_interval = 0.05
    with inputs[0].open("rb") as p, inputs[1].open("rb") as m:
        inp = {"image": p, "mask": m, "prompt": "a brick wall", "num_inference_steps": 3}
        inp["target_size"] = 64
        urls = client.run("inpaint-studio/stable-diffusion-inpainting", input={**inp, **params})
    assert len(urls) == params.get("num_outputs", 1)

    for url in urls:
        blob = httpx.get(str(url), timeout=30).content
        pasted = params.get("paste_back", True)
        req = assert_replays(blob, inputs, engines, pasted=pasted)
        if pasted:  # the CLI writes pasted pictures
            assert_cli_replays(blob, inputs, run_cli, tmp_path)
        if "mask_grow" in params:
            assert (req.mask_grow, req.mask_feather) == (
                params["mask_grow"],
                params["mask_feather"],
            )
        # the CLI's request for the same settings is the service's request
        assert req.engine == params.get("engine", "diffusion")


# -- the batch command -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "flags",
    [
        ["--grow", "0", "--feather", "0", "--seeds", "5,6,7", *DIFFUSION],
        ["--grow", "7", "--feather", "3", "--padding", "13", "--strength", "0.6", *DIFFUSION],
        ["--engine", "classical", "--grow", "7", "--feather", "3", "--method", "telea"],
    ],
    ids=["diffusion-3-seeds-grow0", "diffusion-grow7-feather3-strength", "classical"],
)
def test_batch_outputs_replay_from_their_png(
    flags, inputs, engines, tiny_model_dir, tmp_path, run_cli
):
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "photo.png").write_bytes(inputs[0].read_bytes())
    (folder / "photo_mask.png").write_bytes(inputs[1].read_bytes())
    model = [] if "classical" in flags else ["--model", str(tiny_model_dir)]
    out = tmp_path / "out"
    code, stdout = run_cli(
        ["batch", "--images", str(folder), "--out", str(out), *model, *flags, "--json"]
    )
    assert code == 0, stdout
    outputs = sorted(out.glob("*.png"))
    assert len(outputs) == (3 if "--seeds" in flags else 1)
    for path in outputs:
        req = assert_replays(path, inputs, engines)
        assert_cli_replays(path, inputs, run_cli, tmp_path)
        if "--grow" in flags:
            assert req.mask_grow == int(flags[flags.index("--grow") + 1])
            assert req.mask_feather == int(flags[flags.index("--feather") + 1])


# -- the studio's core model (GenerationModel) -----------------------------------------------------
@pytest.mark.parametrize(
    "start",
    [InpaintRequest(), InpaintRequest(engine="diffusion", model="/m")],
    ids=["from-classical", "from-diffusion"],
)
@pytest.mark.parametrize(
    "loaded_request",
    [
        InpaintRequest(engine="diffusion", model="/m", mask_grow=0, mask_feather=0, seed=3),
        InpaintRequest(engine="classical", mask_grow=4, mask_feather=8),
        InpaintRequest(engine="diffusion", model="/m", mask_grow=0, mask_feather=3, seed=3),
    ],
    ids=["diffusion-0-0", "classical-4-8", "diffusion-0-3"],
)
def test_generation_model_keeps_a_loaded_requests_seam(start, loaded_request):
    """Parameters loaded from a PNG (or restored from the settings) keep their grow/feather, even
    when they equal the other engine's defaults; an engine switch by an edit still follows."""
    model = GenerationModel(request=start)
    model.set_request(loaded_request)
    assert model.effective_request() == loaded_request
    restored = GenerationModel(request=start)
    restored.restore({"request": loaded_request.to_dict(), "seed_locked": True})
    assert restored.request == loaded_request
    # an edit switching the engine still moves untouched defaults to the new engine's
    fresh = GenerationModel()
    fresh.update(engine="diffusion", model="/m")
    assert (fresh.request.mask_grow, fresh.request.mask_feather) == (4, 8)


def test_generation_model_run_of_loaded_png_parameters_reproduces(
    inputs, engines, tiny_model_dir, tmp_path
):
    """The studio's path: a PNG made with no grow/feather, its parameters loaded into the model
    (which starts on the classical engine), the effective request run: the same pixels."""
    args = ["--grow", "0", "--feather", "0", "--seed", "8"]
    out = tmp_path / "o.png"
    code = cli.main(
        [
            "run",
            *("--image", str(inputs[0]), "--mask", str(inputs[1]), "--out", str(out)),
            *("--model", str(tiny_model_dir), *DIFFUSION, *args, "--quiet"),
        ]
    )
    assert code == 0
    model = GenerationModel()  # a fresh studio: classical engine, 0/0
    model.set_request(read_parameters(out).request)
    req = model.effective_request()
    photo = imaging.load_image(inputs[0])
    mask = imaging.load_mask(inputs[1], photo.size)
    (again,) = inpaint(req, photo, mask, engines(req))
    assert np.array_equal(again.composite(photo.rgb), loaded(out).rgb)


def test_run_options_batch_seeds_survive_the_a1111_text():
    """A batched output's A1111 text carries its batch (Options), so other tools' copies of the
    parameters replay the same batch."""
    from inpaint_core.metadata import format_parameters, request_from_parameters

    req = InpaintRequest(
        engine="diffusion",
        model="/m",
        seed=6,
        mask_grow=0,
        mask_feather=0,
        strength=0.1 + 0.2,
        guidance_scale=7.123456789,
        options=RunOptions(batch_seeds=(5, 6, 7)),
    )
    assert request_from_parameters(format_parameters(req)) == req


# -- run --params-from: what the flags beside it change ------------------------------------------
def test_params_from_takes_only_the_flags_given(tmp_path, tiny_model_dir, inputs, run_cli):
    from inpaint_core.replay import explicit_dests

    given = explicit_dests(
        cli.build_parser(),
        ["run", "--image", "a", "--mask", "b", "--out", "c", "--params-from", "p", "--seed", "3"],
    )
    assert given == {"command", "image", "mask", "out", "params_from", "seed"}
    source = tmp_path / "source.png"
    base = ["run", "--image", str(inputs[0]), "--mask", str(inputs[1])]
    code, _ = run_cli(
        [*base, "--model", str(tiny_model_dir), *DIFFUSION, "--grow", "0", "--feather", "0"]
        + ["--strength", "0.7", "--seed", "4", "--out", str(source), "--quiet"]
    )
    assert code == 0
    stored = read_parameters(source).request
    # another seed: everything else as stored (no engine default for grow/feather, no preset)
    code, _ = run_cli(
        [*base, "--params-from", str(source), "--seed", "9", "--out", str(tmp_path / "9.png")]
    )
    assert code == 0
    nine = read_parameters(tmp_path / "9.png").request
    assert nine == replace(stored, seed=9)
    assert not np.array_equal(loaded(tmp_path / "9.png").rgb, loaded(source).rgb)
    # the classical engine instead: the stored 0/0 is kept (it is not diffusion's default)
    code, _ = run_cli(
        [
            *base,
            "--params-from",
            str(source),
            "--engine",
            "classical",
            "--out",
            str(tmp_path / "c.png"),
        ]
    )
    assert code == 0
    classical = read_parameters(tmp_path / "c.png").request
    assert classical.engine == "classical" and classical.model is None
    assert (classical.mask_grow, classical.mask_feather, classical.mask_padding) == (0, 0, 32)


def test_params_from_refusals_are_one_line(tmp_path, inputs, capsys):
    plain = tmp_path / "plain.png"
    plain.write_bytes(inputs[0].read_bytes())  # a picture without parameters
    base = ["run", "--image", str(inputs[0]), "--mask", str(inputs[1]), "--quiet"]
    assert cli.main([*base, "--params-from", str(plain), "--out", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no generation parameters" in err[0]
    # --out naming the picture the settings come from would replace it
    assert cli.main([*base, "--params-from", str(plain), "--out", str(plain)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--params-from" in err[0]


# -- the CPU thread count is part of the picture ----------------------------------------------------
def _thread_request(tiny_model_dir, **options) -> InpaintRequest:
    return InpaintRequest(
        engine="diffusion",
        model=str(tiny_model_dir),
        prompt="a brick wall",
        steps=3,
        target_size=64,
        seeds=(5, 6, 7),
        options=RunOptions(**options),
    )


def test_every_front_door_runs_a_request_on_the_same_cpu_threads(
    inputs, engines, tiny_model_dir, monkeypatch
):
    """Kernels split their sums by thread, so 1 and 2 torch threads differ by a level in a few
    pixels (seen here: seed 7). The studio's worker thread runs torch on all cores but one, the
    CLI and the service on torch's own default: a request naming no count must not take the
    caller's, or the same seed is another picture at each front door. It runs on
    ``default_cpu_threads()`` (the env var sets it), and records it."""
    import torch

    from inpaint_core import cpu_threads

    req = _thread_request(tiny_model_dir)
    photo = imaging.load_image(inputs[0])
    mask = imaging.load_mask(inputs[1], photo.size)
    before = torch.get_num_threads()
    made = {}
    try:
        for caller in (1, 2):  # the studio's worker on 2 cores; torch's default there
            torch.set_num_threads(caller)
            made[caller] = inpaint(req, photo, mask, engines(req))
            assert torch.get_num_threads() == caller  # the caller's count is put back
    finally:
        torch.set_num_threads(before)
    default = cpu_threads.default_cpu_threads()
    for one, two in zip(made[1], made[2], strict=True):
        assert one.request.options.cpu_threads == two.request.options.cpu_threads == default
        assert np.array_equal(one.composite(photo.rgb), two.composite(photo.rgb))
    # the override every front door reads
    monkeypatch.setenv(cpu_threads.THREADS_ENV, "3")
    assert cpu_threads.default_cpu_threads() == 3
    (first, *_) = inpaint(req, photo, mask, engines(req))
    assert first.request.options.cpu_threads == 3


def test_an_output_made_on_other_cpu_threads_replays_on_them(
    inputs, engines, tiny_model_dir, tmp_path, run_cli, monkeypatch
):
    """A picture made on another machine's default (another core count, or the env var) records
    its count, and a re-run uses it: that PNG re-made by ``run --params-from`` (or any front
    door) here is the same picture."""
    import torch

    from inpaint_core import cpu_threads

    default = cpu_threads.default_cpu_threads()
    other = 1 if default > 1 else 2
    req = _thread_request(tiny_model_dir)
    photo = imaging.load_image(inputs[0])
    mask = imaging.load_mask(inputs[1], photo.size)
    with monkeypatch.context() as env:
        env.setenv(cpu_threads.THREADS_ENV, str(other))  # as the other machine runs
        made = inpaint(req, photo, mask, engines(req))
    assert cpu_threads.default_cpu_threads() == default
    before = torch.get_num_threads()
    for result in made:
        assert result.request.options.cpu_threads == other
        path = tmp_path / f"other-{result.seed}.png"
        save_result_picture(path, result, photo.rgb, model_name=engines(req).model_name)
        assert_replays(path, inputs, engines)  # in-process, on this process's own thread count
        assert_cli_replays(path, inputs, run_cli, tmp_path)
        assert torch.get_num_threads() == before  # the re-run put the count back
