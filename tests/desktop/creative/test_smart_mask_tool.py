"""The Smart mask tool in the studio with a tiny random-weight SamModel (built in
tests/test_smart_mask.py), through the real processor path: click -> mask, one undo step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from desktop.smart_mask.tool import SETTINGS_KEY
from inpaint_core.smart_mask import Click, SmartMasker
from tests.desktop.conftest import widget_point
from tests.test_smart_mask import tiny_sam_dir  # noqa: F401 - the fixture


@pytest.fixture
def tool(window, tiny_sam_dir):  # noqa: F811
    t = window.creative.smart_mask
    asked = []
    t.ask_model = lambda current: asked.append(current) or str(tiny_sam_dir)
    t.asked = asked
    yield t
    t.action.setChecked(False)


def click(qtbot, window, x, y, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(
        window.canvas, Qt.MouseButton.LeftButton, modifier, widget_point(window.canvas, x, y)
    )


def test_the_tool_is_in_the_mask_menu_and_asks_for_the_model_once(window, tool, tiny_sam_dir):  # noqa: F811
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert tool.action in menus["Mask"].actions()
    assert isinstance(menus["Mask"], QMenu) and tool.action in window.toolbar.actions()
    tool.action.setChecked(True)
    assert window.canvas.click_mode and tool.asked == [""]
    assert window.settings.value(SETTINGS_KEY, type=str) == str(tiny_sam_dir)
    tool.action.setChecked(False)
    assert not window.canvas.click_mode
    tool.action.setChecked(True)
    assert tool.asked == [""]  # chosen once, remembered
    window.actions.brush.trigger()  # the brush takes the canvas back
    assert not tool.action.isChecked() and not window.canvas.click_mode


def test_a_click_masks_the_object_as_one_undo_step(window, tool, qtbot, tiny_sam_dir):  # noqa: F811
    doc = window.document
    doc.mask[5:15, 5:15] = 255  # painted before: stays (the selection adds to it)
    base = doc.mask.copy()
    tool.action.setChecked(True)
    before = window.history.stack.count()
    with qtbot.waitSignal(tool.applied, timeout=60000) as blocker:
        click(qtbot, window, 200, 150)
    assert len(tool.clicks) == 1 and tool.clicks[0].positive
    c = tool.clicks[0]
    expected = SmartMasker(model=str(tiny_sam_dir)).mask(doc.flatten(), [Click(c.x, c.y)])
    assert np.array_equal(blocker.args[0], expected)
    assert np.array_equal(doc.mask, np.maximum(base, expected))
    assert expected.any() and not np.array_equal(np.maximum(base, expected), base)
    assert window.history.stack.count() == before + 1
    assert window.history.stack.text(before) == "Smart mask"
    window.history.stack.undo()
    assert np.array_equal(doc.mask, base)
    window.history.stack.redo()
    # Shift-click adds a point, Alt-click a "not this" point: the selection is recomputed from
    # all of them, on the same base (one more undo step each, the newest answer wins)
    with qtbot.waitSignal(tool.applied, timeout=60000):
        click(qtbot, window, 120, 220, Qt.KeyboardModifier.ShiftModifier)
    with qtbot.waitSignal(tool.applied, timeout=60000) as blocker:
        click(qtbot, window, 300, 100, Qt.KeyboardModifier.AltModifier)
    assert [k.positive for k in tool.clicks] == [True, True, False]
    points = [Click(k.x, k.y, k.positive) for k in tool.clicks]
    again = SmartMasker(model=str(tiny_sam_dir)).mask(doc.flatten(), points)
    assert np.array_equal(blocker.args[0], again)
    assert np.array_equal(doc.mask, np.maximum(base, again))


def test_the_newest_click_wins(window, tool, qtbot):
    tool.action.setChecked(True)
    applied = []
    tool.applied.connect(applied.append)
    click(qtbot, window, 100, 100)
    click(qtbot, window, 250, 200)  # a new selection before the first answer is shown
    assert tool.generation == 2
    qtbot.waitUntil(lambda: tool.pending == 0, timeout=60000)
    assert len(applied) == 1 and len(tool.clicks) == 1  # only the second click's answer
