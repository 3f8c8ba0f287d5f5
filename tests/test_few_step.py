"""Few-step models (LCM / TCD / Lightning / Hyper / Turbo): recognised from checkpoint or LoRA
names, their scheduler/steps/CFG chosen when the user did not set them (and overridable); the
family's working grid (SDXL: 1024); LCM and TCD schedulers keep batch = sequential."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from inpaint_core import cli
from inpaint_core.engines.diffusion import DiffusionEngine
from inpaint_core.models.presets import FEW_STEP_PRESETS, suggested_settings
from inpaint_core.request import InpaintRequest
from inpaint_core.resources import sample_photo
from inpaint_core.testing import build_tiny_inpaint_pipeline, save_tiny_kohya_lora


def _request(argv):
    parser = cli.build_parser()
    args = parser.parse_args(
        ["run", "--image", "x.png", "--mask", "m.png", "--out", "o.png", *argv]
    )
    return cli.request_from_args(args)


def test_family_grid_and_few_step_checkpoint(
    tiny_sdxl_dir, tiny_model_dir, tiny_flux_dir, tmp_path
):
    light = shutil.copytree(tiny_sdxl_dir, tmp_path / "sdxl-lightning-inpaint")
    s = suggested_settings(str(light))
    assert (s.family, s.few_step) == ("sdxl", "lightning")
    assert s.fields == {
        "target_size": 1024,
        "scheduler": "K_EULER_TRAILING",
        "steps": 6,
        "guidance_scale": 1.0,
    }
    plain_xl = suggested_settings(str(tiny_sdxl_dir))
    assert plain_xl.fields == {"target_size": 1024} and plain_xl.few_step is None
    assert suggested_settings(str(tiny_model_dir)).fields == {"target_size": 512}
    assert suggested_settings(str(tmp_path / "missing")).fields == {}
    flux = suggested_settings(str(tiny_flux_dir)).fields
    assert flux == {"target_size": 1024, "guidance_scale": 30.0, "steps": 28}


def test_cli_applies_presets_only_where_not_set(tiny_model_dir, tiny_sdxl_dir, tmp_path, capsys):
    lcm = save_tiny_kohya_lora(
        build_tiny_inpaint_pipeline(), tmp_path / "lcm-lora-tiny.safetensors"
    )
    req = _request(["--model", str(tiny_model_dir), "--lora", str(lcm)])
    p = FEW_STEP_PRESETS["lcm"]
    assert (req.scheduler, req.steps, req.guidance_scale) == (
        p.scheduler,
        p.steps,
        p.guidance_scale,
    )
    assert "few-step model (LCM)" in capsys.readouterr().err
    req = _request(["--model", str(tiny_model_dir), "--lora", str(lcm), "--steps", "3"])
    assert (req.scheduler, req.steps) == ("LCM", 3)  # the user's steps win, the rest still apply
    req = _request(["--model", str(tiny_model_dir), "--lora", str(lcm), "--scheduler", "DDIM"])
    assert req.scheduler == "DDIM"
    # SDXL works on a 1024 grid unless told otherwise; a normal model keeps the usual defaults
    assert _request(["--model", str(tiny_sdxl_dir)]).target_size == 1024
    assert _request(["--model", str(tiny_sdxl_dir), "--target-size", "64"]).target_size == 64
    d = InpaintRequest()
    req = _request(["--model", str(tiny_model_dir)])
    assert (req.steps, req.guidance_scale, req.scheduler) == (
        d.steps,
        d.guidance_scale,
        d.scheduler,
    )
    assert _request([]).target_size == d.target_size  # classical: untouched


@pytest.mark.parametrize("scheduler", ["LCM", "TCD", "K_EULER_TRAILING"])
def test_few_step_schedulers_batch_equals_sequential(tiny_model_dir, scheduler):
    engine = DiffusionEngine(model=str(tiny_model_dir), device="cpu")
    image = np.asarray(Image.open(sample_photo()).convert("RGB").resize((64, 64)))
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    base = dict(
        engine="diffusion", prompt="a cat", steps=4, guidance_scale=1.0, scheduler=scheduler
    )
    batch = engine.run(InpaintRequest(**base, seeds=(1, 2)), image, mask)
    alone = engine.run(InpaintRequest(**base, seeds=(2,)), image, mask)
    assert np.abs(batch[1].image.astype(int) - alone[0].image).max() <= 3
    assert np.abs(batch[0].image.astype(int) - batch[1].image).max() > 10
    assert batch[0].info["scheduler"] == scheduler


def test_lcm_checkpoint_recognised_from_its_config(tmp_path):
    """An LCM-distilled checkpoint embeds the guidance scale (UNet time_cond_proj_dim) and ships
    the LCM scheduler: recognised from its configs whatever its name."""
    from diffusers import LCMScheduler

    from inpaint_core.models.families import detect_folder
    from inpaint_core.testing import SD15_SCHEDULER_CONFIG

    pipe = build_tiny_inpaint_pipeline()
    pipe.scheduler = LCMScheduler.from_config(SD15_SCHEDULER_CONFIG)
    pipe.save_pretrained(tmp_path / "my-model", safe_serialization=True)
    assert detect_folder(tmp_path / "my-model").few_step == "lcm"
    assert suggested_settings(str(tmp_path / "my-model")).fields["scheduler"] == "LCM"
