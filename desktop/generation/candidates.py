"""The generation controller's candidate side: new results into the core candidate history,
keep (a new layer, one undo step) and use-settings, and the canvas overlay: step previews while a
run goes, otherwise the selected candidate in place; hold ``\\`` for before/after.

A mixin of :class:`desktop.generation.GenerationController` (it uses the controller's ``host``,
``panel``, ``tray``, ``candidates``, ``_step_preview``, ``_before_after`` and ``_status``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from desktop.generation.host import overlay_image
from inpaint_core.candidates import Candidate, CandidateHistory
from inpaint_core.inpaint import InpaintResult

BEFORE_AFTER_KEY = Qt.Key.Key_Backslash


class CandidatesMixin:
    host: Any
    panel: Any
    tray: Any
    candidates: CandidateHistory
    _step_preview: Any
    _before_after: bool

    def _status(self, text: str) -> None:  # provided by the controller
        raise NotImplementedError

    def _show_new_candidates(
        self, job_id: str, results: list[InpaintResult], model: str | None, document: Any
    ) -> None:
        """A run's results join the history; the first is shown in place when none is selected."""
        added = self.candidates.add_results(results, job_id, model, document)
        n = len(added)
        self._status(f"{n} new candidate{'s' if n != 1 else ''} · double-click keeps one")
        self.panel.show_seed_used([r.seed for r in results if r.seed is not None])
        if added and self.tray.current() is None:
            self.tray.select(added[0])  # shows it in place
        self._refresh_overlay()

    def keep(self, cand: Candidate) -> None:
        """Apply a candidate as a new layer, as one step on the undo stack."""
        if self.host.document is None:
            return
        if not self._current_document(cand):
            self.panel.show_message("That candidate was made for another picture.")
            return
        r = cand.result
        req = r.request
        what = req.scheduler if req.engine == "diffusion" else req.engine
        name = f"seed {r.seed} · {what}" if r.seed is not None else what
        info = {
            "request": req.to_dict(),
            "seed": r.seed,
            "model": cand.model_name,
            "candidate_id": cand.id,
        }
        self._watch_layers(self.host.document)
        self.host.keep(np.array(r.patch, copy=True), r.box, name, info)
        self._sync_kept()
        self._refresh_overlay()
        self._status(f"Kept {name} as a layer (Ctrl+Z to undo)")

    # -- "kept" follows the document: undo of a keep (or deleting the layer) un-keeps it -------------
    def _watch_layers(self, doc: Any) -> None:
        old = getattr(self, "_watched_doc", None)
        if old is doc:
            return
        if old is not None:
            old.layers.events.inserted.disconnect(self._on_layers_changed)
            old.layers.events.removed.disconnect(self._on_layers_changed)
        self._watched_doc = doc
        if doc is not None:
            doc.layers.events.inserted.connect(self._on_layers_changed)
            doc.layers.events.removed.connect(self._on_layers_changed)

    def _on_layers_changed(self, *_: Any) -> None:
        self._sync_kept()

    def _sync_kept(self) -> None:
        doc = getattr(self, "_watched_doc", None)
        ids = set()
        if doc is not None:
            ids = {getattr(layer, "info", {}).get("candidate_id") for layer in doc.layers}
        for cand in self.candidates:
            self.candidates.set_kept(cand, cand.id in ids)

    def use_settings(self, cand: Candidate) -> None:
        """Copy a candidate's request (its seed locked) back to the panel."""
        self.panel.set_request(cand.result.request)
        self._status(f"Parameters of seed {cand.seed} copied to the panel")

    # -- overlay: step previews, candidate previews, before/after --------------------------------
    def _refresh_overlay(self) -> None:
        cand = self.tray.current()
        showing_candidate = False
        if self._before_after:
            self.host.set_overlay(None, None)
        elif self._step_preview is not None:
            self.host.set_overlay(*self._step_preview)
        elif cand is not None and not cand.kept and self._current_document(cand):
            self.host.set_overlay(cand.result.box, overlay_image(cand.display_patch(), None))
            showing_candidate = True
        else:
            self.host.set_overlay(None, None)
        self.host.hide_mask_overlay(showing_candidate)

    def _current_document(self, cand: Candidate) -> bool:
        return cand.document is None or cand.document is self.host.document

    def _before_after_key(self, event: Any) -> bool:
        """Hold ``\\`` (not while typing): the canvas shows the picture without any preview.
        True when the key event was ours."""
        if event.key() != BEFORE_AFTER_KEY or event.isAutoRepeat():
            return False
        focus = QApplication.focusWidget()
        typing = isinstance(focus, (QLineEdit, QPlainTextEdit, QTextEdit))
        if typing or not self._in_our_window(focus):
            return False
        pressed = event.type() == QEvent.Type.KeyPress
        if pressed != self._before_after:
            self.set_before_after(pressed)
        return True

    def _in_our_window(self, focus: QWidget | None) -> bool:
        window = self.panel.window()
        active = QApplication.activeWindow()
        return active is window or (focus is not None and focus.window() is window)

    def set_before_after(self, showing_original: bool) -> None:
        """True: hide every preview, the canvas shows the picture as it is (the 'before')."""
        self._before_after = showing_original
        self._refresh_overlay()
