"""QA: a kept diffusion candidate's label (``seed 4294967295 ✓`` / scheduler / ``seam 0.42``)
fits its cell in the candidates tray, in a larger font too: no line wraps, so the seam line
is never pushed out of the cell; the dock opens tall enough for one full row."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem
from skimage import data

from desktop.generation.tray import CandidatesTray
from inpaint_core.inpaint import InpaintResult
from inpaint_core.masks import BBox
from inpaint_core.request import MAX_SEED, InpaintRequest


def _result(seed: int, scheduler: str, seam: float) -> InpaintResult:
    patch = np.ascontiguousarray(data.astronaut()[100:164, 150:230])
    return InpaintResult(
        box=BBox(150, 100, 230, 164),
        patch=patch,
        seed=seed,
        request=InpaintRequest(engine="diffusion", model="m", scheduler=scheduler, seed=seed),
        info={"seam_score": seam},
    )


@pytest.mark.parametrize("point_size", [9, 12, 14])
def test_kept_label_keeps_its_seam_line(qtbot, point_size):
    tray = CandidatesTray()
    qtbot.addWidget(tray)
    font = QFont(tray.font())
    font.setPointSize(point_size)
    tray.setFont(font)
    tray.resize(900, 300)
    tray.show()
    (cand,) = tray.add_results([_result(MAX_SEED, "DPMSolverMultistep", 0.42)])
    QApplication.processEvents()
    tray.mark_kept(cand)  # the label gets its ✓ after the row was laid out
    QApplication.processEvents()
    item = tray.list.item(0)
    assert item.text().splitlines() == [f"seed {MAX_SEED} ✓", "DPMSolverMultistep", "seam 0.42"]
    opt = QStyleOptionViewItem()
    tray.list.initViewItemOption(opt)
    index = tray.list.model().index(0, 0)
    need = tray.list.itemDelegate().sizeHint(opt, index)
    grid = tray.list.gridSize()
    # the label's three lines and the thumbnail fit the cell: nothing wraps, nothing is cut
    assert need.width() <= grid.width() and need.height() <= grid.height()
    cell = tray.list.visualRect(index)  # the room the row really gets
    assert cell.width() >= need.width() and cell.height() >= need.height()
    fm = tray.list.fontMetrics()
    assert need.height() >= 96 + 3 * fm.height()  # the three lines are all laid out
    # the dock is opened tall enough for one whole row
    tray.resize(900, tray.row_height())
    QApplication.processEvents()
    assert tray.list.viewport().height() >= grid.height()
