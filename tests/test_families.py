"""Model families told apart from files (configs, state-dict keys), and each family run through
the same front door: SD 2.x (v-prediction), SDXL inpainting, a plain 4-channel model as masked
img2img when allowed. Tiny random-weight models with the real layouts (inpaint_core.testing)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from inpaint_core import cli
from inpaint_core.engines.diffusion import DiffusionEngine
from inpaint_core.errors import ModelError
from inpaint_core.imaging import load_image
from inpaint_core.inpaint import inpaint
from inpaint_core.metadata import request_from_png_text
from inpaint_core.models import format_model_table, list_models, load_pipeline
from inpaint_core.models.families import detect_file, detect_folder, few_step_kind
from inpaint_core.request import InpaintRequest
from inpaint_core.resources import sample_mask, sample_photo

UNET_IN = "model.diffusion_model.input_blocks.0.0.weight"


def _ckpt(path, channels=9, **extra):
    tensors = {UNET_IN: torch.zeros(320, channels, 3, 3, dtype=torch.float16)}
    tensors.update({k: torch.zeros(2, dtype=torch.float16) for k in extra.get("keys", ())})
    save_file(tensors, path)
    return path


@pytest.mark.parametrize(
    ("marker", "channels", "family", "inpainting", "prediction"),
    [
        (
            "cond_stage_model.transformer.text_model.final_layer_norm.weight",
            9,
            "sd1",
            True,
            "epsilon",
        ),
        (
            "cond_stage_model.transformer.text_model.final_layer_norm.weight",
            4,
            "sd1",
            False,
            "epsilon",
        ),
        ("cond_stage_model.model.ln_final.weight", 9, "sd2", True, "epsilon"),
        ("cond_stage_model.model.ln_final.weight", 4, "sd2", False, "v_prediction"),
        ("conditioner.embedders.1.model.ln_final.weight", 9, "sdxl", True, "epsilon"),
        ("conditioner.embedders.1.model.ln_final.weight", 4, "sdxl", False, "epsilon"),
    ],
)
def test_single_file_family_from_keys(tmp_path, marker, channels, family, inpainting, prediction):
    found = detect_file(_ckpt(tmp_path / "m.safetensors", channels, keys=[marker]))
    assert (found.family, found.inpainting, found.in_channels) == (family, inpainting, channels)
    assert found.prediction_type == prediction
    assert found.precision == "fp16"


@pytest.mark.parametrize(("features", "fill"), [(384, True), (64, False)])
def test_flux_file_fill_or_not(tmp_path, features, fill):
    path = tmp_path / "flux1-fill-dev.safetensors"
    save_file(
        {
            "img_in.weight": torch.zeros(8, features, dtype=torch.bfloat16),
            "double_blocks.0.x": torch.zeros(1, dtype=torch.bfloat16),
        },
        path,
    )
    found = detect_file(path)
    assert (found.family, found.inpainting, found.precision) == ("flux", fill, "bf16")


def test_few_step_names():
    assert few_step_kind("sdxl_lightning_4step_lora") == "lightning"
    assert few_step_kind("Hyper-SDXL-8steps-lora") == "hyper"
    assert few_step_kind("lcm-lora-sdv1-5") == "lcm"
    assert few_step_kind("sdxl-turbo") == "turbo"
    assert few_step_kind("TCD-SDXL-LoRA") == "tcd"
    assert few_step_kind("realisticVisionV60_inpainting") is None
    assert few_step_kind("calcium-model") is None  # "lcm" only as a word


def test_folder_families(tiny_model_dir, tiny_sd2_dir, tiny_sdxl_dir, tiny_model_4ch_dir):
    sd1, sd2, sdxl, plain = map(
        detect_folder, (tiny_model_dir, tiny_sd2_dir, tiny_sdxl_dir, tiny_model_4ch_dir)
    )
    assert (sd1.family, sd1.inpainting, sd1.prediction_type) == ("sd1", True, "epsilon")
    assert (sd2.family, sd2.inpainting, sd2.prediction_type) == ("sd2", True, "v_prediction")
    assert (sdxl.family, sdxl.inpainting, sdxl.in_channels) == ("sdxl", True, 9)
    assert (plain.family, plain.inpainting, plain.in_channels) == ("sd1", False, 4)
    assert sdxl.precision == "fp32"


def test_listing_shows_family_precision_and_place(tmp_path, monkeypatch, tiny_sdxl_dir):
    import shutil

    root = tmp_path / "models"
    root.mkdir()
    shutil.copytree(tiny_sdxl_dir, root / "my-sdxl")
    _ckpt(root / "sdxl_lightning_4step.safetensors", 4, keys=["conditioner.embedders.0.x"])
    monkeypatch.setenv("INPAINT_STUDIO_MODELS", str(root))
    found = {m.name: m for m in list_models(include_hf_cache=False)}
    assert found["my-sdxl"].family == "sdxl" and found["my-sdxl"].is_inpainting
    assert found["my-sdxl"].precision == "fp32" and found["my-sdxl"].path == str(root / "my-sdxl")
    light = found["sdxl_lightning_4step"]
    assert (light.family, light.is_inpainting, light.few_step) == ("sdxl", False, "lightning")
    table = format_model_table(list(found.values()))
    assert "SDXL (lightning)" in table and "FAMILY" in table and "PRECISION" in table


# -- SDXL through the front door -------------------------------------------------------------------
def _cli_args(model, tmp_path, name, *extra):
    return [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--model",
        str(model),
        "--steps",
        "3",
        "--target-size",
        "64",
        "--prompt",
        "a clean saucer",
        "--negative-prompt",
        "blurry",
        "--json",
        "--out",
        str(tmp_path / name),
        *extra,
    ]


def _check_family_run(model, tmp_path, capsys, scheduler="Euler a", extra=(), extra_flags=()):
    """CLI batch of 2 -> each output: outside the mask untouched, equal to its seed alone
    (within the CPU batch tolerance), and its PNG replays bit for bit."""
    assert (
        cli.main(
            _cli_args(
                model,
                tmp_path,
                "batch",
                "--seeds",
                "3,4",
                "--scheduler",
                scheduler,
                *extra,
                *extra_flags,
            )
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    photo = load_image(sample_photo())
    mask = np.asarray(Image.open(sample_mask()).convert("L"))
    outs = [load_image(o["path"]) for o in report["outputs"]]
    far = np.ones(mask.shape, bool)
    ys, xs = np.nonzero(mask)
    far[max(ys.min() - 80, 0) : ys.max() + 80, max(xs.min() - 80, 0) : xs.max() + 80] = False
    for out in outs:
        assert np.array_equal(out.rgb[far], photo.rgb[far])
    assert np.abs(outs[0].rgb.astype(int) - outs[1].rgb.astype(int)).max() > 10
    assert (
        cli.main(
            _cli_args(
                model,
                tmp_path,
                "alone.png",
                "--seed",
                "4",
                "--scheduler",
                scheduler,
                *extra,
                *extra_flags,
            )
        )
        == 0
    )
    capsys.readouterr()
    alone = load_image(tmp_path / "alone.png")
    assert np.abs(alone.rgb.astype(int) - outs[1].rgb.astype(int)).max() <= 3
    req = request_from_png_text(outs[1].text)
    engine = DiffusionEngine(model=req.model, device="cpu", allow_non_inpainting=bool(extra))
    (again,) = inpaint(req, photo, mask, engine)
    assert np.array_equal(again.composite(photo.rgb), outs[1].rgb)
    return engine


def test_sdxl_inpainting_cli_batch_replay(tiny_sdxl_dir, tmp_path, capsys):
    engine = _check_family_run(tiny_sdxl_dir, tmp_path, capsys)
    assert engine._loaded.family == "sdxl"
    assert type(engine._loaded.pipe).__name__ == "StableDiffusionXLInpaintPipeline"


def test_sd2_v_prediction_kept_through_scheduler_swaps(tiny_sd2_dir, tmp_path, capsys):
    engine = _check_family_run(tiny_sd2_dir, tmp_path, capsys, scheduler="DPM++ 2M Karras")
    assert engine._loaded.family == "sd2"
    assert engine._loaded.pipe.scheduler.config.prediction_type == "v_prediction"


def test_sdxl_prompt_conditioning_matters(tiny_sdxl_dir):
    engine = DiffusionEngine(model=str(tiny_sdxl_dir), device="cpu")
    image = np.asarray(Image.open(sample_photo()).convert("RGB").resize((64, 64)))
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    base = dict(engine="diffusion", steps=2, seed=1, scheduler="K_EULER")
    a = engine.run(InpaintRequest(prompt="a red apple", **base), image, mask)[0].image
    b = engine.run(InpaintRequest(prompt="a blue car", **base), image, mask)[0].image
    assert np.abs(a.astype(int) - b.astype(int)).max() > 0


# -- plain 4-channel models: refused by default, masked img2img when allowed ----------------------
def test_plain_model_refused_with_the_choice_named(tiny_model_4ch_dir, tmp_path, capsys):
    code = cli.main(_cli_args(tiny_model_4ch_dir, tmp_path, "o.png", "--seed", "1"))
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "not an inpainting model" in err and "--allow-non-inpainting" in err


def test_plain_model_as_masked_img2img_when_allowed(tiny_model_4ch_dir, tmp_path, capsys):
    engine = _check_family_run(
        tiny_model_4ch_dir, tmp_path, capsys, extra=("--allow-non-inpainting",)
    )
    assert engine._loaded.inpainting is False


def test_plain_sdxl_loads_only_when_allowed(tmp_path):
    from inpaint_core.testing import save_tiny_sdxl_inpaint_model

    folder = save_tiny_sdxl_inpaint_model(tmp_path / "plain-sdxl", in_channels=4)
    with pytest.raises(ModelError, match="--allow-non-inpainting"):
        load_pipeline(folder, device="cpu")
    loaded = load_pipeline(folder, device="cpu", allow_non_inpainting=True)
    assert (loaded.family, loaded.inpainting) == ("sdxl", False)


def test_bundled_sdxl_configs_have_sdxl_inpaintings_shapes():
    """The bundled single-file configs build SDXL-inpainting's published parameter counts (on the
    meta device: no memory), and both tokenizers are CLIP's real BPE."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

    from inpaint_core.models import bundled_config_dir

    folder = bundled_config_dir("sdxl")
    assert folder.name == "sdxl-inpainting" and bundled_config_dir().name == "sd15-inpainting"
    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder / "unet"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder / "vae"))
        te2 = CLIPTextModelWithProjection(CLIPTextConfig.from_pretrained(folder / "text_encoder_2"))
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(unet) == 2_567_463_684 + 5 * 320 * 9
    assert count(te2) == 694_659_840 and count(vae) == 83_653_863
    assert vae.config.scaling_factor == 0.13025
    ids = [49406, 320, 1125, 539, 320, 2368, 49407]
    for sub in ("tokenizer", "tokenizer_2"):
        tok = CLIPTokenizer.from_pretrained(folder / sub)
        assert tok("a photo of a cat").input_ids == ids
    assert CLIPTokenizer.from_pretrained(folder / "tokenizer_2").pad_token == "!"
    assert detect_folder(folder).family == "sdxl"


def _same_weights(a, b, names):
    for name in names:
        sa, sb = getattr(a.pipe, name).state_dict(), getattr(b.pipe, name).state_dict()
        assert sa.keys() == sb.keys()
        assert all(torch.equal(sa[k], sb[k]) for k in sa), name


def test_sdxl_single_file_checkpoint_loads_every_weight(tiny_sdxl_dir, tmp_path):
    """An SDXL checkpoint in the original (SGM) single-file layout, CLIP-L + OpenCLIP bigG text
    encoders, loads into StableDiffusionXLInpaintPipeline with every weight where the diffusers
    folder has it (configs from a folder: the bundled ones for real files, the tiny ones here)."""
    from tests.ldm_checkpoint import save_sdxl_single_file

    path = save_sdxl_single_file(tiny_sdxl_dir, tmp_path / "tiny-sdxl-inpaint.safetensors")
    assert detect_file(path).family == "sdxl" and detect_file(path).inpainting
    folder = load_pipeline(tiny_sdxl_dir, device="cpu")
    single = load_pipeline(path, device="cpu", config=tiny_sdxl_dir)
    assert single.family == "sdxl" and type(single.pipe).__name__.startswith("StableDiffusionXL")
    _same_weights(folder, single, ("unet", "vae", "text_encoder", "text_encoder_2"))


def test_plain_single_file_as_masked_img2img(tiny_model_4ch_dir, tiny_model_dir, tmp_path):
    """A 4-channel single-file checkpoint is refused, and with allow_non_inpainting its UNet is
    built with 4 input channels from the (inpainting) bundled config and loads every weight."""
    from tests.ldm_checkpoint import save_single_file

    path = save_single_file(tiny_model_4ch_dir, tmp_path / "plain.safetensors")
    with pytest.raises(ModelError, match="--allow-non-inpainting"):
        load_pipeline(path, device="cpu", config=tiny_model_dir)
    single = load_pipeline(path, device="cpu", config=tiny_model_dir, allow_non_inpainting=True)
    assert single.inpainting is False and single.pipe.unet.config.in_channels == 4
    folder = load_pipeline(tiny_model_4ch_dir, device="cpu", allow_non_inpainting=True)
    _same_weights(folder, single, ("unet", "vae", "text_encoder"))


# -- FLUX.1 Fill -----------------------------------------------------------------------------------
def test_flux_fill_cli_batch_replay(tiny_flux_dir, tmp_path, capsys):
    """FLUX.1 Fill through the CLI: outside the mask untouched, batch = sequential, PNG replay."""
    assert detect_folder(tiny_flux_dir).family == "flux" and detect_folder(tiny_flux_dir).inpainting
    engine = _check_family_run(
        tiny_flux_dir, tmp_path, capsys, extra_flags=("--guidance-scale", "30")
    )
    assert engine._loaded.family == "flux"
    assert type(engine._loaded.pipe).__name__ == "FluxFillPipeline"


def test_flux_guidance_is_an_input_and_no_negative_prompt(tiny_flux_dir):
    engine = DiffusionEngine(model=str(tiny_flux_dir), device="cpu")
    image = np.asarray(Image.open(sample_photo()).convert("RGB").resize((48, 40)))
    mask = np.zeros((40, 48), np.uint8)
    mask[8:32, 8:40] = 255
    base = dict(engine="diffusion", prompt="a red apple", steps=2, seed=3)
    events = []
    a = engine.run(InpaintRequest(guidance_scale=30.0, **base), image, mask, events.append)[0]
    b = engine.run(InpaintRequest(guidance_scale=3.5, **base), image, mask)[0]
    c = engine.run(
        InpaintRequest(guidance_scale=30.0, negative_prompt="blurry", **base), image, mask
    )[0]
    assert a.image.shape == (40, 48, 3)  # padded to 16s inside, cropped back
    assert np.abs(a.image.astype(int) - b.image).max() > 0  # guidance changes the fill
    assert np.array_equal(a.image, c.image)  # no negative prompt in Flux
    assert a.info["scheduler"] == "FlowMatchEuler"
    previews = [e for e in events if e.kind == "preview"]
    assert previews and previews[0].preview.shape == (40, 48, 3)


def test_flux_that_is_not_fill_is_refused(tmp_path):
    from inpaint_core.testing import save_tiny_flux_fill_model

    folder = save_tiny_flux_fill_model(tmp_path / "flux-dev", fill=False)
    assert detect_folder(folder).inpainting is False
    with pytest.raises(ModelError, match="not FLUX.1 Fill"):
        load_pipeline(folder, device="cpu")


@pytest.mark.parametrize("family", ["sdxl", "flux"])
def test_cancel_within_one_step_and_previews(family):
    """SDXL and Flux Fill: previews every step, a cancel at step 2 of 6 runs no third denoiser
    step and no VAE decode, and the engine gives the same picture afterwards."""
    from inpaint_core.engines.diffusion import loaded_from_pipeline
    from inpaint_core.errors import JobCancelled
    from inpaint_core.events import CancelToken
    from inpaint_core.testing import build_tiny_flux_fill_pipeline, build_tiny_sdxl_inpaint_pipeline

    pipe = (
        build_tiny_sdxl_inpaint_pipeline() if family == "sdxl" else build_tiny_flux_fill_pipeline()
    )
    engine = DiffusionEngine(loaded=loaded_from_pipeline(pipe), preview_interval_s=0.0)
    image = np.asarray(Image.open(sample_photo()).convert("RGB").resize((64, 48)))
    mask = np.zeros((48, 64), np.uint8)
    mask[8:40, 16:48] = 255
    request = InpaintRequest(
        engine="diffusion", prompt="a cat", steps=6, seed=2, scheduler="K_EULER"
    )
    events = []
    reference = engine.run(request, image, mask, events.append)[0]
    assert len([e for e in events if e.kind == "preview"]) == 6
    denoiser = pipe.unet if family == "sdxl" else pipe.transformer
    calls, decodes = [], []
    hooks = [
        denoiser.register_forward_hook(lambda *a: calls.append(1)),
        pipe.vae.decoder.register_forward_hook(lambda *a: decodes.append(1)),
    ]
    token = CancelToken()

    def on_event(event):
        if event.kind == "progress" and event.step == 2:
            token.cancel()

    with pytest.raises(JobCancelled):
        engine.run(request, image, mask, on_event, token)
    assert len(calls) == 2 and decodes == []
    for h in hooks:
        h.remove()
    assert np.array_equal(engine.run(request, image, mask)[0].image, reference.image)


def test_sdxl_and_flux_from_the_hf_cache(tiny_sdxl_dir, tiny_flux_dir, tmp_path, monkeypatch):
    """Repos already in the Hugging Face cache load offline with their family, and are listed."""
    from tests.test_models import make_hf_cache_repo

    cache = tmp_path / "hf" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("INPAINT_STUDIO_MODELS", str(tmp_path / "models"))
    make_hf_cache_repo(cache, "diffusers/tiny-sdxl-inpainting", tiny_sdxl_dir)
    make_hf_cache_repo(cache, "black-forest-labs/tiny-flux-fill", tiny_flux_dir)
    assert load_pipeline("diffusers/tiny-sdxl-inpainting", device="cpu").family == "sdxl"
    assert load_pipeline("black-forest-labs/tiny-flux-fill", device="cpu").family == "flux"
    listed = {m.name: m for m in list_models()}
    assert listed["diffusers/tiny-sdxl-inpainting"].kind == "hf_cache"
    assert listed["diffusers/tiny-sdxl-inpainting"].family == "sdxl"
    assert listed["black-forest-labs/tiny-flux-fill"].family == "flux"
    assert listed["black-forest-labs/tiny-flux-fill"].is_inpainting


def test_sd2_single_file_checkpoint(tiny_sd2_dir, tmp_path):
    """An SD 2.x checkpoint in the original layout (OpenCLIP text encoder) loads with every weight;
    with the bundled configs an inpainting file predicts noise and a plain 768 one predicts v."""
    from inpaint_core.models import bundled_config_dir
    from inpaint_core.models.families import Detection
    from inpaint_core.models.loading import single_file_scheduler
    from tests.ldm_checkpoint import save_sd2_single_file

    path = save_sd2_single_file(tiny_sd2_dir, tmp_path / "tiny-sd2-inpainting.safetensors")
    assert (detect_file(path).family, detect_file(path).inpainting) == ("sd2", True)
    folder = load_pipeline(tiny_sd2_dir, device="cpu")
    single = load_pipeline(path, device="cpu", config=tiny_sd2_dir)
    assert single.family == "sd2"
    _same_weights(folder, single, ("unet", "vae", "text_encoder"))
    bundled = bundled_config_dir("sd2")
    assert single_file_scheduler(Detection("sd2", True, 9, "epsilon"), bundled) is None
    v = single_file_scheduler(Detection("sd2", False, 4, "v_prediction"), bundled)
    assert type(v).__name__ == "DDIMScheduler" and v.config.prediction_type == "v_prediction"
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(bundled / "unet"))
    # SD 2's UNet (865,910,724 parameters) with the inpainting conv_in (5 more input channels)
    assert sum(p.numel() for p in unet.parameters()) == 865_910_724 + 5 * 320 * 9
