"""Issue 15 gap: the GPU memory rung can be chosen in the studio (Generate ▸ GPU memory, and the
model status field's context menu), kept in the settings, and reaches the engine as --memory."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from desktop.generation.memory_menu import SETTINGS_KEY
from desktop.settings import open_settings
from desktop.window.main_window import MainWindow
from inpaint_core.models.memory import RUNGS
from inpaint_core.request import InpaintRequest

REQ = InpaintRequest(engine="diffusion", model="/models/x")


def test_the_menu_is_under_generate_and_offers_every_rung(window):
    memory = window.generation.memory
    assert memory.menu.menuAction() in window.generate_menu.actions()
    keys = [a.data() for a in memory.menu.actions() if not a.isSeparator()]
    assert keys == ["auto", *RUNGS]
    assert memory.rung == "auto" and window.generation.engine_cache.memory is None


def test_a_chosen_rung_reaches_the_engine_and_survives_a_restart(window, qtbot, settings_dir):
    memory = window.generation.memory
    memory.actions["offload"].trigger()  # what a click on the menu item does
    assert memory.rung == "offload"
    cache = window.generation.engine_cache
    assert cache.memory == "offload"
    assert cache(REQ).memory == "offload"  # the engine the next run loads the model with
    assert window.settings.value(SETTINGS_KEY, type=str) == "offload"
    window.settings.sync()
    again = MainWindow(open_settings(settings_dir))
    qtbot.addWidget(again)
    assert again.generation.memory.rung == "offload"
    assert again.generation.engine_cache.memory == "offload"
    again.generation.memory.actions["auto"].trigger()
    assert again.generation.engine_cache.memory is None
    again.generation.shutdown()
    window.generation.shutdown()


def test_an_unreadable_setting_falls_back_to_automatic(qtbot, settings_dir):
    s = open_settings(settings_dir)
    s.setValue(SETTINGS_KEY, "turbo")
    s.sync()
    w = MainWindow(open_settings(settings_dir))
    qtbot.addWidget(w)
    assert w.generation.memory.rung == "auto" and w.generation.engine_cache.memory is None
    w.generation.shutdown()


def test_the_model_status_field_opens_the_same_menu(window, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(QMenu, "popup", lambda self, pos, *a: shown.append(self))
    label = window.generation.model_label
    label.customContextMenuRequested.emit(label.rect().center())
    assert shown == [window.generation.memory.menu]
