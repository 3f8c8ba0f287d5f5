"""Candidates in the window: new results into view, keep (a new layer, one undo step), use
settings, "kept" following the document; and the canvas preview: step previews while a run goes,
otherwise the selected candidate in place; hold ``\\`` for before/after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from desktop.generation.host import DocumentHost, overlay_image
from desktop.generation.panel import ParametersPanel
from desktop.generation.tray import CandidatesTray
from inpaint_core.candidates import Candidate
from inpaint_core.document import Document
from inpaint_core.generation_model import GenerationModel, Preview
from inpaint_core.masks import BBox

BEFORE_AFTER_KEY = Qt.Key.Key_Backslash


class CanvasPreview(QObject):
    """What the canvas shows over the picture: the newest step preview while a run goes, else the
    tray's current candidate in place (the mask tint hidden meanwhile), nothing while ``\\`` is
    held. Installed as the application's event filter for that key."""

    def __init__(self, host: DocumentHost, tray: CandidatesTray, window: Callable[[], Any]) -> None:
        super().__init__(tray)
        self.host, self.tray, self._window = host, tray, window
        self._step: tuple[BBox, QImage] | None = None
        self.before_after = False
        tray.preview_requested.connect(lambda _c: self.refresh())
        tray.discarded.connect(lambda _c: self.refresh())

    def show_step(self, preview: Preview) -> None:
        self._step = (preview.box, overlay_image(preview.rgb, preview.alpha))
        self.refresh()

    def clear_step(self) -> None:
        self._step = None
        self.refresh()

    def refresh(self) -> None:
        cand = self.tray.current()
        showing_candidate = False
        if self.before_after:
            self.host.set_overlay(None, None)
        elif self._step is not None:
            self.host.set_overlay(*self._step)
        elif cand is not None and not cand.kept and fits(cand, self.host.document):
            self.host.set_overlay(cand.result.box, overlay_image(cand.display_patch(), None))
            showing_candidate = True
        else:
            self.host.set_overlay(None, None)
        self.host.hide_mask_overlay(showing_candidate)

    def set_before_after(self, showing_original: bool) -> None:
        """True: hide every preview, the canvas shows the picture as it is (the 'before')."""
        self.before_after = showing_original
        self.refresh()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Hold ``\\`` (not while typing, only in our window): the picture without any preview."""
        if event.type() not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if event.key() != BEFORE_AFTER_KEY or event.isAutoRepeat():  # type: ignore[attr-defined]
            return False
        focus = QApplication.focusWidget()
        typing = isinstance(focus, (QLineEdit, QPlainTextEdit, QTextEdit))
        if typing or not self._in_our_window(focus):
            return False
        pressed = event.type() == QEvent.Type.KeyPress
        if pressed != self.before_after:
            self.set_before_after(pressed)
        return True

    def _in_our_window(self, focus: QWidget | None) -> bool:
        window = self._window()
        active = QApplication.activeWindow()
        return active is window or (focus is not None and focus.window() is window)


def fits(cand: Candidate, document: Document | None) -> bool:
    """A candidate only fits the picture it was made for."""
    return cand.document is None or cand.document is document


class CandidateActions:
    """Keep and use-settings for the tray's candidates; "kept" follows the document's layers (an
    undo of a keep, or deleting the layer, un-keeps it)."""

    def __init__(
        self,
        model: GenerationModel,
        host: DocumentHost,
        tray: CandidatesTray,
        panel: ParametersPanel,
        preview: CanvasPreview,
        status: Callable[[str], None],
    ) -> None:
        self.model, self.host, self.tray, self.panel = model, host, tray, panel
        self.preview, self.status = preview, status
        self._watched: Document | None = None
        tray.keep_requested.connect(self.keep)
        tray.use_settings_requested.connect(self.use_settings)
        model.events.results.connect(self.show_new)

    def show_new(self, _job_id: str, added: list[Candidate]) -> None:
        """A run's candidates: the first is shown in place when none is selected."""
        n = len(added)
        self.status(f"{n} new candidate{'s' if n != 1 else ''} · double-click keeps one")
        self.panel.show_seed_used([c.seed for c in added if c.seed is not None])
        if added and self.tray.current() is None:
            self.tray.select(added[0])  # shows it in place
        self.preview.clear_step()

    def keep(self, cand: Candidate) -> None:
        """Apply a candidate as a new layer, as one step on the undo stack."""
        doc = self.host.document
        if doc is None:
            return
        if not fits(cand, doc):
            self.panel.show_message("That candidate was made for another picture.")
            return
        r = cand.result
        req = r.request
        what = req.scheduler if req.engine == "diffusion" else req.engine
        name = f"seed {r.seed} · {what}" if r.seed is not None else what
        info = {"request": req, "seed": r.seed, "model": cand.model_name, "candidate_id": cand.id}
        if cand.seam_score is not None:
            info["seam_score"] = cand.seam_score
        self.watch(doc)
        self.host.keep(np.array(r.patch, copy=True), r.box, name, info)
        self.sync_kept()
        self.preview.refresh()
        self.status(f"Kept {name} as a layer (Ctrl+Z to undo)")

    def use_settings(self, cand: Candidate) -> None:
        """Copy a candidate's request (its seed locked) back to the panel."""
        self.panel.set_request(cand.result.request)
        self.status(f"Parameters of seed {cand.seed} copied to the panel")

    def watch(self, doc: Document | None) -> None:
        old = self._watched
        if old is doc:
            return
        if old is not None:
            old.layers.events.inserted.disconnect(self._layers_changed)
            old.layers.events.removed.disconnect(self._layers_changed)
            old.events.shifted.disconnect(self._shifted)
            old.events.resized.disconnect(self._resized)
        self._watched = doc
        if doc is not None:
            doc.layers.events.inserted.connect(self._layers_changed)
            doc.layers.events.removed.connect(self._layers_changed)
            doc.events.shifted.connect(self._shifted)
            doc.events.resized.connect(self._resized)

    def _shifted(self, dx: int, dy: int) -> None:
        """The canvas changed size: the candidates move with the picture (the core drops only
        one that falls outside, and the user is told); runs of the old canvas stop."""
        doc = self._watched
        if doc is None:
            return
        running = self.model.busy
        dropped = self.model.canvas_moved(dx, dy, doc.size)
        told = []
        if dropped:
            n = len(dropped)
            told.append(
                f"{n} candidate{'s' if n != 1 else ''} made on the larger canvas no longer "
                f"fit{'s' if n == 1 else ''} the picture and {'was' if n == 1 else 'were'} dropped."
            )
        if running:
            told.append("The running generation was stopped: it was for the old canvas size.")
        if told:
            self.panel.show_message(" ".join(told))

    def _resized(self) -> None:
        """After the canvas views rebuilt: show the current candidate at its moved place."""
        self.preview.clear_step()

    def _layers_changed(self, *_: Any) -> None:
        self.sync_kept()

    def sync_kept(self) -> None:
        doc = self._watched
        ids = (
            set()
            if doc is None
            else {getattr(lay, "info", {}).get("candidate_id") for lay in doc.layers}
        )
        for cand in self.model.candidates:
            self.model.candidates.set_kept(cand, cand.id in ids)
