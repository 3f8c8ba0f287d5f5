"""The generation feature's actions and shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from desktop.generation.panel import ParametersPanel
from inpaint_core.generation_model import GenerationModel


def _action(parent: QObject, text: str, name: str, tip: str, *keys: QKeySequence) -> QAction:
    a = QAction(text, parent, objectName=name)
    a.setToolTip(tip)
    a.setStatusTip(tip)
    if keys:
        a.setShortcuts(list(keys))
    return a


class GenerationActions:
    """Generate (Ctrl+Enter), Cancel (Esc), Save with parameters, Open parameters, Rescan models,
    Engine… (this machine / a remote server; serve this window), each connected to its handler; Cancel is enabled while generations are queued or running."""

    def __init__(
        self,
        parent: QObject,
        panel: ParametersPanel,
        model: GenerationModel,
        handlers: dict[str, Callable[[], Any]],
    ) -> None:
        self.generate = _action(
            parent,
            "&Generate",
            "generateAction",
            "Generate (Ctrl+Enter); while one runs, this queues another",
            QKeySequence("Ctrl+Return"),
            QKeySequence("Ctrl+Enter"),
        )
        self.cancel = _action(
            parent,
            "&Cancel Generation",
            "cancelAction",
            "Stop the running generation within one step and drop queued ones (Esc)",
            QKeySequence(Qt.Key.Key_Escape),
        )
        self.cancel.setEnabled(False)
        self.save = _action(
            parent,
            "Save with &Parameters…",
            "saveWithParamsAction",
            "Save the picture as PNG with the parameters of the kept results",
            QKeySequence("Ctrl+Alt+Shift+S"),
        )
        self.open_params = _action(
            parent,
            "Open Parameters from PNG…",
            "openParamsAction",
            "Load the generation parameters stored in a PNG (ours or A1111's)",
        )
        self.rescan = _action(
            parent, "Rescan Models", "rescanModelsAction", "Look for models again"
        )
        self.engine = _action(
            parent,
            "&Engine…",
            "engineSettingsAction",
            "Run generation and Compare on this machine or on a remote server; serve this window",
        )
        panel.generate_button.setToolTip(self.generate.toolTip())
        panel.cancel_button.setToolTip(self.cancel.toolTip())
        for name, action in self.by_name().items():
            action.triggered.connect(lambda _=False, h=handlers[name]: h())
        model.events.busy_changed.connect(self.cancel.setEnabled)

    def by_name(self) -> dict[str, QAction]:
        return {
            "generate": self.generate,
            "cancel": self.cancel,
            "save": self.save,
            "open_params": self.open_params,
            "rescan": self.rescan,
            "engine": self.engine,
        }

    def fill_menu(self, menu: QMenu) -> None:
        menu.addActions([self.generate, self.cancel])
        menu.addSeparator()
        menu.addActions([self.save, self.open_params])
        menu.addSeparator()
        menu.addAction(self.rescan)
        menu.addSeparator()
        menu.addAction(self.engine)
