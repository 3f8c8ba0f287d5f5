"""Seam scores in the candidates tray (label, tooltip, "Sort by seam") and the Compare grid."""

from __future__ import annotations

import numpy as np
from skimage import data

from desktop.generation.tray import CandidatesTray
from inpaint_core.candidates import CandidateHistory
from inpaint_core.engines.classical import ClassicalEngine
from inpaint_core.inpaint import InpaintResult, inpaint
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest


def _result(seed, seam):
    patch = np.ascontiguousarray(data.astronaut()[100:164, 150:230])
    info = {} if seam is None else {"seam_score": seam}
    return InpaintResult(
        box=BBox(150, 100, 230, 164),
        patch=patch,
        seed=seed,
        request=InpaintRequest(engine="diffusion", model="m", scheduler="DDIM", seed=seed),
        info=info,
    )


def test_tray_shows_the_seam_score_and_sorts_best_first(qtbot):
    history = CandidateHistory()
    tray = CandidatesTray(history=history)
    qtbot.addWidget(tray)
    a, b, c, d = tray.add_results(
        [_result(1, 1.7), _result(2, None), _result(3, 0.42), _result(4, 0.9)]
    )
    assert tray.list.item(0).text() == "seed 1\nDDIM\nseam 1.70"
    assert tray.list.item(1).text() == "seed 2\nDDIM"  # no score: no line
    assert "seam score 0.42 (lower blends better)" in tray.list.item(2).toolTip()
    tray.select(a)
    assert tray.sort_seam_action.isEnabled()
    tray.sort_seam_action.trigger()
    # best (lowest) first, the unscored one last; the core history and the rows agree
    assert list(history) == [c, d, a, b]
    assert [tray.list.item(i).data(256) for i in range(4)] == [c, d, a, b]
    assert [tray.list.item(i).text().splitlines()[0] for i in range(4)] == [
        "seed 3",
        "seed 4",
        "seed 1",
        "seed 2",
    ]
    assert tray.current() is a  # the selection follows the candidate, not the row


def test_sort_by_seam_is_disabled_without_two_scores(qtbot):
    tray = CandidatesTray()
    qtbot.addWidget(tray)
    assert not tray.sort_seam_action.isEnabled()
    tray.add_results([_result(1, 0.5), _result(2, None)])
    assert not tray.sort_seam_action.isEnabled()
    tray.add_results([_result(3, 0.7)])
    assert tray.sort_seam_action.isEnabled()


def test_a_real_classical_result_carries_its_score_into_the_tray(qtbot):
    photo = np.ascontiguousarray(data.astronaut()[:128, :128])
    mask = np.zeros((128, 128), np.uint8)
    mask[40:80, 40:80] = 255
    (result,) = inpaint(InpaintRequest(engine="classical"), photo, mask, ClassicalEngine())
    tray = CandidatesTray()
    qtbot.addWidget(tray)
    tray.add_results([result])
    score = result.info["seam_score"]
    assert tray.list.item(0).text().endswith(f"seam {score:.2f}")


def test_compare_grid_cells_show_their_seam_score(qtbot):
    from desktop.compare.view import CompareView
    from inpaint_core.sweep import plan_sweep, run_sweep
    from tests.engines_for_tests import SolidFillEngine

    photo = np.ascontiguousarray(data.coffee()[:200, :260])
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[60:140, 80:180] = 255
    base = InpaintRequest(engine="diffusion", model="x", scheduler="DDIM", steps=2, seed=7)
    plan = plan_sweep(base, seeds=2)
    cells = run_sweep(plan, photo, mask, SolidFillEngine(native_resolution=False))
    view = CompareView(photo, plan, seconds_per_step=0.1, source_name="coffee")
    qtbot.addWidget(view)
    view.add_cells(cells[:1])
    first = cells[0].result.info["seam_score"]
    assert view.cells[0].seam_text == f"seam {first:.2f}"
    assert f"seam {first:.2f}" in view.cells[0].toolTip()
    assert view.cells[1].seam_text == ""  # not finished yet: no score shown
    view.add_cells(cells[1:])
    second = cells[1].result.info["seam_score"]
    assert view.cells[1].seam_text == f"seam {second:.2f}"
    view.open_large(1)
    assert f"seam {second:.2f}" in view.large_title.text()


def test_desktop_png_saves_carry_the_seam_score(window, qtbot, tmp_path):
    """Save a candidate, keep it and save the picture: both PNGs carry the candidate's score."""
    import json

    from PIL import Image

    from tests.desktop.conftest import drag

    ctl = window.generation
    try:
        p = ctl.panel
        p.engine_combo.setCurrentIndex(p.engine_combo.findData("classical"))
        drag(qtbot, window.canvas, [(250, 180), (330, 200), (300, 240)])
        ctl.generate()
        qtbot.waitUntil(lambda: ctl.tray.count() == 1, timeout=60000)
        cand = ctl.tray.candidates()[0]
        score = cand.seam_score
        assert score is not None
        saved = [ctl.files.save_candidate(cand, str(tmp_path / "cand.png"))]
        ctl.candidates.keep(cand)
        saved.append(ctl.files.save_with_parameters(str(tmp_path / "pic.png")))
        for path in saved:
            text = Image.open(path).text
            assert f"Seam score: {score:.4f}" in text["parameters"]
            assert json.loads(text["inpaint_studio"])["seam_score"] == round(score, 4)
    finally:
        ctl.shutdown()
