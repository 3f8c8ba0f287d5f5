"""The new keys fire in the window (an ambiguous shortcut would fire nothing)."""

from __future__ import annotations

from PySide6.QtCore import Qt

Key = Qt.Key
Ctrl, Shift, Alt = (
    Qt.KeyboardModifier.ControlModifier,
    Qt.KeyboardModifier.ShiftModifier,
    Qt.KeyboardModifier.AltModifier,
)


def test_w_ctrl_shift_l_and_ctrl_alt_c(window, qtbot, tmp_path):
    tools = window.creative
    tools.smart_mask.ask_model = lambda current: str(tmp_path / "sam")
    qtbot.keyClick(window, Key.Key_W)
    assert tools.smart_mask.action.isChecked() and window.canvas.click_mode
    qtbot.keyClick(window, Key.Key_B)  # back to the brush
    assert not tools.smart_mask.action.isChecked() and not window.canvas.click_mode
    p = window.generation.panel
    p.engine_combo.setCurrentIndex(p.engine_combo.findData("classical"))
    p.validate()
    qtbot.keyClick(window, Key.Key_L, Ctrl | Shift)
    assert tools.live.action.isChecked()
    qtbot.keyClick(window, Key.Key_L, Ctrl | Shift)
    assert not tools.live.action.isChecked()
    asked = []
    tools.extender.ask = lambda dialog: asked.append(dialog.size) or False  # Cancel
    qtbot.keyClick(window, Key.Key_C, Ctrl | Alt)
    assert asked == [window.doc.size]
    tools.live.close()
    window.generation.shutdown()
