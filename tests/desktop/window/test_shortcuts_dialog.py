"""Help ▸ Keyboard Shortcuts lists every shortcut, the features' own actions included."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence


def test_the_shortcuts_list_has_every_features_keys(window):
    listed = {
        k.toString(QKeySequence.SequenceFormat.PortableText)
        for a in window.shortcut_actions()
        for k in a.shortcuts()
    }
    # generation, compare, outpaint, live preview, smart mask, projects and the window's own
    for keys in ("Ctrl+Return", "Ctrl+Shift+C", "Ctrl+Alt+C", "Ctrl+Shift+L", "W", "Ctrl+S", "B"):
        assert keys in listed, keys
    rows = [
        (a.text(), tuple(k.toString() for k in a.shortcuts())) for a in window.shortcut_actions()
    ]
    assert len(rows) == len(set(rows))  # each once
