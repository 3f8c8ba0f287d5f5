"""Masked content (original / fill / latent noise / latent nothing): each mode changes what the model
starts from (the latents handed to the pipeline, spied), replays from the PNG, and keeps batch ==
one by one. Tiny random-weight model on CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from inpaint_core import cli, metadata
from inpaint_core.engines.diffusion import DiffusionEngine, loaded_from_pipeline
from inpaint_core.imaging import load_image, save_png
from inpaint_core.inpaint import inpaint
from inpaint_core.request import MASKED_CONTENT, InpaintRequest
from inpaint_core.testing import build_tiny_inpaint_pipeline

SIZE = 64


@pytest.fixture(scope="module")
def crop():
    image = np.asarray(Image.fromarray(data.astronaut()).resize((SIZE, SIZE), Image.LANCZOS))
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[16:48, 24:48] = 255
    return np.ascontiguousarray(image), mask


@pytest.fixture(scope="module")
def engine():
    return DiffusionEngine(loaded=loaded_from_pipeline(build_tiny_inpaint_pipeline(), "tiny"))


def req(**kw) -> InpaintRequest:
    base = dict(engine="diffusion", prompt="a brick wall", steps=3, seed=5, scheduler="DDIM")
    base.update(kw)
    return InpaintRequest(**base)


@pytest.fixture
def spy(engine, monkeypatch):
    """Every ``latents=`` the engine hands the pipeline, in call order."""
    pipe = engine.load().pipe
    seen: list[torch.Tensor] = []
    cls = type(pipe)
    original = cls.__call__

    def recording(self, *args, **kwargs):
        seen.append(kwargs["latents"].detach().clone())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "__call__", recording)
    return seen


def _inside(latents: torch.Tensor, mask: np.ndarray) -> torch.Tensor:
    m = torch.from_numpy(mask[::8, ::8] >= 128)
    return m.expand_as(latents[0])


@pytest.mark.parametrize("strength", [0.75, 1.0])
def test_each_mode_changes_the_start(engine, crop, spy, strength):
    image, mask = crop
    starts = {}
    for mode in MASKED_CONTENT:
        engine.run(req(masked_content=mode, strength=strength), image, mask)
        starts[mode] = spy[-1]
    inside = _inside(starts["original"], mask)
    for a in MASKED_CONTENT:
        for b in MASKED_CONTENT:
            if a < b:
                diff = (starts[a] - starts[b]).abs()[0]
                assert diff[inside].max() > 1e-3, (a, b)
    # latent noise / nothing replace the photo's latents *inside* the mask only
    for mode in ("latent_noise", "latent_nothing"):
        if strength < 1.0:
            same = (starts[mode] - starts["original"]).abs()[0][~inside]
            assert same.max() < 1e-5, mode
    if strength == 1.0:
        # original at full strength is the stock pipeline's start: the seed's pure noise
        noise = torch.randn(
            (1, 4, SIZE // 8, SIZE // 8), generator=torch.Generator().manual_seed(5)
        )
        assert torch.equal(starts["original"], noise)


def test_default_is_fill_without_a_prompt_and_original_with_one(engine, crop, spy):
    image, mask = crop
    assert InpaintRequest().effective_masked_content() == "fill"
    assert InpaintRequest(prompt="a cat").effective_masked_content() == "original"
    engine.run(req(prompt="", strength=0.8), image, mask)
    engine.run(req(prompt="", strength=0.8, masked_content="fill"), image, mask)
    engine.run(req(prompt="", strength=0.8, masked_content="original"), image, mask)
    auto, fill, original = spy[-3:]
    assert torch.equal(auto, fill)
    assert not torch.equal(auto, original)


@pytest.mark.parametrize("mode", ["fill", "latent_noise", "latent_nothing"])
def test_batch_equals_one_by_one(engine, crop, mode):
    image, mask = crop
    kw = dict(masked_content=mode, strength=0.8, steps=4, scheduler="K_EULER_ANCESTRAL")
    batch = engine.run(req(seeds=(5, 6), **kw), image, mask)
    singles = [engine.run(req(seed=s, **kw), image, mask)[0] for s in (5, 6)]
    for b, s in zip(batch, singles, strict=True):
        assert np.abs(b.image.astype(int) - s.image.astype(int)).max() <= 3
    assert np.abs(batch[0].image.astype(int) - batch[1].image.astype(int)).max() > 3


@pytest.mark.parametrize("mode", MASKED_CONTENT)
def test_replays_from_the_png(engine, crop, mode, tmp_path):
    image, mask = crop
    request = req(masked_content=mode, strength=0.7, mask_feather=0, mask_padding=8)
    result = inpaint(request, image, mask, engine)[0]
    path = save_png(tmp_path / f"{mode}.png", result.composite(image), request=result.request)
    text = load_image(path).text
    assert f"Masked content: {metadata.A1111_MASKED_CONTENT[mode]}" in text["parameters"]
    for stored in (text, {"parameters": text["parameters"]}):
        again_request = metadata.request_from_png_text(stored)
        assert again_request.masked_content == mode
        again = inpaint(again_request, image, mask, engine)[0]
        assert np.array_equal(again.composite(image), result.composite(image))


def test_a1111_spellings_and_indices():
    assert InpaintRequest(masked_content="latent noise").masked_content == "latent_noise"
    text = "x\nSteps: 5, Sampler: Euler, CFG scale: 5, Masked content: 3"
    assert metadata.request_from_parameters(text).masked_content == "latent_nothing"
    text = "x\nSteps: 5, Sampler: Euler, CFG scale: 5, Masked content: latent noise"
    assert metadata.request_from_parameters(text).masked_content == "latent_noise"
    with pytest.raises(metadata.MetadataError, match="Masked content"):
        metadata.request_from_parameters(
            "x\nSteps: 5, Sampler: Euler, CFG scale: 5, Masked content: sideways"
        )
    with pytest.raises(Exception, match="masked_content"):
        InpaintRequest(masked_content="sideways")


def test_cli_flag(tmp_path, capsys):
    args = cli.build_parser().parse_args(
        ["run", "--image", "a", "--mask", "b", "--out", "c", "--masked-content", "latent_noise"]
    )
    assert cli.request_from_args(args).masked_content == "latent_noise"
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(
            ["run", "--image", "a", "--mask", "b", "--out", "c", "--masked-content", "nope"]
        )
