"""TEST HOOKS ONLY — what lets a test drive the real app in a subprocess (the crash-recovery test
in ``tests/desktop/project/test_crash_recovery.py``). Inert unless ``INPAINT_STUDIO_TEST_DIR`` is
set; nothing here is part of the studio a user sees.

- ``INPAINT_STUDIO_TEST_DIR``: a folder; the app appends what happened to ``events.jsonl`` there
  (``started``, ``recover_dialog`` with its title and items, ``painted``/``restored`` with the mask
  saved beside as .npy, ``autosaved``).
- ``INPAINT_STUDIO_TEST_STROKE=x0,y0,x1,y1,radius``: paint one mask stroke (one undo step) once
  the window is up.
- ``INPAINT_STUDIO_TEST_RECOVER=restore|discard``: the answer given in the Recover dialog
  ("Restore All" / "Discard All"); unset: "Decide Later".
- ``INPAINT_STUDIO_TEST_QUIT=after-autosave|now``: close the window (unsaved changes discarded)
  after the first autosave, or once started: a clean exit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

if TYPE_CHECKING:
    from desktop.window.main_window import MainWindow
    from desktop.window.recovery import RecoverDialog

DIR_ENV = "INPAINT_STUDIO_TEST_DIR"
STROKE_ENV = "INPAINT_STUDIO_TEST_STROKE"
RECOVER_ENV = "INPAINT_STUDIO_TEST_RECOVER"
QUIT_ENV = "INPAINT_STUDIO_TEST_QUIT"


class TestHooks:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.window: MainWindow | None = None

    def log(self, event: str, **fields: Any) -> None:
        with open(self.folder / "events.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"event": event, **fields}) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def save_mask(self, what: str, mask: np.ndarray) -> str:
        name = f"{what}-mask.npy"
        np.save(self.folder / name, mask)
        return name

    def answer_recovery(self, dialog: RecoverDialog) -> None:
        rows = [
            {"name": r.name, "saved_path": r.saved_path, "thumbnail": bool(r.thumbnail)}
            for r in dialog.rows()
        ]
        self.log("recover_dialog", title=dialog.windowTitle(), items=rows)
        answer = os.environ.get(RECOVER_ENV, "")
        if answer == "restore":
            dialog.restore_all_button.click()
        elif answer == "discard":
            dialog.discard_all_button.click()
        else:
            dialog.reject()

    def install(self, window: MainWindow) -> None:
        self.window = window
        window.test_hooks = self  # type: ignore[attr-defined] - Qt holds bound slots weakly
        window.unsaved.ask = lambda _action: QMessageBox.StandardButton.Discard  # type: ignore[method-assign]
        if window.doc is not None and not window.history.stack.isClean():
            self.log("restored", mask=self.save_mask("restored", window.doc.mask))
        window.autosave.autosaved.connect(self._autosaved)
        self.log("started", document=window.doc.photo.name if window.doc else None)
        stroke = os.environ.get(STROKE_ENV)
        if stroke:
            QTimer.singleShot(0, lambda: self._paint(stroke))
        if os.environ.get(QUIT_ENV) == "now":
            QTimer.singleShot(0, window.close)

    def _paint(self, spec: str) -> None:
        window = self.window
        assert window is not None and window.doc is not None
        x0, y0, x1, y1, radius = (float(v) for v in spec.split(","))
        doc = window.doc
        doc.begin_stroke()
        doc.paint_segment((x0, y0), (x1, y1), radius)
        window.push_edit(doc.end_stroke("Test stroke"))
        self.log("painted", mask=self.save_mask("painted", doc.mask))

    def _autosaved(self, doc: object, path: object) -> None:
        self.log("autosaved", path=str(path))
        if os.environ.get(QUIT_ENV) == "after-autosave" and self.window is not None:
            self.window.close()


def from_env() -> TestHooks | None:
    """The hooks when a test asked for them (``INPAINT_STUDIO_TEST_DIR``), else None."""
    folder = os.environ.get(DIR_ENV)
    return TestHooks(Path(folder)) if folder else None
