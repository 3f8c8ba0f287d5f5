"""The candidate history (core, no Qt): an evented list the tray mirrors."""

from __future__ import annotations

import numpy as np
from skimage import data

from inpaint_core.candidates import Candidate, CandidateHistory, blurred
from inpaint_core.inpaint import InpaintResult
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest


def _result(seed, *, flagged=False, scheduler="DDIM", engine="diffusion", info=None):
    patch = np.ascontiguousarray(data.astronaut()[100:164, 150:230])
    req = (
        InpaintRequest(engine="diffusion", model="m", scheduler=scheduler, seed=seed)
        if engine == "diffusion"
        else InpaintRequest(engine=engine)
    )
    return InpaintResult(
        box=BBox(150, 100, 230, 164),
        patch=patch,
        seed=seed,
        request=req,
        nsfw_flagged=flagged,
        info=dict(info or {}),
    )


def _record(history):
    log = []
    ev = history.events
    ev.inserted.connect(lambda i, c: log.append(("inserted", i, c)))
    ev.removing.connect(lambda i: log.append(("removing", i)))
    ev.removed.connect(lambda i, c: log.append(("removed", i, c)))
    ev.changed.connect(lambda i, c, name: log.append(("changed", i, c, name)))
    return log


def test_add_results_appends_with_events_and_labels():
    history = CandidateHistory()
    log = _record(history)
    a, b = history.add_results([_result(11), _result(12, scheduler="UniPC")], "job-1", "model-x")
    assert list(history) == [a, b]
    assert log == [("inserted", 0, a), ("inserted", 1, b)]
    assert a.job_id == "job-1" and a.model_name == "model-x" and a.seed == 11
    assert a.label == "seed 11\nDDIM" and b.label == "seed 12\nUniPC"
    assert a.id != b.id
    (c,) = history.add_results([_result(13)])
    assert history[2] is c and log[-1] == ("inserted", 2, c)


def test_classical_label_names_the_method():
    history = CandidateHistory()
    (cand,) = history.add_results(
        [_result(None, engine="classical", info={"method": "telea"})], document="doc"
    )
    assert cand.label == "classical\ntelea" and cand.document == "doc"
    history.set_kept(cand)
    assert cand.label == "classical ✓\ntelea"


def test_keep_and_kept_announce_changes_once():
    history = CandidateHistory()
    a, b, c = history.add_results([_result(1), _result(2), _result(3)])
    log = _record(history)
    assert history.kept() == []
    history.set_kept(b)
    history.set_kept(b)  # no change, no event
    assert history.kept() == [b] and "✓" in b.label
    assert log == [("changed", 1, b, "kept")]
    history.set_kept(b, False)
    assert history.kept() == [] and log[-1] == ("changed", 1, b, "kept")


def test_discard_find_and_clear():
    history = CandidateHistory()
    results = [_result(1), _result(2), _result(3)]
    a, b, c = history.add_results(results)
    log = _record(history)
    assert history.find(results[1]) is b
    assert history.find(_result(2)) is None  # by identity, not by value
    assert history.discard(b)
    assert not history.discard(b)  # already gone
    assert list(history) == [a, c]
    assert log == [("removing", 1), ("removed", 1, b)]
    assert history.find(results[1]) is None
    log.clear()
    history.clear()
    assert len(history) == 0
    assert [e[0] for e in log] == ["removing", "removed", "removing", "removed"]
    assert {e[2].id for e in log if e[0] == "removed"} == {a.id, c.id}


def test_flagged_candidates_stay_blurred_until_revealed():
    history = CandidateHistory()
    (cand,) = history.add_results([_result(5, flagged=True)])
    (plain,) = history.add_results([_result(6)])
    log = _record(history)
    assert cand.flagged and cand.hidden
    shown = cand.display_patch()
    assert shown.shape == cand.result.patch.shape
    assert np.abs(shown.astype(int) - cand.result.patch.astype(int)).mean() > 5
    assert not history.reveal(plain)  # nothing to reveal
    assert history.reveal(cand)
    assert not cand.hidden and cand.revealed
    assert np.array_equal(cand.display_patch(), cand.result.patch)
    assert log == [("changed", 0, cand, "revealed")]
    assert not history.reveal(cand)


def test_blur_hides_detail_and_keeps_shape():
    rgb = np.ascontiguousarray(data.astronaut()[:200, :300])
    out = blurred(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    # fine detail is gone: neighbouring pixels differ far less than in the photo
    detail = np.abs(np.diff(rgb.astype(int), axis=1)).mean()
    assert np.abs(np.diff(out.astype(int), axis=1)).mean() < detail / 4


def test_candidate_compares_by_identity():
    r = _result(1)
    assert Candidate(r) != Candidate(r)
