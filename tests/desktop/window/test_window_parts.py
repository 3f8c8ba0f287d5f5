"""The window's parts are small objects given what they use in their constructors: each works
without a MainWindow, and the window is a plain QMainWindow (no mixins)."""

import numpy as np
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from desktop.canvas.brush import BrushSettings
from desktop.canvas.canvas import Canvas
from desktop.layers.panel import LayersPanel
from desktop.settings import open_settings
from desktop.window.edits import EditCommands
from desktop.window.loader import PhotoLoader
from desktop.window.main_window import MainWindow
from desktop.window.unsaved import UnsavedWork
from inpaint_core.document import Document

Button = QMessageBox.StandardButton


def test_the_window_has_no_mixins():
    assert MainWindow.__bases__ == (QMainWindow,)


def test_edit_commands_work_on_what_they_are_given(qtbot, settings_dir):
    doc = Document(np.zeros((20, 30, 3), np.uint8))
    applied, messages = [], []

    def apply(fn, nothing=""):
        edit = fn(doc)
        applied.append(edit)
        if edit is None and nothing:
            messages.append(nothing)
        return edit

    parent = QWidget()
    qtbot.addWidget(parent)
    edits = EditCommands(
        parent,
        open_settings(settings_dir),
        lambda: doc,
        apply,
        applied.append,
        LayersPanel(),
        lambda *_a: None,
        lambda *_a: True,
        messages.append,
    )
    edits.invert_mask()
    assert doc.mask.min() == 255 and applied[-1] is not None
    edits.clear_mask()
    assert doc.mask.max() == 0
    edits.clear_mask()  # nothing left to clear: the status message, no edit
    assert applied[-1] is None and messages == ["The mask is already empty."]
    edits.grow_mask()  # the pixel question answered Cancel: nothing happens
    assert len(applied) == 3


def test_unsaved_work_asks_only_when_the_stack_is_not_clean(qtbot):
    doc = Document(np.zeros((10, 10, 3), np.uint8))
    parent = QWidget()
    qtbot.addWidget(parent)
    stack = QUndoStack(parent)
    unsaved = UnsavedWork(
        parent,
        lambda: doc,
        stack,
        Canvas(BrushSettings()),
        PhotoLoader(parent),
        None,  # type: ignore[arg-type] - Save is never chosen here
        lambda: None,
        lambda _title: None,
    )
    asked = []
    unsaved.ask = lambda action: asked.append(action) or Button.Cancel
    assert not unsaved.has_changes() and unsaved.settle("closing") and asked == []
    stack.push(QUndoCommand("a change"))
    assert unsaved.has_changes()
    assert not unsaved.settle("opening x.png") and asked == ["opening x.png"]
    unsaved.ask = lambda action: Button.Discard
    assert unsaved.settle("closing")
    unsaved.mark_saved()
    assert not unsaved.has_changes()
