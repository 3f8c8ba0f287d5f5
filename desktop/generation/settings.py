"""The generation model's state in ``QSettings``: one JSON value, written by the model's own
``to_dict`` and read by its ``restore`` (which keeps defaults for anything unreadable, so a settings
file from an older or newer version never stops the window)."""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings

from inpaint_core.generation_model import GenerationModel

SETTINGS_KEY = "generation/state"


def save_state(model: GenerationModel, settings: QSettings) -> None:
    settings.setValue(SETTINGS_KEY, json.dumps(model.to_dict()))


def restore_state(model: GenerationModel, settings: QSettings) -> None:
    try:
        data = json.loads(str(settings.value(SETTINGS_KEY, "{}", type=str)))
    except (TypeError, ValueError):
        return
    model.restore(data if isinstance(data, dict) else {})
