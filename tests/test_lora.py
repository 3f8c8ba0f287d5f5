"""LoRAs: kohya/A1111 and diffusers/PEFT files built in code for the tiny models change the fill;
weight 0 equals no LoRA; several at once; CLI --lora and <lora:NAME:W> tags; A1111 parameters and
JSON carry them; replay is exact; a LoRA for another family is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaint_core import cli
from inpaint_core.engines.diffusion import DiffusionEngine
from inpaint_core.errors import InpaintError, ModelError
from inpaint_core.imaging import load_image
from inpaint_core.inpaint import inpaint
from inpaint_core.lora import inspect_lora, lora_tags, parse_lora_arg, split_lora_tags
from inpaint_core.metadata import format_parameters, request_from_parameters, request_from_png_text
from inpaint_core.request import InpaintRequest, LoraRef
from inpaint_core.resources import sample_mask, sample_photo
from inpaint_core.testing import (
    build_tiny_inpaint_pipeline,
    build_tiny_sdxl_inpaint_pipeline,
    save_tiny_kohya_lora,
)


@pytest.fixture(scope="module")
def loras(tmp_path_factory):
    root = tmp_path_factory.mktemp("loras")
    sd = build_tiny_inpaint_pipeline()
    return {
        "style": save_tiny_kohya_lora(sd, root / "style.safetensors", seed=1),
        "other": save_tiny_kohya_lora(sd, root / "other.safetensors", seed=2),
        "xl": save_tiny_kohya_lora(
            build_tiny_sdxl_inpaint_pipeline(), root / "xl-style.safetensors", seed=3
        ),
    }


@pytest.fixture(scope="module")
def crop():
    image = np.asarray(Image.open(sample_photo()).convert("RGB").resize((64, 64)))
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    return image, mask


BASE = dict(engine="diffusion", prompt="a cat", steps=3, seed=5, scheduler="K_EULER")


def test_lora_changes_the_fill_and_weight_zero_is_no_lora(tiny_model_dir, loras, crop):
    engine = DiffusionEngine(model=str(tiny_model_dir), device="cpu")
    run = lambda **kw: engine.run(InpaintRequest(**BASE, **kw), *crop)[0].image  # noqa: E731
    plain = run()
    styled = run(loras=[(str(loras["style"]), 1.0)])
    assert np.abs(plain.astype(int) - styled).max() > 10
    assert np.array_equal(run(loras=[(str(loras["style"]), 0.0)]), plain)
    assert np.array_equal(run(), plain)  # switching the LoRA off restores the model exactly
    assert np.array_equal(run(loras=[(str(loras["style"]), 1.0)]), styled)  # and back on
    both = run(loras=[(str(loras["style"]), 1.0), (str(loras["other"]), 0.5)])
    assert np.abs(both.astype(int) - styled).max() > 0
    half = run(loras=[(str(loras["style"]), 0.5)])
    assert not np.array_equal(half, styled) and not np.array_equal(half, plain)


def test_a_lora_for_another_family_is_refused(tiny_model_dir, loras, crop):
    engine = DiffusionEngine(model=str(tiny_model_dir), device="cpu")
    with pytest.raises(ModelError, match="LoRA xl-style.safetensors is made for"):
        engine.run(InpaintRequest(**BASE, loras=[(str(loras["xl"]), 1.0)]), *crop)
    # the model is untouched: a plain run still works
    assert len(engine.run(InpaintRequest(**BASE), *crop)) == 1


def test_sdxl_lora_on_sdxl(tiny_sdxl_dir, loras, crop):
    engine = DiffusionEngine(model=str(tiny_sdxl_dir), device="cpu")
    plain = engine.run(InpaintRequest(**BASE), *crop)[0].image
    styled = engine.run(InpaintRequest(**BASE, loras=[(str(loras["xl"]), 1.0)]), *crop)[0].image
    assert np.abs(plain.astype(int) - styled).max() > 10
    info = inspect_lora(loras["xl"])
    assert (info.format, info.family, info.text_encoders) == ("kohya", "sdxl", 2)


def test_diffusers_peft_format_lora(tiny_model_dir, loras, crop, tmp_path):
    """The same LoRA saved in diffusers/PEFT format gives the same fill as the kohya file."""
    from diffusers import StableDiffusionInpaintPipeline
    from peft.utils import get_peft_model_state_dict

    pipe = build_tiny_inpaint_pipeline()
    pipe.load_lora_weights(str(loras["style"]), adapter_name="style")
    StableDiffusionInpaintPipeline.save_lora_weights(
        tmp_path / "peft",
        unet_lora_layers=get_peft_model_state_dict(pipe.unet, adapter_name="style"),
        text_encoder_lora_layers=get_peft_model_state_dict(pipe.text_encoder, adapter_name="style"),
    )
    peft_file = next((tmp_path / "peft").glob("*.safetensors"))
    assert inspect_lora(peft_file).format == "diffusers"
    engine = DiffusionEngine(model=str(tiny_model_dir), device="cpu")
    kohya = engine.run(InpaintRequest(**BASE, loras=[(str(loras["style"]), 1.0)]), *crop)[0]
    peft = engine.run(InpaintRequest(**BASE, loras=[(str(peft_file), 1.0)]), *crop)[0]
    assert np.abs(kohya.image.astype(int) - peft.image).max() <= 1


def test_lora_text_forms():
    assert parse_lora_arg("style.safetensors:0.8") == LoraRef("style.safetensors", 0.8)
    assert parse_lora_arg("style.safetensors") == LoraRef("style.safetensors", 1.0)
    assert parse_lora_arg(r"C:\loras\x.safetensors") == LoraRef(r"C:\loras\x.safetensors", 1.0)
    assert parse_lora_arg(r"C:\loras\x.safetensors:-0.5").scale == -0.5
    with pytest.raises(InpaintError, match="between"):
        parse_lora_arg("x:99")
    clean, found = split_lora_tags("a cat, <lora:style:0.8> on a mat <lora:other>")
    assert clean == "a cat, on a mat"
    assert found == [LoraRef("style", 0.8), LoraRef("other", 1.0)]
    assert lora_tags(found) == "<lora:style:0.8> <lora:other:1.0>"
    req = InpaintRequest(**BASE, loras=[("/x/style.safetensors", 0.8)])
    text = format_parameters(req)
    assert text.splitlines()[0] == "a cat <lora:style:0.8>"
    back = request_from_parameters(text)
    assert back.prompt == "a cat" and back.loras == (LoraRef("style", 0.8),)
    assert InpaintRequest.from_json(req.to_json()) == req
    with pytest.raises(Exception, match="loras"):
        InpaintRequest(loras=[("x", "heavy")])


def test_cli_lora_png_replay_exact(tiny_model_dir, loras, tmp_path, capsys, monkeypatch):
    """--lora and a prompt tag; the PNG names both (A1111 tags + JSON paths); re-running its JSON
    request, or only its A1111 parameters (LoRAs found by name in the models folder's loras/),
    gives the same pixels."""
    models = tmp_path / "models"
    (models / "loras").mkdir(parents=True)
    other = models / "loras" / "other.safetensors"
    other.write_bytes(loras["other"].read_bytes())
    monkeypatch.setenv("INPAINT_STUDIO_MODELS", str(models))
    out = tmp_path / "out.png"
    args = [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--model",
        str(tiny_model_dir),
        "--steps",
        "3",
        "--target-size",
        "64",
        "--seed",
        "7",
        "--prompt",
        "a clean saucer <lora:other:0.5>",
        "--lora",
        f"{loras['style']}:0.8",
        "--out",
        str(out),
        "--json",
    ]
    assert cli.main(args) == 0
    capsys.readouterr()
    png = load_image(out)
    assert png.text["parameters"].splitlines()[0] == (
        "a clean saucer <lora:style:0.8> <lora:other:0.5>"
    )
    saved = json.loads(png.text["inpaint_studio"])
    assert saved["loras"] == [
        {"path": str(loras["style"]), "scale": 0.8},
        {"path": "other", "scale": 0.5},
    ]
    photo = load_image(sample_photo())
    mask = np.asarray(Image.open(sample_mask()).convert("L"))
    req = request_from_png_text(png.text)
    (again,) = inpaint(req, photo, mask, DiffusionEngine(model=req.model, device="cpu"))
    assert np.array_equal(again.composite(photo.rgb), png.rgb)
    # from A1111 parameters alone: "style" is found in loras/ once it is there
    (models / "loras" / "style.safetensors").write_bytes(loras["style"].read_bytes())
    a1111 = request_from_png_text({"parameters": png.text["parameters"]})
    assert [lora.name for lora in a1111.loras] == ["style", "other"]
    (again,) = inpaint(a1111, photo, mask, DiffusionEngine(model=req.model, device="cpu"))
    assert np.array_equal(again.composite(photo.rgb), png.rgb)
    # without the LoRA the picture differs
    plain = request_from_png_text(png.text).__class__(**{**req.to_dict(), "loras": ()})
    (bare,) = inpaint(plain, photo, mask, DiffusionEngine(model=req.model, device="cpu"))
    assert not np.array_equal(bare.composite(photo.rgb), png.rgb)


def test_cli_refuses_a_missing_or_foreign_lora(tiny_model_dir, loras, tmp_path, capsys):
    base = [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--model",
        str(tiny_model_dir),
        "--steps",
        "2",
        "--target-size",
        "64",
        "--out",
        str(tmp_path / "o.png"),
        "--quiet",
    ]
    assert cli.main([*base, "--lora", str(loras["xl"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # (library loading bars above it)
    assert err.startswith("error: LoRA xl-style.safetensors is made for SDXL")
    assert cli.main([*base, "--lora", str(Path(tmp_path) / "nope.safetensors")]) == 2
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "o.png").exists()
