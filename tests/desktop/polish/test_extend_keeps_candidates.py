"""QA: Image ▸ Extend canvas… kept the kept layers but silently dropped the candidates not kept.
They now move with the picture (and back on undo); a candidate that no longer fits is dropped
with a message, never silently."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication

from desktop.outpaint.dialog import ExtendChoice
from inpaint_core.inpaint import InpaintResult
from inpaint_core.masks import BBox
from inpaint_core.outpaint import Extension
from inpaint_core.request import InpaintRequest


def _result(box: BBox, seed: int) -> InpaintResult:
    patch = np.full((box.y1 - box.y0, box.x1 - box.x0, 3), seed * 40, np.uint8)
    req = InpaintRequest(engine="diffusion", model="m", seed=seed)
    return InpaintResult(box=box, patch=patch, seed=seed, request=req)


def test_extend_canvas_keeps_the_candidates_not_kept(window):
    ctl = window.generation
    doc = window.document
    w, h = doc.size
    a, b, c = ctl.model.candidates.add_results(
        [
            _result(BBox(10, 20, 60, 70), 1),
            _result(BBox(100, 100, 140, 150), 2),
            _result(BBox(0, 0, 30, 30), 3),
        ],
        document=doc,
    )
    ctl.candidates.keep(c)  # one kept: a layer (moves with the canvas, as before)
    ctl.tray.select(a)
    QApplication.processEvents()
    window.creative.extender.extend(
        ExtendChoice(Extension(left=48, top=32), overlap=16, prefill="edge")
    )
    QApplication.processEvents()
    assert doc.size == (w + 48, h + 32)
    assert ctl.tray.candidates() == [a, b, c]  # nothing dropped
    assert a.result.box == BBox(58, 52, 108, 102) and b.result.box == BBox(148, 132, 188, 182)
    assert ctl.tray.current() is a  # still selected, shown in place at its new box
    assert window.canvas.overlay_box() == a.result.box
    # a candidate made on the grown canvas, in the new area
    (d,) = ctl.model.candidates.add_results([_result(BBox(0, 0, 40, 40), 4)], document=doc)
    # undo the extend: the candidates go back; the one made in the new area cannot, and says so
    window.history.stack.undo()  # the extend (the keep was before it)
    QApplication.processEvents()
    assert doc.size == (w, h)
    assert ctl.tray.candidates() == [a, b, c]
    assert a.result.box == BBox(10, 20, 60, 70)
    message = ctl.panel.message_label.text()
    assert ctl.panel.message_label.isVisibleTo(ctl.panel) and "1 candidate" in message
    assert "dropped" in message
