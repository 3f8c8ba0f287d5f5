"""Putting the generation feature into a main window: the Parameters and Candidates docks, the
Generate menu, the status-bar fields."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, SignalInstance
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMenu

from desktop.engine_bridge import EngineBridge
from desktop.generation.controller import GenerationController
from desktop.generation.host import DocumentHost
from desktop.generation.memory_menu import MemoryMenu


def install(
    window: QMainWindow,
    host: DocumentHost,
    *,
    bridge: EngineBridge | None = None,
    settings: QSettings | None = None,
    menu: QMenu | None = None,
    document_changed: SignalInstance | None = None,
) -> GenerationController:
    """Put generation into ``window``: the panel in its ``parametersDock`` and the tray in its
    ``candidatesDock`` (made when missing), the actions in ``menu`` (a new Generate menu when
    None), the status-bar fields; ``document_changed(doc)`` tells it about a new picture. Returns the controller (also kept as ``window.generation``); it
    shuts down (settings saved, worker stopped) once the window has really closed."""
    ctl = GenerationController(host, bridge=bridge, settings=settings, parent=window)
    right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
    _dock(window, "parametersDock", "Parameters", right).setWidget(ctl.panel)
    candidates = _dock(window, "candidatesDock", "Candidates", bottom)
    candidates.setWidget(ctl.tray)
    if menu is None:
        menu = window.menuBar().addMenu("&Generate")
        menu.setObjectName("generateMenu")
    ctl.actions.fill_menu(menu)
    memory = MemoryMenu(ctl.engine_cache, ctl.settings, window)
    menu.addSeparator()
    menu.addMenu(memory.menu)
    memory.attach_to(ctl.model_label)
    ctl.memory = memory  # type: ignore[attr-defined]
    window.addActions([ctl.actions.generate, ctl.actions.cancel, ctl.actions.save])
    window.statusBar().addPermanentWidget(ctl.model_label)
    window.statusBar().addPermanentWidget(ctl.device_label)
    ctl.model.events.results.connect(lambda *_: _show(window, candidates, ctl.tray.row_height()))
    if document_changed is not None:
        document_changed.connect(ctl.document_changed)
    window.installEventFilter(ctl)  # Close -> shutdown
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(ctl.shutdown)
    window.generation = ctl  # type: ignore[attr-defined]
    return ctl


def _dock(window: QMainWindow, name: str, title: str, area: Qt.DockWidgetArea) -> QDockWidget:
    dock = window.findChild(QDockWidget, name)
    if dock is None:
        dock = QDockWidget(title, window)
        dock.setObjectName(name)
        window.addDockWidget(area, dock)
    return dock


def _show(window: QMainWindow, dock: QDockWidget, height: int = 200) -> None:
    if dock.isHidden():
        dock.show()
        # a strip just tall enough for one row of thumbnails: the canvas keeps the room
        window.resizeDocks([dock], [height], Qt.Orientation.Vertical)
