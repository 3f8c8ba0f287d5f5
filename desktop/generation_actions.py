"""The generation controller's actions and shortcuts, and installing it into the main window
(the Parameters and Candidates docks, the Generate menu, the status-bar fields).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow

from . import engine_settings
from .engine_bridge import EngineBridge
from .generation_host import DocumentHost, window_host

if TYPE_CHECKING:
    from .generation import GenerationController


def make_actions(ctl: GenerationController) -> None:
    """Generate (Ctrl+Enter), Cancel (Esc), Save with parameters, Open parameters, Rescan models:
    made as ``ctl``'s attributes (parented to it)."""

    def action(text: str, name: str, tip: str, *keys: QKeySequence) -> QAction:
        a = QAction(text, ctl, objectName=name)
        a.setToolTip(tip)
        a.setStatusTip(tip)
        if keys:
            a.setShortcuts(list(keys))
        return a

    ctl.generate_action = action(
        "&Generate",
        "generateAction",
        "Generate (Ctrl+Enter); while one runs, this queues another",
        QKeySequence("Ctrl+Return"),
        QKeySequence("Ctrl+Enter"),
    )
    ctl.cancel_action = action(
        "&Cancel Generation",
        "cancelAction",
        "Stop the running generation within one step and drop queued ones (Esc)",
        QKeySequence(Qt.Key.Key_Escape),
    )
    ctl.cancel_action.setEnabled(False)
    ctl.save_action = action(
        "Save with &Parameters…",
        "saveWithParamsAction",
        "Save the picture as PNG with the parameters of the kept results",
        QKeySequence("Ctrl+Alt+Shift+S"),
    )
    ctl.open_params_action = action(
        "Open Parameters from PNG…",
        "openParamsAction",
        "Load the generation parameters stored in a PNG (ours or A1111's)",
    )
    ctl.rescan_action = action(
        "Rescan Models", "rescanModelsAction", "Look for models on disk again"
    )
    ctl.panel.generate_button.setToolTip(ctl.generate_action.toolTip())
    ctl.panel.cancel_button.setToolTip(ctl.cancel_action.toolTip())


# -- installing into the main window --------------------------------------------------------------
def _dock(window: QMainWindow, name: str, title: str, area: Qt.DockWidgetArea) -> QDockWidget:
    dock = window.findChild(QDockWidget, name)
    if dock is None:
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        window.addDockWidget(area, dock)
    return dock


def _menu_before(window: QMainWindow, title: str, before: str) -> Any:
    bar = window.menuBar()
    menu = bar.addMenu(title)
    for action in bar.actions():
        if action.text().replace("&", "") == before and action is not menu.menuAction():
            bar.insertMenu(action, menu)
            break
    return menu


def install(
    window: QMainWindow,
    host: DocumentHost | None = None,
    *,
    bridge: EngineBridge | None = None,
    settings: QSettings | None = None,
) -> GenerationController:
    """Fill ``window``'s ``parametersDock`` and ``candidatesDock`` (created when missing), add the
    Generate menu, the shortcuts and the status-bar fields. Returns the controller (also kept as
    ``window.generation``). It shuts down (settings saved, worker stopped) when the window closes."""
    from .generation import GenerationController  # (desktop.generation imports this module)

    host = host or window_host(window)
    settings = settings if settings is not None else getattr(window, "settings", None)
    ctl = GenerationController(host, bridge=bridge, settings=settings, parent=window)
    right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
    _dock(window, "parametersDock", "Parameters", right).setWidget(ctl.panel)
    _dock(window, "candidatesDock", "Candidates", bottom).setWidget(ctl.tray)
    menu = _menu_before(window, "&Generate", "Help")
    menu.setObjectName("generateMenu")
    menu.addActions([ctl.generate_action, ctl.cancel_action])
    menu.addSeparator()
    menu.addActions([ctl.save_action, ctl.open_params_action])
    menu.addSeparator()
    menu.addAction(ctl.rescan_action)
    engine_settings.install(window, ctl, ctl.settings, menu)
    window.addActions([ctl.generate_action, ctl.cancel_action, ctl.save_action])
    window.statusBar().addPermanentWidget(ctl.model_label)
    window.statusBar().addPermanentWidget(ctl.device_label)
    ctl.tray.list.model().rowsInserted.connect(lambda *_: _show_candidates(window))
    changed = getattr(window, "document_changed", None)
    if changed is not None:
        changed.connect(ctl.document_changed)
    window.installEventFilter(ctl)  # Close -> shutdown
    window.generation = ctl  # type: ignore[attr-defined]
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(ctl.shutdown)
    return ctl


def _show_candidates(window: QMainWindow) -> None:
    dock = window.findChild(QDockWidget, "candidatesDock")
    if dock is not None and dock.isHidden():
        dock.show()
        # a strip just tall enough for one row of thumbnails: the canvas keeps the room
        window.resizeDocks([dock], [200], Qt.Orientation.Vertical)
