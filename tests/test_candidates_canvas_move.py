"""Candidates follow the canvas when it grows or shrinks (Extend canvas and its undo), like the
kept layers do: none is lost silently; one that would fall outside is dropped and reported."""

from __future__ import annotations

import numpy as np

from inpaint_core.candidates import CandidateHistory
from inpaint_core.events import EngineEvent
from inpaint_core.generation_model import GenerationModel
from inpaint_core.inpaint import InpaintResult
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest
from tests.test_generation_model import FakeClient, _inputs
from tests.test_generation_model import _result as model_result


def _result(box: BBox, seed: int = 1) -> InpaintResult:
    patch = np.full((box.y1 - box.y0, box.x1 - box.x0, 3), seed, np.uint8)
    return InpaintResult(box=box, patch=patch, seed=seed, request=InpaintRequest())


def test_move_by_shifts_every_box_and_keeps_the_pixels():
    history = CandidateHistory()
    doc = object()
    a, b = history.add_results(
        [_result(BBox(0, 0, 10, 10), 1), _result(BBox(5, 6, 25, 16), 2)], document=doc
    )
    changed = []
    history.events.changed.connect(lambda i, c, name: changed.append((c, name)))
    assert history.move_by(40, 8, (100, 80), doc) == []
    assert list(history) == [a, b]
    assert a.result.box == BBox(40, 8, 50, 18) and b.result.box == BBox(45, 14, 65, 24)
    assert (a.result.patch == 1).all() and b.result.patch.shape == (10, 20, 3)
    assert {name for _c, name in changed} == {"box"}


def test_move_by_drops_only_what_falls_outside():
    history = CandidateHistory()
    doc = object()
    inside, outside = history.add_results(
        [_result(BBox(50, 10, 60, 20)), _result(BBox(5, 10, 30, 20))], document=doc
    )
    dropped = history.move_by(-40, 0, (60, 40), doc)  # undo of a 40 px extension on the left
    assert dropped == [outside] and list(history) == [inside]
    assert inside.result.box == BBox(10, 10, 20, 20)


def test_move_by_leaves_another_pictures_candidates_alone():
    history = CandidateHistory()
    mine, other = object(), object()
    (a,) = history.add_results([_result(BBox(0, 0, 4, 4))], document=mine)
    (b,) = history.add_results([_result(BBox(0, 0, 4, 4))], document=other)
    history.move_by(10, 10, (50, 50), mine)
    assert a.result.box == BBox(10, 10, 14, 14) and b.result.box == BBox(0, 0, 4, 4)


def test_generation_model_keeps_its_candidates_when_the_canvas_moves():
    model = GenerationModel()
    doc = object()
    model.set_document(doc)
    (a,) = model.candidates.add_results([_result(BBox(0, 0, 8, 8))], document=doc)
    assert model.canvas_moved(16, 0, (64, 32)) == []
    assert list(model.candidates) == [a] and a.result.box == BBox(16, 0, 24, 8)


def test_a_run_of_the_old_canvas_is_stopped_and_its_results_ignored():
    client = FakeClient()
    model = GenerationModel(client)
    model.set_document("doc")
    job = model.generate(*_inputs())
    model.canvas_moved(48, 0, (300, 200))
    assert client.cancelled == [job]
    req = client.submitted[0][1]
    model.handle(EngineEvent("result", job_id=job, images=[model_result(req, 3)]))  # too late
    assert not model.candidates
