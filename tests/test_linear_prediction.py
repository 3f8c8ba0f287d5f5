"""The classical engine's second stage: missing pixels predicted from their neighbours by a linear
model trained on the photo around them (``engines/linear_prediction.py``)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import skimage.data

from inpaint_core.engines import fillers, linear_prediction
from inpaint_core.synthetic_damage import blotches, damage, psnr_inside, scratches


@pytest.fixture(scope="module")
def scene():
    photo = np.ascontiguousarray(skimage.data.astronaut()[:192, 160:352])
    rng = np.random.default_rng(5)
    mask = np.maximum(scratches(192, 192, rng), blotches(192, 192, rng))
    return photo, mask > 0


def test_blending_the_prediction_in_beats_the_dct_alone(scene):
    """What the stage is for (measured ~+0.7 dB on the bench's photos and on others): here on
    its own DCT lattice, so the gain is the prediction's."""
    photo, missing = scene
    broken = damage(photo, missing.astype(np.uint8) * 255)
    dct = fillers.sparse_dct(broken, missing, step=fillers.DCT_PREDICTION_STEP)
    ours = fillers.dct_prediction(broken, missing)
    gain = psnr_inside(ours, photo, missing) - psnr_inside(dct, photo, missing)
    assert gain >= 0.4, gain
    assert np.array_equal(ours[~missing], broken[~missing])


def test_the_prediction_alone_continues_a_texture_the_first_fill_got_wrong():
    """Stripes are exactly linear in their neighbours: with a flat first fill (the mean), the
    prediction alone (weight 1) still restores them across a scratch and a blotch."""
    y, x = np.mgrid[:96, :96]
    stripes = 128 + 90 * np.sin(0.7 * x + 0.3 * y)
    photo = np.repeat(stripes[..., None], 3, axis=2).astype(np.float32)
    missing = np.zeros((96, 96), bool)
    missing[40:43, 10:86] = True  # a 3-px scratch
    missing[60:70, 30:40] = True  # a 10-px blotch
    image = np.clip(np.rint(photo), 0, 255).astype(np.uint8)
    flat = np.full(photo.shape, float(photo[~missing].mean()), np.float32)
    out = linear_prediction.refine(image, missing, flat, weight=1.0)
    err_flat = np.abs(flat[missing] - photo[missing]).mean()
    err = np.abs(out[missing] - photo[missing]).mean()
    assert err < 0.1 * err_flat, (err, err_flat)
    assert err < 6.0  # levels, on stripes of amplitude 90
    assert np.array_equal(out[~missing], image[~missing].astype(np.float32))


def test_the_values_under_the_damage_are_never_read(scene):
    photo, missing = scene
    a, b = photo.copy(), photo.copy()
    a[missing] = 0
    b[missing] = 255
    assert np.array_equal(fillers.dct_prediction(a, missing), fillers.dct_prediction(b, missing))


def test_without_enough_to_learn_from_the_first_fill_is_kept():
    """A crop nearly all damage: too few training pixels for any model, so the first fill comes
    back as it was (never a black or NaN pixel)."""
    image = np.full((12, 12, 3), 100, np.uint8)
    missing = np.ones((12, 12), bool)
    missing[0, 0] = False
    first = np.full((12, 12, 3), 77.0, np.float32)
    out = linear_prediction.refine(image, missing, first)
    assert np.isfinite(out).all()
    assert np.array_equal(out[missing], first[missing])


def test_progress_reaches_the_end_and_a_cancel_stops_it(scene):
    photo, missing = scene
    seen: list[float] = []
    fillers.dct_prediction(photo, missing, check=seen.append)
    share = fillers._DCT_SHARE  # the DCT sweeps, then the prediction
    assert seen[0] == 0.0 and seen == sorted(seen) and share < seen[-1] < 1.0

    class Stop(Exception):
        pass

    def stop_in_prediction(fraction: float) -> None:
        if fraction >= fillers._DCT_SHARE:
            raise Stop

    with pytest.raises(Stop):
        fillers.dct_prediction(photo, missing, check=stop_in_prediction)


def test_the_engine_default_is_dct_then_prediction_and_dct_method_is_the_dct_alone(
    scene, monkeypatch
):
    """``auto`` routes thin damage through the prediction; ``--method dct`` keeps the DCT alone."""
    from inpaint_core.engines.registry import get_engine
    from inpaint_core.inpaint import inpaint
    from inpaint_core.options import RunOptions
    from inpaint_core.request import InpaintRequest

    photo, missing = scene
    mask = missing.astype(np.uint8) * 255
    calls: list[str] = []
    real = fillers.dct_prediction

    def spy(*args, **kwargs):
        calls.append("prediction")
        return real(*args, **kwargs)

    monkeypatch.setattr(fillers, "dct_prediction", spy)
    engine = get_engine("classical")
    auto = inpaint(InpaintRequest(), photo, mask, engine)[0].composite(photo)
    assert calls
    calls.clear()
    dct_req = InpaintRequest(options=RunOptions(method="dct"))
    dct = inpaint(dct_req, photo, mask, engine)[0].composite(photo)
    assert not calls
    alone = functools.partial(fillers.sparse_dct, step=3)
    monkeypatch.setattr(fillers, "dct_prediction", alone)
    before = inpaint(InpaintRequest(), photo, mask, engine)[0].composite(photo)
    assert np.array_equal(before, dct)  # the DCT alone is what auto did before
    assert psnr_inside(auto, photo, missing) > psnr_inside(dct, photo, missing)


def test_a_crop_larger_than_a_tile_is_predicted_tile_by_tile(scene, monkeypatch):
    """Big crops are worked in tiles (bounded memory): the result is as good as in one piece,
    and nothing is left unpredicted at the tiles' seams."""
    photo, missing = scene
    broken = damage(photo, missing.astype(np.uint8) * 255)
    first = fillers.sparse_dct_float(broken, missing, step=fillers.DCT_PREDICTION_STEP)
    whole = linear_prediction.refine(broken, missing, first, weight=1.0)
    monkeypatch.setattr(linear_prediction, "TILE", 40)  # 5x5 tiles over 192x192
    tiled = linear_prediction.refine(broken, missing, first, weight=1.0)
    assert np.isfinite(tiled).all()
    moved = np.abs(tiled - first)[missing].max(axis=1) > 0
    assert moved.mean() > 0.95  # (a pixel keeps the first fill only without a model)
    score = {k: psnr_inside(np.clip(v, 0, 255).round().astype(np.uint8), photo, missing)
             for k, v in (("whole", whole), ("tiled", tiled))}  # fmt: skip
    assert abs(score["whole"] - score["tiled"]) < 0.3, score


def test_a_thick_brush_stroke_keeps_the_dct_alone(monkeypatch):
    """Past :data:`PREDICTION_MAX_THICKNESS` the peel drifts into blocky steps: a 40 px stroke is
    filled by the sparse DCT alone, a 12 px one by both."""
    import cv2

    from inpaint_core.engines import classical
    from inpaint_core.engines.registry import get_engine
    from inpaint_core.inpaint import inpaint
    from inpaint_core.request import InpaintRequest

    photo = np.ascontiguousarray(skimage.data.coffee()[80:240, 120:320])
    calls: list[int] = []
    real = fillers.dct_prediction

    def spy(image, missing, **kwargs):
        calls.append(int(missing.sum()))
        return real(image, missing, **kwargs)

    monkeypatch.setattr(fillers, "dct_prediction", spy)
    for width, used in ((40, False), (12, True)):
        mask = np.zeros(photo.shape[:2], np.uint8)
        cv2.line(mask, (40, 60), (150, 90), 255, width)
        assert (classical._thickness(mask > 0) > classical.PREDICTION_MAX_THICKNESS) != used
        calls.clear()
        inpaint(InpaintRequest(), photo, mask, get_engine("classical"))
        assert bool(calls) == used, width
