"""Putting the model manager into a main window: a Models menu with "Manage models…", the window
made on first use and kept (a download goes on while it is closed)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu

from desktop.models.manager_window import ModelManagerWindow


class ModelsMenu(QObject):
    """Models ▸ Manage models…; ``on_models_changed()`` after a download or a removal (the
    window rescans its model picker)."""

    def __init__(
        self,
        window: QMainWindow,
        on_models_changed: Callable[[], None],
        before: QAction | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.on_models_changed = on_models_changed
        self.menu = QMenu("&Models", window)
        self.menu.setObjectName("modelsMenu")
        bar = window.menuBar()
        if before is not None:
            bar.insertMenu(before, self.menu)
        else:
            bar.addMenu(self.menu)
        self.manage_action = self.menu.addAction("&Manage models…")
        self.manage_action.setObjectName("manageModelsAction")
        self.manage_action.setStatusTip("Installed models, and downloads (SDXL, FLUX Fill, LoRAs…)")
        self.manage_action.triggered.connect(self.show_manager)
        self.manager: ModelManagerWindow | None = None

    def show_manager(self) -> ModelManagerWindow:
        if self.manager is None:
            self.manager = ModelManagerWindow(self.window)
            self.manager.models_changed.connect(self.on_models_changed)
        else:
            self.manager.refresh()
        self.manager.show()
        self.manager.raise_()
        self.manager.activateWindow()
        return self.manager
