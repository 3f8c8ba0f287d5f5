"""Seam score (inpaint_core.seam): lower = the fill meets its surroundings more smoothly."""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
from skimage import data

from inpaint_core import cli, compose, metadata
from inpaint_core.engines.classical import ClassicalEngine
from inpaint_core.imaging import load_image, save_png
from inpaint_core.inpaint import inpaint
from inpaint_core.request import InpaintRequest
from inpaint_core.resources import sample_mask, sample_photo
from inpaint_core.seam import seam_score

PHOTOS = {
    "astronaut": data.astronaut,
    "coffee": data.coffee,
    "chelsea": data.chelsea,
    "rocket": data.rocket,
}


def _ellipse_mask(h: int, w: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (w // 8, h // 10), 0, 0, 360, 255, -1)
    return mask


@pytest.mark.parametrize("name", sorted(PHOTOS))
@pytest.mark.parametrize("feather", [0, 8])
def test_true_fill_beats_shifted_paste_and_flat_grey(name, feather):
    photo = PHOTOS[name]()
    mask = _ellipse_mask(*photo.shape[:2])
    alpha = compose.blend_alpha(mask, 4, feather)
    known = mask == 0

    def score(fill: np.ndarray) -> float:
        s = seam_score(compose.composite(photo, fill, alpha), photo, alpha, known=known)
        assert s is not None
        return s

    true = score(photo)
    shifted = score(np.roll(photo, (9, 13), axis=(0, 1)))
    grey = score(np.full_like(photo, 128))
    assert true < shifted
    assert true < grey


def test_terms_without_the_known_mask_still_rank_a_hard_paste():
    photo = data.astronaut()
    mask = _ellipse_mask(*photo.shape[:2])
    alpha = compose.blend_alpha(mask, 0, 0)
    true = seam_score(photo, photo, alpha)
    shifted = seam_score(
        compose.composite(photo, np.roll(photo, (9, 13), axis=(0, 1)), alpha), photo, alpha
    )
    assert true is not None and shifted is not None and true < shifted


def test_no_seam_is_none_and_shapes_are_checked():
    photo = data.astronaut()[:64, :64]
    assert seam_score(photo, photo, np.zeros((64, 64), np.float32)) is None
    assert seam_score(photo, photo, np.ones((64, 64), np.float32)) is None
    with pytest.raises(ValueError, match="shapes"):
        seam_score(photo, photo, np.zeros((32, 32), np.float32))


def test_every_result_carries_a_score_that_reaches_png_metadata(tmp_path):
    photo = data.astronaut()
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[200:240, 220:260] = 255
    result = inpaint(InpaintRequest(), photo, mask, ClassicalEngine())[0]
    score = result.info["seam_score"]
    assert isinstance(score, float) and score > 0
    path = save_png(
        tmp_path / "a.png",
        result.composite(photo),
        request=result.request,
        seed=result.seed,
        seam_score=score,
    )
    text = load_image(path).text
    assert metadata.seam_score_from_png_text(text) == pytest.approx(score)
    assert f"Seam score: {score:.4f}" in text["parameters"]
    assert json.loads(text["inpaint_studio"])["seam_score"] == pytest.approx(score)
    # the stored request still reads back (the score is not a request field)
    assert metadata.request_from_png_text(text) == result.request
    only_a1111 = {"parameters": text["parameters"]}
    assert metadata.seam_score_from_png_text(only_a1111) == pytest.approx(score, abs=1e-4)
    assert metadata.seam_score_from_png_text({}) is None


def test_cli_run_and_compare_report_seam_scores(tmp_path, capsys):
    args = ["--image", str(sample_photo()), "--mask", str(sample_mask()), "--json"]
    assert cli.main(["run", *args, "--out", str(tmp_path / "o.png")]) == 0
    run = json.loads(capsys.readouterr().out)
    score = run["outputs"][0]["seam_score"]
    assert isinstance(score, float)
    text = load_image(tmp_path / "o.png").text
    assert metadata.seam_score_from_png_text(text) == pytest.approx(score)
    code = cli.main(
        ["compare", *args, "--out", str(tmp_path / "cmp"), "--seeds", "1,2", "--method", "telea"]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert all(isinstance(c["seam_score"], float) for c in report["cells"])


def test_tiles_give_the_same_score_as_one_whole_box(monkeypatch):
    """The filters run per tile with a halo; the result must not depend on the tiling."""
    from inpaint_core import seam

    photo = np.ascontiguousarray(np.concatenate([data.astronaut(), data.astronaut()[:, ::-1]], 1))
    mask = _ellipse_mask(*photo.shape[:2])
    mask[40:60, 30:700] = 255  # a second, thin seam crossing many tiles
    alpha = compose.blend_alpha(mask, 4, 8)
    comp = compose.composite(photo, np.roll(photo, (5, 7), axis=(0, 1)), alpha)
    tiled = seam_score(comp, photo, alpha, known=mask == 0)
    monkeypatch.setattr(seam, "_TILE", 4096)
    whole = seam_score(comp, photo, alpha, known=mask == 0)
    assert tiled == pytest.approx(whole, rel=1e-5)


def test_rank_by_seam_best_first_unscored_last():
    from types import SimpleNamespace

    from inpaint_core.seam import rank_by_seam

    items = [
        SimpleNamespace(info={"seam_score": s}, n=i) for i, s in enumerate([0.9, None, 0.2, 0.5])
    ]
    assert [x.n for x in rank_by_seam(items)] == [2, 3, 0, 1]
    assert rank_by_seam([3.0, 1.0, 2.0], key=lambda v: v) == [1.0, 2.0, 3.0]


def test_contact_sheet_captions_seam_scores_and_marks_the_best():
    from inpaint_core.contact_sheet import contact_sheet
    from inpaint_core.sweep import plan_sweep, run_sweep

    photo = data.astronaut()[:128, :128].copy()
    mask = np.zeros((128, 128), np.uint8)
    mask[40:80, 40:80] = 255
    plan = plan_sweep(InpaintRequest(options={"method": "telea"}), seeds=[1, 2])
    cells = run_sweep(plan, photo, mask, ClassicalEngine())
    assert all(isinstance(c.result.info["seam_score"], float) for c in cells)
    # the classical engine makes one picture for both seeds: give them different scores
    cells = [
        replace(c, result=replace(c.result, info={**c.result.info, "seam_score": s}))
        for c, s in zip(cells, [0.8, 0.4], strict=True)
    ]
    with_scores = contact_sheet(plan, cells, cell_size=96)
    unscored = [
        replace(c, result=replace(c.result, info={"grid": c.result.info["grid"]})) for c in cells
    ]
    without = contact_sheet(plan, unscored, cell_size=96)
    assert with_scores.shape[0] > without.shape[0]  # a caption line under each row

    def green(sheet: np.ndarray) -> int:
        return int(((sheet[..., 1] > 90) & (sheet[..., 0] < 40) & (sheet[..., 2] < 40)).sum())

    assert green(without) == 0
    assert green(with_scores) > 0  # the best cell's caption
