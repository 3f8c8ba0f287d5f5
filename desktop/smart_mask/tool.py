"""The "Smart mask" tool: click an object on the canvas, get it masked (Segment Anything).

A click starts a new selection (its base: the mask as it was); Shift-click adds a point on the
object, Alt-click a point that is not the object, and the selection is recomputed from all its
points. The core :class:`~inpaint_core.smart_mask.SmartMasker` runs on this tool's one worker
thread (the photo's embedding is cached there, so refining costs only the prompt decoder); the
newest click wins, older answers are dropped. Each answer is applied as ONE undo step (the base
mask plus the object), then grow/feather work as usual.

The model (a folder, or a model id in the Hugging Face cache) is chosen once in a dialog and
remembered in the settings. :class:`SmartMaskTool` gets what it needs from the window: the open
document, "push an edit", the canvas's click mode, the settings and a way to tell the user.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import file_dialogs
from desktop.settings import read
from inpaint_core.document import Document, Edit
from inpaint_core.smart_mask import Click, SmartMasker

SETTINGS_KEY = "smart_mask/model"
SHORTCUT = "W"  # Photoshop's quick selection / magic wand


class ModelDialog(QDialog):
    """Where the Segment Anything model is: a folder, or a model id in the Hugging Face cache.
    ``settings``: where its Folder… dialog starts (:mod:`desktop.file_dialogs`)."""

    def __init__(
        self,
        current: str = "",
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.setObjectName("smartMaskModelDialog")
        self.setWindowTitle("Smart mask model")
        self.edit = QLineEdit(current, objectName="smartMaskModelEdit")
        self.edit.setPlaceholderText("facebook/sam-vit-base or a folder")
        browse = QToolButton(text="Folder…", objectName="smartMaskModelBrowse")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addWidget(browse)
        note = QLabel(
            "A Segment Anything model (transformers' SamModel): a folder, or a model id already\n"
            "in the Hugging Face cache. Nothing is downloaded."
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addLayout(row)
        lay.addWidget(buttons)

    def _browse(self) -> None:
        folder = file_dialogs.choose_folder(
            self, self.settings, "smart_mask_model", "Segment Anything model folder", item=True
        )
        if folder:
            self.edit.setText(folder)

    def source(self) -> str:
        return self.edit.text().strip()


class SmartMaskTool(QObject):
    #: (mask) a click's selection was applied to the document as one undo step
    applied = Signal(object)
    _done = Signal(int, object)
    _failed = Signal(int, str)

    def __init__(
        self,
        window: QWidget,
        document: Callable[[], Document | None],
        push_edit: Callable[[Edit | None], None],
        set_click_mode: Callable[[bool], None],
        settings: QSettings,
        tell: Callable[[str], None],
        *,
        masker_factory: Callable[[str], Any] = lambda source: SmartMasker(model=source),
    ) -> None:
        super().__init__(window)
        self.window, self.document, self.push_edit = window, document, push_edit
        self.set_click_mode, self.settings, self.tell = set_click_mode, settings, tell
        self.masker_factory = masker_factory
        self.source: str = read(settings, SETTINGS_KEY, "", str)
        self._masker: Any = None
        self._masker_source = ""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smart-mask")
        #: the selection being built: its points, the mask before it, the document it is for
        self.clicks: list[Click] = []
        self._base: np.ndarray | None = None
        self._doc: Document | None = None
        self.generation = 0
        self.pending = 0  # answers still to come
        #: how the model is asked for (tests replace it): a source, or None when cancelled
        self.ask_model: Callable[[str], str | None] = self._ask_model
        self.action = QAction("&Smart mask", window, objectName="smartMaskAction")
        self.action.setCheckable(True)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        self.action.setToolTip(
            f"Smart mask ({SHORTCUT}): click an object to mask it; Shift-click adds a point, "
            "Alt-click removes one"
        )
        self.action.toggled.connect(self._toggled)
        window.addAction(self.action)
        self.choose_action = QAction("Smart mask &model…", window, objectName="smartMaskModel")
        self.choose_action.triggered.connect(lambda: self.choose_model())
        self._done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._failed.connect(self._on_failed, Qt.ConnectionType.QueuedConnection)

    # -- the model ---------------------------------------------------------------------------------
    def _ask_model(self, current: str) -> str | None:
        dialog = ModelDialog(current, self.window, settings=self.settings)
        return dialog.source() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def choose_model(self) -> bool:
        source = self.ask_model(self.source)
        if not source:
            return False
        self.source = source
        self.settings.setValue(SETTINGS_KEY, source)
        return True

    def _toggled(self, on: bool) -> None:
        if on and not self.source and not self.choose_model():
            self.action.setChecked(False)
            return
        self.clicks = []
        self.set_click_mode(on)

    # -- clicks (GUI thread) -------------------------------------------------------------------------
    def clicked(self, x: float, y: float, modifiers: Any = Qt.KeyboardModifier.NoModifier) -> int:
        """A click on the canvas at image (x, y); returns the request's generation (0: none)."""
        doc = self.document()
        if doc is None or not self.action.isChecked():
            return 0
        mods = Qt.KeyboardModifier(modifiers)
        refine = bool(mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier))
        if not refine or doc is not self._doc or not self.clicks:
            if mods & Qt.KeyboardModifier.AltModifier:
                self.tell("Smart mask: click the object first; Alt-click then removes a part")
                return 0
            self.clicks, self._base, self._doc = [], doc.mask.copy(), doc
        positive = not (mods & Qt.KeyboardModifier.AltModifier)
        self.clicks.append(Click(float(x), float(y), positive))
        self.generation += 1
        self.pending += 1
        self._executor.submit(self._work, self.generation, doc.flatten(), list(self.clicks))
        return self.generation

    # -- the worker thread ----------------------------------------------------------------------------
    def _work(self, generation: int, image: np.ndarray, clicks: list[Click]) -> None:
        try:
            if self._masker is None or self._masker_source != self.source:
                self._masker = self.masker_factory(self.source)
                self._masker_source = self.source
            mask = self._masker.mask(image, clicks)
        except Exception as exc:  # noqa: BLE001 - shown to the user, the tool keeps working
            self._failed.emit(generation, str(exc))
            return
        self._done.emit(generation, mask)

    # -- answers (GUI thread) ---------------------------------------------------------------------------
    def _on_done(self, generation: int, mask: np.ndarray) -> None:
        self.pending -= 1
        doc = self.document()
        if generation != self.generation or doc is None or doc is not self._doc:
            return  # a newer click is on its way, or the picture changed
        if self._base is None or not (mask.shape == self._base.shape == doc.mask.shape):
            return  # the canvas changed size meanwhile
        edit = doc.set_mask(np.maximum(self._base, mask), "Smart mask")
        self.push_edit(edit)
        self.applied.emit(mask)

    def _on_failed(self, generation: int, message: str) -> None:
        self.pending -= 1
        if generation == self.generation:
            self.tell(f"Smart mask: {message}")
            if "not a Segment Anything model" in message:
                self.source = ""  # ask again next time
                self._masker = None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
