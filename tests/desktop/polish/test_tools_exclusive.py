"""QA: the Brush stayed checked while Smart mask was active. The canvas tools (Brush, Eraser,
Smart mask) are one exclusive group: one checked at a time, and switching back works."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication


def _checked(window):
    tools = {
        "brush": window.actions.brush,
        "eraser": window.actions.eraser,
        "smart": window.creative.smart_mask.action,
    }
    return [name for name, act in tools.items() if act.isChecked()]


def test_one_tool_checked_at_a_time_and_back(window):
    smart = window.creative.smart_mask
    smart.source = "/models/sam"  # chosen before: nothing is asked, nothing is loaded
    assert _checked(window) == ["brush"]
    smart.action.trigger()
    assert _checked(window) == ["smart"] and window.canvas.click_mode
    window.brush.bigger()  # a brush setting changed with ] does not switch the tool
    QApplication.processEvents()
    assert _checked(window) == ["smart"]
    window.actions.brush.trigger()
    assert _checked(window) == ["brush"] and not window.canvas.click_mode
    assert not window.brush.erase
    window.actions.eraser.trigger()
    smart.action.trigger()
    assert _checked(window) == ["smart"]
    smart.action.setChecked(False)  # switched off otherwise: the paint tool it left comes back
    assert _checked(window) == ["eraser"] and not window.canvas.click_mode
    window.actions.brush.trigger()
    assert _checked(window) == ["brush"]


def test_a_cancelled_model_choice_leaves_the_brush_checked(window):
    smart = window.creative.smart_mask
    smart.source = ""
    smart.ask_model = lambda current: None  # the user cancels the model dialog
    smart.action.trigger()
    assert _checked(window) == ["brush"] and not window.canvas.click_mode
