"""Soft inpainting (differential diffusion on the feather band). Tiny random-weight model, CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler
from PIL import Image
from skimage import data

from inpaint_core import compose, metadata, schedulers
from inpaint_core.engines import soft_inpaint
from inpaint_core.engines.diffusion import DiffusionEngine, loaded_from_pipeline
from inpaint_core.imaging import load_image, save_png
from inpaint_core.inpaint import inpaint
from inpaint_core.masks import BBox
from inpaint_core.region import Region
from inpaint_core.request import InpaintRequest
from inpaint_core.testing import build_tiny_inpaint_pipeline


@pytest.fixture(scope="module")
def photo():
    return np.ascontiguousarray(
        np.asarray(Image.fromarray(data.astronaut()).resize((128, 128), Image.LANCZOS))
    )


@pytest.fixture(scope="module")
def mask():
    m = np.zeros((128, 128), np.uint8)
    m[48:80, 52:84] = 255
    return m


@pytest.fixture(scope="module")
def engine():
    return DiffusionEngine(loaded=loaded_from_pipeline(build_tiny_inpaint_pipeline(), "tiny"))


def req(**kw) -> InpaintRequest:
    base = dict(
        engine="diffusion",
        prompt="a brick wall",
        steps=4,
        seed=3,
        target_size=64,
        mask_padding=8,
        scheduler="DDIM",
    )
    base.update(kw)
    return InpaintRequest(**base)


class MaskSpy:
    def __init__(self, engine):
        self.engine = engine
        self.masks: list[np.ndarray] = []
        self.name = engine.name
        self.native_resolution = engine.native_resolution
        self.soft_masks = engine.soft_masks

    def run(self, request, image, mask, on_event, cancel):
        self.masks.append(mask.copy())
        return self.engine.run(request, image, mask, on_event, cancel)


def test_hard_mask_equals_the_normal_path(engine, photo, mask):
    spy = MaskSpy(engine)
    soft = inpaint(req(mask_feather=0, soft_inpainting=True), photo, mask, spy)[0]
    hard = inpaint(req(mask_feather=0, soft_inpainting=False), photo, mask, spy)[0]
    assert np.array_equal(soft.patch, hard.patch)
    assert set(np.unique(spy.masks[0])) <= {0, 255}  # nothing soft reached the engine


def test_feathered_mask_differs_from_the_hard_path_only_where_the_paste_reaches(
    engine, photo, mask
):
    spy = MaskSpy(engine)
    soft = inpaint(req(mask_feather=8), photo, mask, spy)[0]
    plain = inpaint(req(mask_feather=8, soft_inpainting=False), photo, mask, spy)[0]
    soft_mask, plain_mask = spy.masks
    assert ((soft_mask > 0) & (soft_mask < 255)).any()  # the feather band reached the engine
    assert set(np.unique(plain_mask)) <= {0, 255}
    assert soft.box == plain.box
    alpha = compose.blend_alpha(mask[soft.box.slices], 4, 8)
    a, b = soft.composite(photo), plain.composite(photo)
    outside = np.ones(photo.shape[:2], bool)
    outside[soft.box.slices] = alpha <= 0
    # beyond the feather band: both are the photo, bit for bit
    assert np.array_equal(a[outside], photo[outside])
    assert np.array_equal(b[outside], photo[outside])
    # in the feather band the soft path made a different picture
    band = np.zeros(photo.shape[:2], bool)
    band[soft.box.slices] = (alpha > 0) & (alpha < 1)
    assert np.abs(a[band].astype(int) - b[band].astype(int)).max() > 2


def test_reset_rule_on_a_real_scheduler():
    """After step i of N, a band pixel with change c is reset to the noised photo unless
    c > 1 - (i + 1) / N; c = 0 and c = 1 are never touched."""

    class Pipe:
        scheduler = DDIMScheduler(num_train_timesteps=1000)
        num_timesteps = 4

    Pipe.scheduler.set_timesteps(4)
    change = torch.tensor([0.0, 0.3, 0.6, 1.0]).reshape(1, 1, 1, 4)
    photo = torch.full((1, 1, 1, 4), 5.0)
    noise = torch.zeros((1, 1, 1, 4))
    step = soft_inpaint.SoftInpaintStep(change, photo, noise)
    latents = torch.full((1, 1, 1, 4), -7.0)
    reset = []
    for i in range(4):
        out = step(Pipe, i, latents)
        reset.append([bool(v != -7.0) for v in out.flatten()])
    # thresholds 0.75, 0.5, 0.25, 0.0
    assert reset == [
        [False, True, True, False],
        [False, True, False, False],
        [False, False, False, False],
        [False, False, False, False],
    ]
    final = step(Pipe, 0, latents).flatten()
    alpha_bar = Pipe.scheduler.alphas_cumprod[Pipe.scheduler.timesteps[1]]
    assert float(final[1]) == pytest.approx(5.0 * float(alpha_bar.sqrt()), rel=1e-5)


def test_split_and_grid_encoding():
    hard = np.array([[0, 255]], np.uint8)
    binary, change = soft_inpaint.split_mask(hard)
    assert change is None and binary is hard
    soft = np.array([[0, 100, 255]], np.uint8)
    binary, change = soft_inpaint.split_mask(soft)
    assert binary.tolist() == [[0, 255, 255]]
    assert change[0].tolist() == pytest.approx([0.0, 100 / 255, 1.0])
    region = Region(BBox(0, 0, 4, 1), (4, 1))
    alpha = np.array([[0.0, 0.5, 1.0, 1.0]], np.float32)
    grid = np.array([[0, 0, 0, 255]], np.uint8)
    assert soft_inpaint.soft_grid_mask(region, alpha, grid).tolist() == [[0, 127, 254, 255]]


def test_soft_batch_equals_one_by_one_and_replays_from_png(engine, photo, mask, tmp_path):
    batch = inpaint(req(mask_feather=8, seeds=(3, 4)), photo, mask, engine)
    single = inpaint(req(mask_feather=8, seed=4), photo, mask, engine)[0]
    assert np.abs(batch[1].patch.astype(int) - single.patch.astype(int)).max() <= 3
    path = save_png(tmp_path / "s.png", single.composite(photo), request=single.request)
    again_req = metadata.request_from_png_text(load_image(path).text)
    assert again_req.soft_inpainting and again_req.mask_feather == 8
    again = inpaint(again_req, photo, mask, engine)[0]
    assert np.array_equal(again.patch, single.patch)
    off = req(soft_inpainting=False)
    assert "Soft inpainting enabled: False" in metadata.format_parameters(off)
    assert metadata.request_from_parameters(metadata.format_parameters(off)) == off


@pytest.mark.parametrize("name", schedulers.scheduler_names())
def test_soft_inpainting_runs_with_every_scheduler(engine, photo, mask, name):
    soft = inpaint(req(mask_feather=8, scheduler=name, steps=3), photo, mask, engine)[0]
    hard = inpaint(
        req(mask_feather=8, scheduler=name, steps=3, soft_inpainting=False), photo, mask, engine
    )[0]
    assert soft.patch.shape == hard.patch.shape
    assert not np.array_equal(soft.patch, hard.patch)
