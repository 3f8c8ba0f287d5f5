"""A1111 ``parameters`` text, our JSON chunk, and save_png -> load_image -> request round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from skimage import data

from inpaint_core.errors import InpaintError
from inpaint_core.imaging import load_image, save_png
from inpaint_core.metadata import (
    A1111_SAMPLERS,
    MetadataError,
    a1111_sampler_name,
    format_parameters,
    parse_parameters,
    request_for_output,
    request_from_parameters,
    request_from_png_text,
)
from inpaint_core.request import InpaintRequest
from inpaint_core.schedulers import SCHEDULER_ALIASES

# A1111 1.6-style infotext: multi-line prompt, quoted values holding commas and colons, extra keys
A1111_TEXT = (
    "a photo of a cat, masterpiece\n"
    "wearing a (red:1.2) hat\n"
    "Negative prompt: blurry, lowres\n"
    "watermark\n"
    "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234567, "
    "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.75, "
    'Mask blur: 4, Lora hashes: "add_detail: 7c6bad76eb54, more_details: 3b8aa1d351ef", '
    'Masked area padding: 48, TI hashes: "easynegative: c74b4e810b03", Version: v1.6.0'
)


def test_parse_a1111_text():
    p = parse_parameters(A1111_TEXT)
    assert p["prompt"] == "a photo of a cat, masterpiece\nwearing a (red:1.2) hat"
    assert p["negative_prompt"] == "blurry, lowres\nwatermark"
    assert p["Steps"] == "20" and p["Sampler"] == "DPM++ 2M" and p["Schedule type"] == "Karras"
    assert p["CFG scale"] == "7" and p["Seed"] == "1234567" and p["Size"] == "512x768"
    assert p["Lora hashes"] == "add_detail: 7c6bad76eb54, more_details: 3b8aa1d351ef"
    assert p["TI hashes"] == "easynegative: c74b4e810b03"
    assert p["Version"] == "v1.6.0" and p["Model hash"] == "6ce0161689"


def test_request_from_a1111_text():
    r = request_from_png_text({"parameters": A1111_TEXT})
    assert r.engine == "diffusion"
    assert r.prompt == "a photo of a cat, masterpiece\nwearing a (red:1.2) hat"
    assert r.negative_prompt == "blurry, lowres\nwatermark"
    assert (r.steps, r.scheduler, r.guidance_scale, r.seed) == (20, "DPM++ 2M Karras", 7.0, 1234567)
    assert (r.width, r.height, r.strength, r.model) == (512, 768, 0.75, "v1-5-pruned-emaonly")
    assert (r.mask_feather, r.mask_padding) == (4, 48)


def test_old_a1111_text_without_negative_prompt():
    text = "portrait of an astronaut\nSteps: 30, Sampler: Euler a, CFG scale: 6.5, Seed: 42, Size: 768x512"
    r = request_from_png_text({"parameters": text})
    assert (r.prompt, r.negative_prompt, r.steps) == ("portrait of an astronaut", "", 30)
    assert (r.scheduler, r.guidance_scale, r.seed, r.width) == ("K_EULER_ANCESTRAL", 6.5, 42, 768)


def test_karras_schedule_type_only_where_we_have_a_karras_variant():
    base = "x\nSteps: 20, Sampler: {}, Schedule type: Karras, CFG scale: 7"
    assert request_from_parameters(base.format("Euler a")).scheduler == "K_EULER_ANCESTRAL"
    assert request_from_parameters(base.format("DPM++ 2M")).scheduler == "DPM++ 2M Karras"
    old = "x\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7"
    assert request_from_parameters(old).scheduler == "DPM++ 2M Karras"


def test_last_line_with_fewer_than_three_pairs_is_prompt():
    p = parse_parameters("style: oil, mood: calm")
    assert p["prompt"] == "style: oil, mood: calm" and "style" not in p


def test_sampler_names_both_ways():
    expected = {
        "DDIM": "DDIM",
        "K_EULER": "Euler",
        "K_EULER_ANCESTRAL": "Euler a",
        "DPMSolverMultistep": "DPM++ 2M",
        "DPM++ 2M Karras": "DPM++ 2M Karras",
        "PNDM": "PLMS",
        "KLMS": "LMS",
        "UniPC": "UniPC",
        "LCM": "LCM",
        "TCD": "TCD",
        "K_EULER_TRAILING": "Euler trailing",
    }
    assert A1111_SAMPLERS == expected
    assert set(A1111_SAMPLERS) == set(SCHEDULER_ALIASES)
    for ours, theirs in expected.items():
        assert a1111_sampler_name(ours) == theirs
        text = f"p\nSteps: 10, Sampler: {theirs}, CFG scale: 5"
        assert request_from_parameters(text).scheduler == ours


def test_unknown_sampler_strict_and_lenient():
    text = "p\nSteps: 10, Sampler: Heun, CFG scale: 5, Seed: 3"
    with pytest.raises(MetadataError, match="Heun"):
        request_from_png_text({"parameters": text})
    r = request_from_png_text({"parameters": text}, strict=False)
    assert r.scheduler == InpaintRequest().scheduler and r.seed == 3 and r.steps == 10


def test_out_of_range_value_strict_and_lenient():
    text = "p\nSteps: 900, Sampler: Euler, CFG scale: 5, Size: 500x512"
    with pytest.raises(MetadataError, match="steps"):
        request_from_parameters(text)
    r = request_from_parameters(text, strict=False)
    assert r.steps == InpaintRequest().steps and r.width is None and r.scheduler == "K_EULER"


def test_format_parameters_golden():
    r = InpaintRequest(
        prompt="a cat\non a mat",
        negative_prompt="blurry, dark",
        scheduler="DPMSolverMultistep",
        steps=25,
        guidance_scale=7.5,
        seed=123,
        width=512,
        height=512,
        engine="diffusion",
    )
    assert format_parameters(r, model_name="sd-inpaint") == (
        "a cat\non a mat\n"
        "Negative prompt: blurry, dark\n"
        "Steps: 25, Sampler: DPM++ 2M, CFG scale: 7.5, Seed: 123, Size: 512x512, Model: sd-inpaint, "
        "Denoising strength: 1.0, Mask blur: 8, Inpaint area: Only masked, Masked area padding: 32, "
        "Engine: diffusion, Mask grow: 4, Target size: 512"
    )


def test_format_seed_choice():
    r = InpaintRequest(seeds=(7, 8), num_outputs=2)
    assert "Seed: 9" in format_parameters(r, seed=9)
    assert "Seed: 7" in format_parameters(r)
    assert "Seed" not in format_parameters(InpaintRequest())  # random: unknown until run


def test_request_for_output_keeps_one_seed():
    r = InpaintRequest(prompt="x", seeds=(5, 6)).resolved()
    one = request_for_output(r, 6)
    assert (one.seed, one.seeds, one.num_outputs) == (6, None, 1)
    assert request_for_output(InpaintRequest(seed=3)) == InpaintRequest(seed=3)


def test_parameters_alone_rebuild_every_field_we_write():
    r = InpaintRequest(
        prompt='line one, with "quotes"\nline two: ünïcödé 猫',
        negative_prompt="bad, worse: worst",
        scheduler="KLMS",
        steps=33,
        guidance_scale=6.25,
        strength=0.85,
        seed=4_000_000_000,
        width=640,
        height=448,
        target_size=768,
        safety_checker=False,
        engine="diffusion",
        model=r"C:\models\inpaint, v2.safetensors",
        mask_padding=64,
        mask_grow=0,
        mask_feather=12,
        color_match=True,
        options={"method": "patch", "radius": 3},
    )
    text = format_parameters(r)
    assert request_from_png_text({"parameters": text}) == r


def test_a_classical_fill_writes_no_sampler_fields_and_its_own_round_trip():
    """Steps/Sampler/CFG/strength describe a diffusion run: a classical fill's PNG does not claim
    them (other tools would show settings that were never used); what it used reads back."""
    r = InpaintRequest(engine="classical", mask_grow=0, mask_feather=2, options={"method": "telea"})
    text = format_parameters(r)
    pairs = parse_parameters(text)
    assert not {"Steps", "Sampler", "CFG scale", "Denoising strength"} & set(pairs)
    back = request_from_png_text({"parameters": text})
    assert (back.engine, back.mask_grow, back.mask_feather, back.options.method) == (
        "classical",
        0,
        2,
        "telea",
    )


def test_json_chunk_is_preferred_and_forward_compatible():
    ours = InpaintRequest(prompt="from json", seed=1)
    theirs = "from parameters\nSteps: 10, Sampler: Euler, CFG scale: 5"
    text = {"inpaint_studio": ours.to_json(), "parameters": theirs}
    assert request_from_png_text(text) == ours
    newer = json.loads(ours.to_json()) | {"field_from_the_future": 1}
    assert request_from_png_text({"inpaint_studio": json.dumps(newer)}) == ours


def test_broken_json_falls_back_or_fails_clearly():
    theirs = "from parameters\nSteps: 10, Sampler: Euler, CFG scale: 5"
    assert request_from_png_text({"inpaint_studio": "{nope", "parameters": theirs}).prompt == (
        "from parameters"
    )
    with pytest.raises(MetadataError, match="inpaint_studio"):
        request_from_png_text({"inpaint_studio": "{nope"})
    with pytest.raises(MetadataError, match="inpaint_studio"):
        request_from_png_text({"inpaint_studio": json.dumps({"steps": 0})})


def test_no_parameters_is_a_clear_error():
    with pytest.raises(MetadataError, match="no generation parameters") as exc:
        request_from_png_text({"Software": "GIMP"})
    assert isinstance(exc.value, InpaintError)


# -- through real PNG files -------------------------------------------------------------------


def test_png_round_trip(tmp_path):
    rgb = data.astronaut()
    alpha = np.tile(np.arange(512) // 2, (512, 1)).astype(np.uint8)
    req = InpaintRequest(
        prompt="a visor with\nno reflections, 宇宙",
        negative_prompt='text, "logo": none',
        engine="diffusion",
        scheduler="UniPC",
        seeds=(11, 12, 13),
        guidance_scale=8.0,
    ).resolved()
    path = save_png(tmp_path / "out.png", rgb, alpha=alpha, request=req, seed=12, model_name="m")
    assert path == tmp_path / "out.png" and [p.name for p in tmp_path.iterdir()] == ["out.png"]
    img = load_image(path)
    np.testing.assert_array_equal(img.rgb, rgb)
    np.testing.assert_array_equal(img.alpha, alpha)
    expected = request_for_output(req, 12)
    assert request_from_png_text(img.text) == expected
    assert img.text["parameters"] == format_parameters(expected, 12, "m")  # newlines kept
    assert "Seed: 12" in img.text["parameters"] and "Sampler: UniPC" in img.text["parameters"]
    # and without our JSON, the A1111 text alone gives the same request (model name aside)
    only_a1111 = {"parameters": img.text["parameters"]}
    assert request_from_png_text(only_a1111) == InpaintRequest.from_dict(
        expected.to_dict() | {"model": "m"}
    )


def test_png_chunks_other_tools_read(tmp_path):
    req = InpaintRequest(prompt="plain ascii prompt", seed=5, engine="diffusion")
    path = save_png(tmp_path / "a.png", data.chelsea(), request=req, extra_text={"Software": "x"})
    raw = path.read_bytes()
    assert b"tEXtparameters\0plain ascii prompt\n" in raw  # A1111 readers look for this chunk
    assert b"tEXtinpaint_studio\0{" in raw
    assert load_image(path).text["Software"] == "x"


def test_extra_text_cannot_shadow_our_chunks(tmp_path):
    req = InpaintRequest(prompt="new", seed=5)
    stale = {"parameters": "old\nSteps: 1, Sampler: Euler, CFG scale: 1", "inpaint_studio": "{}"}
    path = save_png(tmp_path / "b.png", data.chelsea(), request=req, extra_text=stale)
    assert request_from_png_text(load_image(path).text) == req


def test_save_png_without_request_and_bad_input(tmp_path):
    path = save_png(tmp_path / "plain.png", data.chelsea())
    img = load_image(path)
    assert img.text == {} and img.alpha is None
    with pytest.raises(MetadataError):
        request_from_png_text(img.text)
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        save_png(tmp_path / "bad.png", data.camera())
    with pytest.raises(ValueError, match="alpha"):
        save_png(tmp_path / "bad.png", data.chelsea(), alpha=np.zeros((2, 2), np.uint8))
    assert not (tmp_path / "bad.png").exists()
