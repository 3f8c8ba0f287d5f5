import numpy as np
import pytest
from skimage import data

from inpaint_core.errors import JobCancelled, RequestValidationError
from inpaint_core.events import CancelToken
from inpaint_core.request import InpaintRequest
from inpaint_core.sweep import plan_sweep, run_sweep
from tests.engines_for_tests import SolidFillEngine

BASE = InpaintRequest(engine="diffusion", model="x", scheduler="DDIM", steps=10, seed=100)


def _inputs():
    photo = data.coffee()
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[100:140, 200:260] = 255
    return photo, mask


def test_plan_is_the_product_of_axes_with_seeds_as_columns():
    plan = plan_sweep(BASE, seeds=3, schedulers=["DDIM", "K_EULER"], steps=[10, 20])
    assert len(plan.cells) == 12 and plan.n_rows == 4 and plan.n_cols == 3
    assert plan.col_labels == ["seed 100", "seed 101", "seed 102"]
    assert plan.row_labels[0] == "DDIM, 10 steps" and plan.row_labels[-1] == "K_EULER, 20 steps"
    cell = plan.cells[5]
    assert (
        cell.request.scheduler == "DDIM" and cell.request.steps == 20 and cell.request.seed == 102
    )
    assert all(c.request.num_outputs == 1 for c in plan.cells)


def test_plan_estimate_and_summary():
    plan = plan_sweep(BASE, seeds=[1, 2], schedulers=["DDIM", "PNDM"])
    est = plan.estimate_seconds(0.5, batch_cost=1.0)
    assert est == pytest.approx(2 * 10 * 0.5 * 2)
    assert plan.summary(0.5).startswith("4 images (2 rows × 2 seeds), about 18 s")


def test_plan_validates_axis_values():
    with pytest.raises(RequestValidationError, match="scheduler"):
        plan_sweep(BASE, seeds=2, schedulers=["DDIM", "Bogus"])
    with pytest.raises(RequestValidationError, match="steps"):
        plan_sweep(BASE, seeds=2, steps=[0])
    with pytest.raises(RequestValidationError, match="limit"):
        plan_sweep(BASE, seeds=64, steps=list(range(1, 6)))


def test_run_batches_each_row_and_streams_partials():
    engine = SolidFillEngine(native_resolution=False)
    plan = plan_sweep(BASE, seeds=3, schedulers=["DDIM", "K_EULER"])
    events = []
    cells = run_sweep(plan, *_inputs(), engine, events.append)
    assert len(engine.calls) == 2  # one call per row, seeds batched
    assert [c.result.seed for c in cells] == [100, 101, 102, 100, 101, 102]
    assert [c.cell.index for c in cells] == list(range(6))
    partial = [e for e in events if e.kind == "partial"]
    assert [len(p.images) for p in partial] == [3, 3]
    prog = [e.progress for e in events if e.kind == "progress"]
    assert prog == sorted(prog) and prog[-1] == 1.0


def test_cancel_mid_sweep_keeps_finished_cells():
    engine = SolidFillEngine(native_resolution=False)
    plan = plan_sweep(BASE, seeds=2, schedulers=["DDIM", "K_EULER", "PNDM"])
    cancel = CancelToken()
    kept = []

    def on_event(ev):
        if ev.kind == "partial":
            kept.extend(ev.images)
            cancel.cancel()

    with pytest.raises(JobCancelled):
        run_sweep(plan, *_inputs(), engine, on_event, cancel)
    assert len(kept) == 2 and len(engine.calls) == 1


def test_contact_sheet_has_cells_labels_and_blanks_for_missing():
    from inpaint_core.contact_sheet import cell_thumbnail, contact_sheet

    plan = plan_sweep(BASE, seeds=2, schedulers=["DDIM", "K_EULER"])
    cells = run_sweep(plan, *_inputs(), SolidFillEngine(native_resolution=False))
    sheet = contact_sheet(plan, cells[:3], cell_size=128, title="sweep")
    assert sheet.ndim == 3 and sheet.dtype == np.uint8
    thumb = np.asarray(cell_thumbnail(cells[0], 128))
    # the first cell's pixels appear in the sheet somewhere on the first row
    found = any(
        np.array_equal(sheet[y : y + thumb.shape[0], x : x + thumb.shape[1]], thumb)
        for y in range(0, 80)
        for x in range(0, 260)
        if y + thumb.shape[0] <= sheet.shape[0] and x + thumb.shape[1] <= sheet.shape[1]
    )
    assert found
    # labels drawn: dark ink in the left label column and in the header row
    assert (sheet[:, :60] < 80).any() and (sheet[:40] < 80).any()
    # the 4th cell was not run: its slot (bottom right) has no engine-green fill, the others do
    green = (sheet[:, :, 1] > 180) & (sheet[:, :, 0] < 60)
    th, tw = thumb.shape[:2]
    assert not green[-th - 6 :, -tw - 6 :].any()
    assert green[: sheet.shape[0] // 2].any()
