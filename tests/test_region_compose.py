import cv2
import numpy as np
import pytest
from skimage import data

from inpaint_core import compose, region
from inpaint_core.errors import InpaintError, MaskError
from inpaint_core.inpaint import inpaint
from inpaint_core.request import InpaintRequest
from tests.engines_for_tests import SolidFillEngine


def _mask(h, w, box):
    m = np.zeros((h, w), np.uint8)
    x0, y0, x1, y1 = box
    m[y0:y1, x0:x1] = 255
    return m


def test_region_contains_mask_margin_and_padding_on_grid():
    m = _mask(400, 600, (300, 100, 340, 180))
    reg = region.plan_region(m, padding=20, margin=10, target_size=512)
    b = reg.box
    assert b.x0 <= 270 and b.y0 <= 70 and b.x1 >= 370 and b.y1 >= 210
    assert reg.grid[0] % 8 == 0 and reg.grid[1] % 8 == 0
    assert max(reg.grid) == 512
    # crop widened to the grid's aspect: no stretch beyond rounding
    assert abs(b.width / b.height - reg.grid[0] / reg.grid[1]) < 0.03


def test_region_explicit_size_and_clamped_to_photo():
    m = _mask(400, 600, (0, 0, 30, 30))
    reg = region.plan_region(m, padding=50, margin=0, width=512, height=256)
    assert reg.grid == (512, 256)
    assert reg.box.x0 == 0 and reg.box.y0 == 0
    assert reg.box.x1 <= 600 and reg.box.y1 <= 400
    assert reg.box.width == 2 * reg.box.height


def test_region_native_keeps_pixels():
    m = _mask(100, 100, (40, 40, 50, 50))
    reg = region.plan_region(m, padding=5, margin=0, native=True)
    assert reg.native and reg.grid == (20, 20)


def test_region_empty_mask_is_an_error():
    with pytest.raises(MaskError, match="empty"):
        region.plan_region(np.zeros((10, 10), np.uint8))


def test_blend_alpha_is_one_on_mask_and_zero_far_away():
    m = _mask(100, 100, (40, 40, 60, 60))
    a = compose.blend_alpha(m, grow=2, feather=6)
    assert (a[m > 0] == 1.0).all()
    reach = compose.composite_margin(2, 6)
    assert a[:, : 40 - reach].max() == 0.0 and a[:, 60 + reach :].max() == 0.0
    assert 0 < a[50, 40 - 6] < 1  # soft in between


def test_color_match_removes_an_offset_seen_in_the_ring():
    rng = np.random.default_rng(0)
    orig = rng.integers(60, 120, (64, 64, 3)).astype(np.uint8)
    m = _mask(64, 64, (20, 20, 44, 44))
    result = np.clip(orig.astype(int) + 30, 0, 255).astype(np.uint8)
    fixed = compose.color_match(result, orig, m)
    assert abs(fixed.astype(int).mean() - orig.astype(int).mean()) < 1.0


@pytest.mark.parametrize("native", [True, False])
def test_inpaint_bit_identical_outside_mask_on_a_6000x4000_photo(native):
    photo = cv2.resize(data.astronaut(), (6000, 4000), interpolation=cv2.INTER_LINEAR)
    mask = _mask(4000, 6000, (3000, 2000, 3200, 2200))
    engine = SolidFillEngine(native_resolution=native)
    req = InpaintRequest(mask_grow=4, mask_feather=8, seed=1)
    (res,) = inpaint(req, photo, mask, engine)
    out = res.composite(photo)
    # everything outside the grown+feathered mask is untouched
    alpha_full = np.zeros((4000, 6000), np.float32)
    alpha_full[res.box.slices] = compose.blend_alpha(mask[res.box.slices], 4, 8)
    outside = alpha_full == 0
    assert np.array_equal(out[outside], photo[outside])
    assert outside.sum() > 0.99 * outside.size
    # the masked area is filled with the engine's colour
    inside = mask > 0
    assert np.abs(out[inside].astype(int) - [10, 200, 30]).max() <= (0 if native else 2)
    # the engine saw the region, not the photo
    w, h = engine.calls[0]
    assert w * h < 600 * 600
    if not native:
        assert max(w, h) == 512


def test_inpaint_rejects_wrong_size_mask_naming_both_sizes():
    photo = data.coffee()
    with pytest.raises(MaskError, match=r"600x400.*|.*600x400"):
        inpaint(InpaintRequest(), photo, np.full((10, 20), 255, np.uint8), SolidFillEngine())


def test_inpaint_resize_mask_option():
    photo = data.coffee()
    small = _mask(40, 60, (20, 10, 30, 20))
    (res,) = inpaint(InpaintRequest(seed=3), photo, small, SolidFillEngine(), resize_mask=True)
    assert res.box.x0 <= 200 and res.box.x1 >= 300


def test_inpaint_rejects_non_rgb():
    with pytest.raises(InpaintError, match="RGB"):
        inpaint(
            InpaintRequest(),
            np.zeros((10, 10), np.uint8),
            _mask(10, 10, (1, 1, 3, 3)),
            SolidFillEngine(),
        )


def test_results_carry_one_request_per_seed():
    photo = data.coffee()
    mask = _mask(400, 600, (100, 100, 140, 140))
    res = inpaint(InpaintRequest(seeds=(5, 9)), photo, mask, SolidFillEngine())
    assert [r.seed for r in res] == [5, 9]
    assert [r.request.seed for r in res] == [5, 9]
    assert all(r.request.num_outputs == 1 and r.request.seeds is None for r in res)
