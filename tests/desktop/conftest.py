"""The studio window under pytest-qt (offscreen): settings in a temp dir, the sample photo open."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.settings import SETTINGS_DIR_ENV, open_settings
from desktop.window.main_window import MainWindow
from desktop.window.unsaved import UnsavedWork


@pytest.fixture
def settings_dir(tmp_path, monkeypatch):
    d = tmp_path / "settings"
    monkeypatch.setenv(SETTINGS_DIR_ENV, str(d))
    return d


@pytest.fixture(autouse=True)
def _autosave_in_tmp(tmp_path, monkeypatch):
    """Autosaves (platformdirs' user data folder) go to a temp dir, never the user's."""
    d = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(d))
    return d


@pytest.fixture(autouse=True)
def _unsaved_changes_are_discarded(monkeypatch):
    """A modal "Save / Discard / Cancel" would hang an offscreen test (closing a window with
    strokes on it at teardown, say): answer Discard unless a test sets ``window.unsaved.ask``."""
    monkeypatch.setattr(UnsavedWork, "ask", lambda self, action: QMessageBox.StandardButton.Discard)


def open_and_wait(qtbot, window, source, name=None, timeout=20000) -> bool:
    """``window.opener.open_source`` and wait until the photo has landed or failed; True when it opened."""
    with qtbot.waitSignal(window.loader.finished, timeout=timeout) as blocker:
        assert window.opener.open_source(source, name)
    return blocker.args[0].ok and window.doc is not None


@pytest.fixture
def window(qtbot, settings_dir):
    w = MainWindow(open_settings(settings_dir))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    assert w.opener.open_sample()
    w.activateWindow()  # offscreen, shortcuts fire only in the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=2000)
    QApplication.processEvents()
    return w


def widget_point(canvas, x: float, y: float) -> QPoint:
    p: QPointF = canvas.image_to_widget(x, y)
    return QPoint(round(p.x()), round(p.y()))


def drag(
    qtbot, canvas, points, button=Qt.MouseButton.LeftButton, modifier=Qt.KeyboardModifier.NoModifier
):
    """Press at the first image point, move through the rest, release at the last."""
    wp = [widget_point(canvas, x, y) for x, y in points]
    qtbot.mousePress(canvas, button, modifier, wp[0])
    for p in wp[1:]:
        qtbot.mouseMove(canvas, p)
    qtbot.mouseRelease(canvas, button, modifier, wp[-1])
    QApplication.processEvents()
