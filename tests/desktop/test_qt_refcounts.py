"""PySide6 6.12.0 on Python 3.11 takes a reference from None/True on every void call or emit, and
the app aborts after minutes of mouse moves. The pin (<6.12) keeps that build out; this checks it."""

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget


class _Emitter(QObject):
    sig = Signal(object)


def test_pyside_keeps_its_references_to_none_and_true(qtbot):
    w = QWidget()
    qtbot.addWidget(w)
    e = _Emitter()
    e.sig.connect(lambda _v: None)
    none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(1000):
        w.update()
        e.sig.emit(1)
    assert sys.getrefcount(None) - none0 > -500, "void calls lose references to None"
    assert sys.getrefcount(True) - true0 > -500, "Signal.emit loses references to True"
