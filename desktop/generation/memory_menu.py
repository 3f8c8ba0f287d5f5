"""Generate ▸ GPU memory: the memory-ladder rung (:mod:`inpaint_core.models.memory`) a local
diffusion model loads with: Automatic (from the card's VRAM) or one the user forces, as the CLI's
``--memory`` does. Kept in the settings; the engine cache gets it, so the next run loads the model
on that rung (the status bar's "memory: …" then shows it). Also the model status field's context
menu. A remote server chooses its own rung."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QPoint, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QLabel, QMenu, QWidget

from desktop.settings import read
from inpaint_core.models.memory import RUNGS

SETTINGS_KEY = "generation/memory"
AUTO = "auto"
LABELS = {
    AUTO: "Automatic (from the GPU's memory)",
    "full": "Full: everything on the GPU (fastest)",
    "sliced": "Sliced: + attention slicing",
    "tiled": "Tiled: + VAE slicing and tiling",
    "offload": "Offload: model CPU offload",
    "sequential": "Sequential: layer by layer (slowest, a few GB suffice)",
}
assert set(LABELS) == {AUTO, *RUNGS}


class MemoryMenu(QObject):
    """The rung choice: ``engine_cache.memory`` follows it (None = automatic)."""

    rung_changed = Signal(str)

    def __init__(self, engine_cache: Any, settings: QSettings, parent: QWidget) -> None:
        super().__init__(parent)
        self.engine_cache, self.settings = engine_cache, settings
        self.menu = QMenu("GPU &memory", parent)
        self.menu.setObjectName("memoryMenu")
        self.menu.setToolTipsVisible(True)
        self.menu.menuAction().setToolTip(
            "How much of a diffusion model sits on the GPU (the memory ladder); the next run "
            "loads the model with it"
        )
        self.group = QActionGroup(self)
        self.actions: dict[str, QAction] = {}
        for key in (AUTO, *RUNGS):
            act = QAction(LABELS[key], self, checkable=True)
            act.setObjectName(f"memory_{key}")
            act.setData(key)
            act.triggered.connect(lambda _=False, k=key: self.set_rung(k))
            self.group.addAction(act)
            self.menu.addAction(act)
            self.actions[key] = act
            if key == AUTO:
                self.menu.addSeparator()
        if engine_cache is None or not hasattr(engine_cache, "memory"):
            self.menu.setEnabled(False)  # an engine factory of a test's own: nothing to set
        saved = read(settings, SETTINGS_KEY, AUTO, str)
        self.set_rung(saved if saved in LABELS else AUTO, save=False)

    @property
    def rung(self) -> str:
        act = self.group.checkedAction()
        return act.data() if act is not None else AUTO

    def set_rung(self, rung: str, *, save: bool = True) -> None:
        """Use ``rung`` ("auto" or one of the ladder's) from the next model load on."""
        if rung not in LABELS:
            raise ValueError(f"unknown memory setting {rung!r}; choose one of {', '.join(LABELS)}")
        self.actions[rung].setChecked(True)
        if self.engine_cache is not None and hasattr(self.engine_cache, "memory"):
            self.engine_cache.memory = None if rung == AUTO else rung
        if save:
            self.settings.setValue(SETTINGS_KEY, rung)
        self.rung_changed.emit(rung)

    def attach_to(self, label: QLabel) -> None:
        """The menu as ``label``'s context menu (the status bar's model field)."""
        label.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        label.customContextMenuRequested.connect(
            lambda pos: self.menu.popup(label.mapToGlobal(QPoint(pos)))
        )
