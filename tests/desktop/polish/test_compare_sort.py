"""Issue 17 gap: the Compare grid sorts its cells by scheduler (the planned grid), by seed or by
seam score (best blend first), from one sort control; the keys step through the grid as shown."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from skimage import data

from desktop.compare.view import CompareView
from inpaint_core.request import InpaintRequest
from inpaint_core.sweep import plan_sweep, run_sweep
from tests.engines_for_tests import SolidFillEngine

BASE = InpaintRequest(engine="diffusion", model="x", scheduler="DDIM", steps=4, seed=100)
SCORES = [0.9, 0.3, 1.4, 0.5, 0.1, 2.0]  # by cell index (rows DDIM, K_EULER × seeds 100..102)


@pytest.fixture
def view(qtbot):
    photo = data.coffee()
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[150:230, 200:300] = 255
    plan = plan_sweep(BASE, seeds=3, schedulers=["DDIM", "K_EULER"])
    cells = run_sweep(plan, photo, mask, SolidFillEngine(native_resolution=False))
    for cr in cells:
        cr.result.info["seam_score"] = SCORES[cr.cell.index]
    v = CompareView(photo, plan, source_name="coffee")
    qtbot.addWidget(v)
    v.resize(1000, 640)
    v.show()
    qtbot.waitExposed(v)
    v.add_cells(cells)
    return v


def shown_at(view, index):
    """(row, col) of a cell's pane in the grid, header row/column left out."""
    r, c, _, _ = view.grid.getItemPosition(view.grid.indexOf(view.cells[index]))
    return r - 1, c - 1


def labels(lst):
    return [lab.text() for lab in lst]


def test_the_sort_control_offers_the_three_orders(view):
    combo = view.sort_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["scheduler", "seed", "seam"]
    assert view.sort_order == "scheduler"  # the grid as planned
    assert [shown_at(view, i) for i in range(6)] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert labels(view.row_labels) == ["DDIM", "K_EULER"]


def test_by_seam_score_puts_the_best_blend_first(view, qtbot):
    view.sort_by("seam")
    order = sorted(range(6), key=lambda i: SCORES[i])  # [4, 1, 3, 0, 2, 5]
    assert [shown_at(view, i) for i in order] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert view.row_labels == [] and view.col_labels == []
    assert view.cells[4].caption == view.plan.cells[4].label  # each cell names itself
    view.select(4)
    qtbot.keyClick(view, Qt.Key.Key_Right)  # the next cell as shown: the second best
    assert view.current == 1
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.current == 2  # below the second best: the fifth best
    view.sort_by("scheduler")
    assert shown_at(view, 4) == (1, 1) and view.cells[4].caption == ""


def test_by_seed_groups_each_seed_in_a_row(view):
    view.sort_by("seed")
    assert labels(view.row_labels) == ["seed 100", "seed 101", "seed 102"]
    assert labels(view.col_labels) == ["DDIM", "K_EULER"]
    assert shown_at(view, 3) == (0, 1)  # K_EULER, seed 100
    assert shown_at(view, 2) == (2, 0)  # DDIM, seed 102
