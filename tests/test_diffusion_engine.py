"""The diffusion engine on a tiny random-weight model (real geometry), CPU, few steps, 64x64 crops."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from inpaint_core import schedulers
from inpaint_core.engines.diffusion import DiffusionEngine, loaded_from_pipeline
from inpaint_core.errors import InpaintError, JobCancelled, ModelError
from inpaint_core.events import CancelToken
from inpaint_core.request import InpaintRequest
from inpaint_core.testing import build_tiny_inpaint_pipeline, set_safety_checker_flags_everything

SIZE = 64


def req(**kw) -> InpaintRequest:
    base = dict(engine="diffusion", prompt="a red brick wall", steps=3, seed=5)
    base.update(kw)
    return InpaintRequest(**base)


def maxdiff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


@pytest.fixture(scope="module")
def crop():
    image = np.asarray(Image.fromarray(data.astronaut()).resize((SIZE, SIZE), Image.LANCZOS))
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[16:48, 20:44] = 255
    return np.ascontiguousarray(image), mask


@pytest.fixture(scope="module")
def engine():
    return DiffusionEngine(loaded=loaded_from_pipeline(build_tiny_inpaint_pipeline(), "tiny"))


class Recorder:
    def __init__(self) -> None:
        self.events = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def kind(self, kind):
        return [e for e in self.events if e.kind == kind]


@pytest.mark.parametrize("name", schedulers.scheduler_names())
def test_every_scheduler_runs(engine, crop, name):
    image, mask = crop
    outs = engine.run(req(scheduler=name, seeds=(1, 2)), image, mask)
    assert [o.seed for o in outs] == [1, 2]
    for o in outs:
        assert o.image.shape == (SIZE, SIZE, 3) and o.image.dtype == np.uint8
        assert o.info["scheduler"] == name
        assert not o.nsfw_flagged
    assert maxdiff(outs[0].image, outs[1].image) > 3


def test_same_seed_is_bit_identical_and_seeds_differ(engine, crop):
    image, mask = crop
    a = engine.run(req(seed=7), image, mask)[0]
    b = engine.run(req(seed=7), image, mask)[0]
    c = engine.run(req(seed=8), image, mask)[0]
    assert np.array_equal(a.image, b.image)
    assert a.seed == 7 and c.seed == 8
    assert maxdiff(a.image, c.image) > 3


def test_random_seed_is_reported_and_reproduces(engine, crop):
    image, mask = crop
    out = engine.run(req(seed=None), image, mask)[0]
    assert isinstance(out.seed, int)
    again = engine.run(req(seed=out.seed), image, mask)[0]
    assert np.array_equal(out.image, again.image)


@pytest.mark.parametrize("strength", [1.0, 0.6])
@pytest.mark.parametrize("scheduler", ["DDIM", "K_EULER_ANCESTRAL"])
def test_batch_equals_one_by_one(engine, crop, strength, scheduler):
    image, mask = crop
    kw = dict(strength=strength, scheduler=scheduler, steps=4)
    batch = engine.run(req(seeds=(5, 6), **kw), image, mask)
    singles = [engine.run(req(seed=s, **kw), image, mask)[0] for s in (5, 6)]
    assert [o.seed for o in batch] == [5, 6]
    for b, s in zip(batch, singles, strict=True):
        assert maxdiff(b.image, s.image) <= 3


@pytest.mark.parametrize("strength", [1.0, 0.6])
def test_the_unbatched_trap_really_differs(engine, crop, strength):
    """Why the engine encodes itself: the stock pipeline with a list of generators gives seed 6 a
    different picture in a batch than alone (it samples the VAE with generator[0] only)."""
    image, mask = crop
    pipe = engine.load().pipe
    schedulers.set_scheduler(pipe, "DDIM")
    common = dict(
        prompt="a red brick wall",
        image=Image.fromarray(image),
        mask_image=Image.fromarray(mask),
        height=SIZE,
        width=SIZE,
        num_inference_steps=4,
        strength=strength,
        output_type="np",
    )
    gens = [torch.Generator().manual_seed(s) for s in (5, 6)]
    batched = pipe(generator=gens, num_images_per_prompt=2, **common).images[1]
    alone = pipe(generator=torch.Generator().manual_seed(6), **common).images[0]
    assert np.abs(batched - alone).max() * 255 > 3
    schedulers.forget_scheduler(pipe)


@pytest.mark.parametrize("strength", [1.0, 0.6])
def test_engine_equals_stock_pipeline_with_mean_encoding(engine, crop, strength, monkeypatch):
    """Same numbers as a bare pipeline call whose VAE encode uses the latent mean: our own encode
    and noise preparation (incl. strength < 1) reproduce the pipeline's maths."""
    import diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_inpaint as sd_inpaint

    image, mask = crop
    ours = engine.run(req(seed=11, strength=strength, scheduler="K_EULER"), image, mask)[0]
    pipe = engine.load().pipe
    schedulers.set_scheduler(pipe, "K_EULER")
    monkeypatch.setattr(
        sd_inpaint,
        "retrieve_latents",
        lambda enc, generator=None, sample_mode="s": enc.latent_dist.mode(),
    )
    bare = pipe(
        prompt="a red brick wall",
        image=Image.fromarray(image),
        mask_image=Image.fromarray(mask),
        height=SIZE,
        width=SIZE,
        num_inference_steps=3,
        strength=strength,
        generator=torch.Generator().manual_seed(11),
        output_type="np",
    ).images[0]
    assert maxdiff(ours.image, (bare * 255).round().astype(np.uint8)) <= 1


def test_large_batches_are_split_and_still_match(crop):
    image, mask = crop
    eng = DiffusionEngine(loaded=loaded_from_pipeline(build_tiny_inpaint_pipeline()), max_batch=2)
    rec = Recorder()
    outs = eng.run(req(seeds=(1, 2, 3)), image, mask, rec)
    assert [o.seed for o in outs] == [1, 2, 3]
    single = eng.run(req(seed=3), image, mask)[0]
    assert np.array_equal(outs[2].image, single.image)  # the last chunk held seed 3 alone
    assert [o.info.get("batch_seeds") for o in outs] == [[1, 2], [1, 2], None]
    progress = [e.progress for e in rec.kind("progress")]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)
    assert any("images 3-3 of 3" in e.message for e in rec.kind("progress"))


def test_seeds_are_batched_by_default_and_max_batch_1_makes_each_alone(crop):
    """Same seed + same inputs = same picture, alone or in a batch: within a level when batched
    (the default, faster), bit for bit with ``max_batch`` 1; a batched output says its batch."""
    image, mask = crop
    eng = DiffusionEngine(loaded=loaded_from_pipeline(build_tiny_inpaint_pipeline()))
    outs = eng.run(req(seeds=(1, 2, 3), scheduler="Euler a"), image, mask)
    one = eng.run(req(seeds=(1, 2, 3), scheduler="Euler a", options={"max_batch": 1}), image, mask)
    for out, single in zip(outs, one, strict=True):
        alone = eng.run(req(seed=out.seed, scheduler="Euler a"), image, mask)[0]
        assert np.abs(out.image.astype(int) - alone.image.astype(int)).max() <= 1
        assert out.info["batch_seeds"] == [1, 2, 3]
        assert np.array_equal(single.image, alone.image)
        assert "batch_seeds" not in single.info


def test_a_recorded_batch_is_remade_on_any_engine(crop):
    """A PNG from an engine that batched (older files: chunks of 4, no max_batch recorded) is
    re-made on a one-seed-at-a-time engine in its own batch, and that one output kept."""
    image, mask = crop
    pipe = build_tiny_inpaint_pipeline()
    batched = DiffusionEngine(loaded=loaded_from_pipeline(pipe), max_batch=4)
    made = batched.run(req(seeds=(1, 2, 3, 4, 5)), image, mask)  # chunks (1-4) and (5)
    exact = DiffusionEngine(loaded=loaded_from_pipeline(pipe))
    legacy = exact.run(req(seed=2, options={"batch_seeds": [1, 2, 3, 4, 5]}), image, mask)
    assert len(legacy) == 1 and np.array_equal(legacy[0].image, made[1].image)
    recorded = exact.run(
        req(seed=3, options={"batch_seeds": [1, 2, 3, 4], "max_batch": 4}), image, mask
    )
    assert np.array_equal(recorded[0].image, made[2].image)


def test_progress_every_step(engine, crop):
    image, mask = crop
    rec = Recorder()
    engine.run(req(scheduler="DDIM", steps=5), image, mask, rec)
    steps = [(e.step, e.total_steps) for e in rec.kind("progress")]
    assert steps == [(i, 5) for i in range(1, 6)]


def test_cancel_stops_within_one_step_and_engine_stays_usable(crop):
    image, mask = crop
    pipe = build_tiny_inpaint_pipeline()
    eng = DiffusionEngine(loaded=loaded_from_pipeline(pipe))
    reference = eng.run(req(steps=8, scheduler="DPM++ 2M Karras"), image, mask)[0]
    unet_calls = []
    hook = pipe.unet.register_forward_hook(lambda *a: unet_calls.append(1))
    decodes = []
    vae_hook = pipe.vae.decoder.register_forward_hook(lambda *a: decodes.append(1))
    token = CancelToken()

    def on_event(event):
        if event.kind == "progress" and event.step == 2:
            token.cancel()

    with pytest.raises(JobCancelled):
        eng.run(req(steps=8, scheduler="DPM++ 2M Karras"), image, mask, on_event, token)
    assert len(unet_calls) == 2  # cancelled at step 2 of 8: no third UNet step
    assert decodes == []  # and no VAE decode after the cancel
    hook.remove()
    vae_hook.remove()
    again = eng.run(req(steps=8, scheduler="DPM++ 2M Karras"), image, mask, cancel=CancelToken())[0]
    assert np.array_equal(again.image, reference.image)


def test_cancel_before_start(engine, crop):
    image, mask = crop
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        engine.run(req(), image, mask, cancel=token)


def test_preview_events(crop):
    image, mask = crop
    pipe = build_tiny_inpaint_pipeline()
    every = DiffusionEngine(loaded=loaded_from_pipeline(pipe), preview_interval_s=0.0)
    rec = Recorder()
    every.run(req(steps=4, scheduler="DDIM"), image, mask, rec)
    previews = rec.kind("preview")
    assert [p.step for p in previews] == [1, 2, 3, 4]
    for p in previews:
        assert p.preview.shape == (SIZE, SIZE, 3) and p.preview.dtype == np.uint8
    assert not np.array_equal(previews[0].preview, previews[-1].preview)

    throttled = DiffusionEngine(loaded=loaded_from_pipeline(pipe), preview_interval_s=3600)
    rec = Recorder()
    throttled.run(req(steps=4, scheduler="DDIM"), image, mask, rec)
    assert len(rec.kind("preview")) == 1

    rec = Recorder()
    every.run(req(steps=4, scheduler="DDIM", options={"preview": False}), image, mask, rec)
    assert rec.kind("preview") == [] and len(rec.kind("progress")) == 4


def test_prompt_embeddings_are_cached(crop):
    image, mask = crop
    pipe = build_tiny_inpaint_pipeline()
    eng = DiffusionEngine(loaded=loaded_from_pipeline(pipe))
    calls = []
    pipe.text_encoder.register_forward_hook(lambda *a: calls.append(1))
    eng.run(req(prompt="a cat", negative_prompt="blurry", seed=1), image, mask)
    assert len(calls) == 2  # prompt + negative prompt
    eng.run(req(prompt="a cat", negative_prompt="blurry", seed=2, scheduler="DDIM"), image, mask)
    assert len(calls) == 2  # cache hit: no text encoder call
    eng.run(req(prompt="a dog", negative_prompt="blurry", seed=2), image, mask)
    assert len(calls) == 4
    eng.run(req(prompt="a dog", negative_prompt="", seed=2), image, mask)
    assert len(calls) == 6


def test_safety_checker_flags_but_keeps_the_image(crop):
    image, mask = crop
    pipe = build_tiny_inpaint_pipeline(with_safety_checker=True)
    eng = DiffusionEngine(loaded=loaded_from_pipeline(pipe), max_batch=2)  # one check per call
    checks = []
    pipe.safety_checker.register_forward_hook(lambda *a: checks.append(1))

    clean = eng.run(req(seeds=(1, 2)), image, mask)
    assert [o.nsfw_flagged for o in clean] == [False, False] and len(checks) == 1

    set_safety_checker_flags_everything(pipe.safety_checker, True)
    flagged = eng.run(req(seeds=(1, 2)), image, mask)
    assert [o.nsfw_flagged for o in flagged] == [True, True] and len(checks) == 2
    for a, b in zip(flagged, clean, strict=True):
        assert np.array_equal(a.image, b.image)  # flagged, not blacked out
        assert a.image.max() > 0

    off = eng.run(req(seeds=(1, 2), safety_checker=False), image, mask)
    assert [o.nsfw_flagged for o in off] == [False, False]
    assert len(checks) == 2  # turned off by the user: not run at all


def test_scheduler_swap_does_not_reload(engine, crop):
    image, mask = crop
    pipe = engine.load().pipe
    unet, vae, text_encoder = pipe.unet, pipe.vae, pipe.text_encoder
    for name in ("DDIM", "UniPC", "Euler a", "DPM++ 2M Karras"):
        out = engine.run(req(scheduler=name), image, mask)[0]
        assert out.info["scheduler"] == schedulers.canonical_scheduler_name(name)
    assert engine.load().pipe is pipe
    assert pipe.unet is unet and pipe.vae is vae and pipe.text_encoder is text_encoder


def test_bad_inputs_are_clear_errors(engine, crop):
    image, mask = crop
    with pytest.raises(InpaintError, match="multiple of 8"):
        engine.run(req(), image[:60, :60], mask[:60, :60])
    with pytest.raises(InpaintError, match="mask is 32x32 but the image is 64x64"):
        engine.run(req(), image, mask[:32, :32])
    with pytest.raises(InpaintError, match="uint8"):
        engine.run(req(), image.astype(np.float32), mask)
    with pytest.raises(ModelError, match="needs a model"):
        DiffusionEngine()
    with pytest.raises(InpaintError, match="no denoising step"):
        engine.run(req(steps=3, strength=0.2), image, mask)
    # the engine is still fine afterwards
    assert engine.run(req(steps=3, strength=0.5), image, mask)[0].image.shape == (SIZE, SIZE, 3)


def test_out_of_memory_retries_with_memory_savers(crop, monkeypatch):
    image, mask = crop
    pipe = build_tiny_inpaint_pipeline()
    eng = DiffusionEngine(loaded=loaded_from_pipeline(pipe), max_batch=2)  # a batch to retry
    reference = eng.run(req(seeds=(1, 2)), image, mask)
    real_call = type(pipe).__call__
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(len(kwargs["generator"]))
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(type(pipe), "__call__", flaky)
    outs = eng.run(req(seeds=(1, 2)), image, mask)
    assert calls == [2, 1, 1]  # the failed batch, then one image at a time
    assert pipe.vae.use_tiling and pipe.vae.use_slicing
    for a, b in zip(outs, reference, strict=True):
        assert a.seed == b.seed and maxdiff(a.image, b.image) <= 3
    # made one at a time after all: no batch recorded (a re-run would re-make it alone)
    assert all("batch_seeds" not in o.info for o in outs)
    assert all(o.info["batch_seeds"] == [1, 2] for o in reference)

    def always_oom(self, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(type(pipe), "__call__", always_oom)
    with pytest.raises(InpaintError, match="out of GPU memory at 64x64"):
        eng.run(req(), image, mask)
    monkeypatch.undo()
    assert eng.run(req(seed=1), image, mask)[0].image.shape == (SIZE, SIZE, 3)


def test_nan_decode_retries_with_the_vae_upcast(crop, monkeypatch):
    image, mask = crop
    pipe = build_tiny_inpaint_pipeline()
    eng = DiffusionEngine(loaded=loaded_from_pipeline(pipe))
    pipe.vae.to(torch.bfloat16)
    real_decode = pipe.vae.decode

    def nan_unless_fp32(z, *args, **kwargs):
        out = real_decode(z, *args, **kwargs)
        if pipe.vae.dtype != torch.float32:
            out[0].fill_(float("nan"))
        return out

    monkeypatch.setattr(pipe.vae, "decode", nan_unless_fp32)
    out = eng.run(req(), image, mask)[0]
    assert pipe.vae.dtype == torch.float32
    assert out.image.shape == (SIZE, SIZE, 3)

    def always_nan(z, *args, **kwargs):
        out = real_decode(z, *args, **kwargs)
        out[0].fill_(float("nan"))
        return out

    monkeypatch.setattr(pipe.vae, "decode", always_nan)
    with pytest.raises(InpaintError, match="NaN"):
        eng.run(req(), image, mask)


def test_loads_a_model_folder_lazily_with_progress(tiny_model_dir, crop):
    image, mask = crop
    eng = DiffusionEngine(model=str(tiny_model_dir), device="cpu")
    assert not eng.is_loaded
    rec = Recorder()
    outs = eng.run(req(seeds=(3, 4)), image, mask, rec)
    assert eng.is_loaded and len(outs) == 2
    assert any("loading model" in e.message for e in rec.kind("progress"))
    assert outs[0].info["model"] == eng.model_name
    # same weights as the in-memory tiny model: same picture for the same seed
    mem = DiffusionEngine(loaded=loaded_from_pipeline(build_tiny_inpaint_pipeline()))
    assert maxdiff(mem.run(req(seed=3), image, mask)[0].image, outs[0].image) <= 1


def test_a_four_channel_model_is_refused(tiny_model_4ch_dir, crop):
    image, mask = crop
    eng = DiffusionEngine(model=str(tiny_model_4ch_dir), device="cpu")
    with pytest.raises(ModelError, match="inpainting"):
        eng.run(req(), image, mask)


def test_full_resolution_photo_through_inpaint(engine):
    """Through the region + compositing path: outside the grown+feathered mask, bit-identical."""
    from inpaint_core import compose
    from inpaint_core.inpaint import inpaint

    photo = data.coffee()  # 400x600 real photo
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[150:210, 250:330] = 255
    request = req(seeds=(1, 2), target_size=64, mask_grow=4, mask_feather=4)
    results = inpaint(request, photo, mask, engine)
    assert [r.seed for r in results] == [1, 2]
    margin = compose.composite_margin(request.mask_grow, request.mask_feather)
    ys, xs = np.nonzero(mask)
    outside = np.ones(mask.shape, bool)
    outside[
        ys.min() - margin : ys.max() + margin + 1, xs.min() - margin : xs.max() + margin + 1
    ] = False
    for r in results:
        full = r.composite(photo)
        assert np.array_equal(full[outside], photo[outside])
        assert not np.array_equal(full[mask > 0], photo[mask > 0])
