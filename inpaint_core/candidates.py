"""The candidate history: every output of every run, as an evented list (no Qt).

The GUI's candidates tray is a thin view of a :class:`CandidateHistory`: it listens to the list's
events (``inserted``/``removed``/``changed``) and keeps its widgets in step, so keeping, revealing,
discarding and clearing go through here and work the same from plain Python.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from .document.evented import EventedList
from .inpaint import InpaintResult
from .masks import BBox
from .seam import rank_by_seam

_ids = itertools.count(1)


@dataclass(eq=False)
class Candidate:
    """One output. ``result`` holds the final pixels of ``result.box``; compared by identity."""

    result: InpaintResult
    job_id: str = ""
    model_name: str | None = None
    revealed: bool = False
    kept: bool = False
    #: the document it was made for (it only fits that picture)
    document: Any = field(default=None, repr=False)
    id: int = field(default_factory=lambda: next(_ids))

    @property
    def flagged(self) -> bool:
        return bool(self.result.nsfw_flagged)

    @property
    def hidden(self) -> bool:
        """Flagged and not yet revealed: show it blurred."""
        return self.flagged and not self.revealed

    @property
    def seed(self) -> int | None:
        return self.result.seed

    @property
    def label(self) -> str:
        """Two lines: seed + scheduler (diffusion) or engine + method (classical); ✓ when kept."""
        req = self.result.request
        mark = " ✓" if self.kept else ""
        if req.engine != "diffusion" or self.seed is None:
            method = self.result.info.get("method") or req.options.method or ""
            return f"{req.engine}{mark}\n{method}".rstrip()
        return f"seed {self.seed}{mark}\n{req.scheduler}"

    @property
    def seam_score(self) -> float | None:
        """How well it meets its surroundings (:mod:`inpaint_core.seam`; lower is better)."""
        score = self.result.info.get("seam_score")
        return None if score is None else float(score)

    @property
    def seam_text(self) -> str:
        """``"seam 0.43"``, or ``""`` when the result has no score."""
        score = self.seam_score
        return "" if score is None else f"seam {score:.2f}"

    def display_patch(self) -> np.ndarray:
        """The pixels to show: the patch itself, or a heavy blur of it while hidden."""
        return blurred(self.result.patch) if self.hidden else self.result.patch


def blurred(rgb: np.ndarray) -> np.ndarray:
    """A blur strong enough to hide content (downscale to ~12 px, smooth back up)."""
    h, w = rgb.shape[:2]
    scale = 12 / max(h, w)
    small = cv2.resize(
        rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(big, (0, 0), max(2.0, max(h, w) / 24))


class CandidateHistory(EventedList[Candidate]):
    """Candidates in the order they arrived. Flag changes are announced as
    ``events.changed(index, candidate, name)`` with ``name`` ``"kept"`` or ``"revealed"``."""

    def add_results(
        self,
        results: Iterable[InpaintResult],
        job_id: str = "",
        model_name: str | None = None,
        document: Any = None,
    ) -> list[Candidate]:
        """Append one candidate per result; returns them."""
        added = []
        for result in results:
            cand = Candidate(result=result, job_id=job_id, model_name=model_name, document=document)
            self.append(cand)
            added.append(cand)
        return added

    def discard(self, candidate: Candidate) -> bool:
        """Remove ``candidate`` (by identity); False when it is not here."""
        try:
            index = self.index_of(candidate)
        except ValueError:
            return False
        del self[index]
        return True

    def find(self, result: InpaintResult) -> Candidate | None:
        """The candidate holding ``result`` (by identity), or None."""
        return next((c for c in self if c.result is result), None)

    def sort_by_seam(self) -> None:
        """Reorder best seam first (lowest score); unscored candidates keep their order, last.
        Moves are announced one by one (``events.moved``), so a view keeps its rows."""
        order = rank_by_seam(list(self), key=lambda c: c.seam_score)
        for dst, cand in enumerate(order):
            src = self.index_of(cand)
            if src != dst:
                self.move(src, dst)

    def move_by(
        self, dx: int, dy: int, size: tuple[int, int], document: Any = None
    ) -> list[Candidate]:
        """The canvas of ``document`` changed size with the old picture moved to (dx, dy)
        (Extend canvas, or its undo): its candidates move with the picture, as its result
        layers do, so none is lost; one that would fall outside the ``size`` (w, h) canvas is
        dropped. Moves are announced as ``changed(index, candidate, "box")``. Returns the
        dropped ones."""
        w, h = size
        dropped = []
        for cand in list(self):
            if cand.document is not document:
                continue
            b = cand.result.box
            box = BBox(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy)
            if box.x0 < 0 or box.y0 < 0 or box.x1 > w or box.y1 > h:
                self.discard(cand)
                dropped.append(cand)
                continue
            cand.result = replace(cand.result, box=box)
            self.notify_changed(cand, "box")
        return dropped

    def kept(self) -> list[Candidate]:
        return [c for c in self if c.kept]

    def set_kept(self, candidate: Candidate, kept: bool = True) -> None:
        if candidate.kept != kept:
            candidate.kept = kept
            self.notify_changed(candidate, "kept")

    def reveal(self, candidate: Candidate) -> bool:
        """Show a flagged candidate unblurred. True when it was hidden."""
        if not candidate.hidden:
            return False
        candidate.revealed = True
        self.notify_changed(candidate, "revealed")
        return True
