"""A compare sweep on the real diffusion engine (tiny random-weight model, CPU, 64 px grid, 3 steps).

The shared-work guarantees of issue 7: one sweep = cells identical to separate runs, the masked
image VAE-encoded once, the prompt encoded once, cancel keeps finished cells, and every cell's
saved PNG parameters re-run it bit for bit.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from skimage import data

from inpaint_core import imaging, metadata
from inpaint_core.contact_sheet import save_cell_png
from inpaint_core.engines.diffusion import DiffusionEngine
from inpaint_core.errors import JobCancelled
from inpaint_core.events import CancelToken
from inpaint_core.inpaint import inpaint
from inpaint_core.request import InpaintRequest
from inpaint_core.sweep import plan_sweep, run_sweep

SCHEDULERS = ["DDIM", "K_EULER"]


def maxdiff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


@pytest.fixture(scope="module")
def inputs():
    photo = np.asarray(Image.fromarray(data.coffee()).resize((160, 120), Image.LANCZOS))
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[40:80, 60:110] = 255
    return np.ascontiguousarray(photo), mask


@pytest.fixture(scope="module")
def base(tiny_model_dir):
    return InpaintRequest(
        engine="diffusion",
        model=str(tiny_model_dir),
        prompt="a cup of tea on a saucer",
        negative_prompt="blurry",
        steps=3,
        guidance_scale=7.5,
        target_size=64,
        mask_padding=8,
        seed=11,
        safety_checker=False,
    )


def new_engine(base: InpaintRequest) -> DiffusionEngine:
    """A fresh engine (empty caches), loaded through the same code path users take."""
    engine = DiffusionEngine(model=base.model, device="cpu")
    engine.load()
    return engine


@pytest.fixture(scope="module")
def engine(base):
    return new_engine(base)


@pytest.fixture(scope="module")
def sweep(base, inputs, engine):
    plan = plan_sweep(base, seeds=3, schedulers=SCHEDULERS)
    return plan, run_sweep(plan, *inputs, engine)


def test_six_cells_equal_six_separate_runs(sweep, inputs, engine):
    plan, cells = sweep
    photo, mask = inputs
    assert len(cells) == 6 and [c.cell.index for c in cells] == list(range(6))
    assert cells[0].result.info["grid"] == (64, 48) or max(cells[0].result.info["grid"]) == 64
    diffs = []
    for cr in cells:
        alone = inpaint(cr.cell.request, photo, mask, engine)
        assert len(alone) == 1 and alone[0].seed == cr.result.seed
        assert alone[0].request.scheduler == cr.result.request.scheduler
        diffs.append(maxdiff(alone[0].patch, cr.result.patch))
    # batched seeds (one call per row) give the pictures each seed gives alone. Not always bit
    # for bit: on CPU a batch of 3 rounds a little differently from a batch of 1 (measured here:
    # latents ~1e-5 apart, at most 1 level in a few pixels) -- each PNG records its batch.
    print("batch vs alone, max levels per cell:", diffs)
    assert max(diffs) <= 1, diffs
    # ... and the cells really differ from one another (seeds and schedulers matter)
    assert maxdiff(cells[0].result.patch, cells[1].result.patch) > 3
    assert not np.array_equal(cells[0].result.patch, cells[3].result.patch)


def test_masked_image_encoded_once_and_prompt_encoded_once(base, inputs):
    engine = new_engine(base)
    pipe = engine._loaded.pipe
    calls = {"vae.encode": 0, "encode_prompt": 0, "text_encoder": 0}

    def spy(name, fn):
        def wrapped(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapped

    # instance attributes shadow the bound methods: every call the engine or pipeline makes counts
    pipe.vae.encode = spy("vae.encode", pipe.vae.encode)
    pipe.encode_prompt = spy("encode_prompt", pipe.encode_prompt)
    pipe.text_encoder.forward = spy("text_encoder", pipe.text_encoder.forward)
    try:
        plan = plan_sweep(base, seeds=3, schedulers=SCHEDULERS)
        cells = run_sweep(plan, *inputs, engine)
        assert len(cells) == 6
        # the masked image and (soft inpainting, on by default with a feathered mask) the photo,
        # once each for 6 cells in 2 rows
        assert calls["vae.encode"] == 2
        # the prompt and the negative prompt (CFG), once each; the pipeline's own encode_prompt
        # runs once per row but is handed the cached embeddings, so it never reaches the encoder
        assert calls["text_encoder"] == 2

        # strength < 1 adds the photo's own latents: still once per sweep, not per row or cell
        plan = plan_sweep(base, seeds=2, strengths=[0.6, 0.8])
        calls.update({k: 0 for k in calls})
        assert len(run_sweep(plan, *inputs, engine)) == 4
        assert calls["vae.encode"] == 0  # masked image and photo cached from above
        assert calls["text_encoder"] == 0
    finally:
        del pipe.vae.encode, pipe.encode_prompt, pipe.text_encoder.forward


def test_cancel_mid_sweep_keeps_finished_cells(base, inputs, engine, sweep):
    _, full = sweep
    plan = plan_sweep(base, seeds=3, schedulers=SCHEDULERS)
    cancel = CancelToken()
    kept = []

    def on_event(ev):
        if ev.kind == "partial":
            kept.extend(ev.images)
            cancel.cancel()  # the user presses Cancel as the first row lands

    with pytest.raises(JobCancelled):
        run_sweep(plan, *inputs, engine, on_event, cancel)
    assert [c.cell.index for c in kept] == [0, 1, 2]
    for got, want in zip(kept, full[:3], strict=True):
        assert np.array_equal(got.result.patch, want.result.patch)
    # the engine is still usable after the cancel
    assert len(run_sweep(plan_sweep(base, seeds=1), *inputs, engine)) == 1


@pytest.mark.parametrize("index", [0, 3, 5])
def test_rerun_from_saved_png_parameters_is_bit_identical(sweep, inputs, engine, tmp_path, index):
    _, cells = sweep
    photo, mask = inputs
    cr = cells[index]
    path = save_cell_png(tmp_path, cr, photo, model_name=engine.model_name)
    loaded = imaging.load_image(path)
    request = metadata.request_from_png_text(loaded.text)
    assert request.seed == cr.result.seed and request.scheduler == cr.result.request.scheduler
    assert request.options.batch_seeds == (11, 12, 13)  # the row it was batched in
    again = inpaint(request, photo, mask, engine)  # the same photo and mask, the PNG's request
    assert len(again) == 1 and again[0].seed == cr.result.seed
    assert np.array_equal(again[0].composite(photo), loaded.rgb)
    assert np.array_equal(again[0].patch, cr.result.patch)


def test_batched_engine_cells_record_their_batch_and_rerun_bit_identical(base, inputs, tmp_path):
    """An engine allowed to batch seeds (``max_batch`` 2: faster, rounds per batch size) records
    in each PNG the batch its cell was made in; the PNG's request re-makes it, even on an engine
    that runs one seed at a time, and keeps the one output: bit for bit."""
    photo, mask = inputs
    fast = DiffusionEngine(model=base.model, device="cpu", max_batch=2)
    cells = run_sweep(plan_sweep(base, seeds=3, schedulers=["DDIM"]), photo, mask, fast)
    recorded = [c.result.request.options for c in cells]
    assert [(o.batch_seeds, o.max_batch) for o in recorded] == [
        ((11, 12), 2),
        ((11, 12), 2),
        (None, None),  # the last chunk held one seed: made alone
    ]
    exact = new_engine(base)  # one seed per call
    for cr in cells:
        path = save_cell_png(tmp_path, cr, photo, model_name=fast.model_name)
        loaded = imaging.load_image(path)
        request = metadata.request_from_png_text(loaded.text)
        (again,) = inpaint(request, photo, mask, exact)
        assert np.array_equal(again.composite(photo), loaded.rgb)


def test_prior_estimate_scales_with_the_grid_and_device(base):
    from inpaint_core.sweep import PRIOR_SECONDS_PER_STEP_512, prior_seconds_per_step

    cpu = prior_seconds_per_step(base, (512, 512))
    assert cpu == PRIOR_SECONDS_PER_STEP_512["cpu"]
    assert prior_seconds_per_step(base, (256, 256)) == pytest.approx(cpu / 4)
    assert prior_seconds_per_step(base, (512, 512), "cuda:1") == PRIOR_SECONDS_PER_STEP_512["cuda"]
    assert prior_seconds_per_step(InpaintRequest(engine="classical")) == 0.5


def test_cli_compare_on_the_diffusion_engine(base, inputs, tmp_path, capsys):
    from inpaint_core import cli

    photo, mask = inputs
    Image.fromarray(photo).save(tmp_path / "photo.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "sweep"
    code = cli.main(
        [
            "compare",
            "--image",
            str(tmp_path / "photo.png"),
            "--mask",
            str(tmp_path / "mask.png"),
            "--out",
            str(out),
            "--model",
            base.model,
            "--device",
            "cpu",
            "--seeds",
            "2",
            "--seed",
            "11",
            "--schedulers",
            "DDIM,K_EULER",
            "--steps",
            "2",
            "--target-size",
            "64",
            "--prompt",
            base.prompt,
            "--json",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "compare: 4 images (2 rows × 2 seeds), about" in captured.err
    report = json.loads(captured.out)
    assert len(report["cells"]) == 4 and (out / "contact-sheet.png").is_file()
    first = imaging.load_image(report["cells"][0]["path"])
    req = metadata.request_from_png_text(first.text)
    assert req.engine == "diffusion" and req.seed == 11 and req.options.batch_seeds == (11, 12)
