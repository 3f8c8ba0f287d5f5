"""The Compare grid's order, decided in one place (inpaint_core.sweep.grid_layout): by
scheduler (the plan's grid), by seed (transposed), by seam score (best first)."""

from __future__ import annotations

import pytest

from inpaint_core.request import InpaintRequest
from inpaint_core.sweep import GRID_ORDERS, grid_layout, plan_sweep


@pytest.fixture
def plan():
    base = InpaintRequest(engine="diffusion", model="m")
    return plan_sweep(base, seeds=[7, 8, 9], schedulers=["DDIM", "Euler"])


def test_by_scheduler_is_the_plans_grid(plan):
    layout = grid_layout(plan, "scheduler")
    assert (layout.n_rows, layout.n_cols) == (2, 3)
    assert layout.row_labels == ["DDIM", "Euler"]
    assert layout.col_labels == ["seed 7", "seed 8", "seed 9"]
    assert all(layout.positions[c.index] == (c.row, c.col) for c in plan.cells)


def test_by_seed_groups_each_seed_in_a_row(plan):
    layout = grid_layout(plan, "seed")
    assert (layout.n_rows, layout.n_cols) == (3, 2)
    assert layout.row_labels == ["seed 7", "seed 8", "seed 9"]
    for row, seed in enumerate([7, 8, 9]):
        cells = [plan.cells[layout.at(row, col)] for col in range(2)]
        assert [c.request.seed for c in cells] == [seed, seed]
        assert [c.request.scheduler for c in cells] == ["DDIM", "Euler"]


def test_by_seam_score_best_first_unscored_last(plan):
    scores = {0: 0.9, 1: None, 2: 0.2, 3: 1.5, 4: 0.4}  # cell 5 has no result yet
    layout = grid_layout(plan, "seam", scores)
    assert layout.reading_order() == [2, 4, 0, 3, 1, 5]
    assert layout.positions[2] == (0, 0) and layout.positions[3] == (1, 0)
    assert layout.row_labels == [] and layout.col_labels == []


def test_every_order_places_every_cell_once(plan):
    for order in GRID_ORDERS:
        layout = grid_layout(plan, order, {c.index: float(c.index) for c in plan.cells})
        assert sorted(layout.positions) == [c.index for c in plan.cells]
        assert len(set(layout.positions.values())) == len(plan.cells)
    with pytest.raises(ValueError, match="unknown grid order"):
        grid_layout(plan, "prompt")
