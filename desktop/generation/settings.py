"""The generation model's state in ``QSettings``: one JSON value, written by the model's own
``to_dict`` and read by its ``restore`` (which keeps defaults for anything unreadable, so a settings
file from an older or newer version never stops the window).

Settings written before the generation model (one key per request field, named as the field, in the
``generation`` group) are read once into the model, so an upgrade keeps the last-used values.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from PySide6.QtCore import QSettings

from inpaint_core.generation_model import GenerationModel
from inpaint_core.request import InpaintRequest

GROUP = "generation"
SETTINGS_KEY = f"{GROUP}/state"


def save_state(model: GenerationModel, settings: QSettings) -> None:
    settings.setValue(SETTINGS_KEY, json.dumps(model.to_dict()))


def restore_state(model: GenerationModel, settings: QSettings) -> None:
    if not settings.contains(SETTINGS_KEY):
        legacy = _legacy_state(settings)
        if legacy:
            model.restore(legacy)
        return
    try:
        data = json.loads(str(settings.value(SETTINGS_KEY, "{}", type=str)))
    except (TypeError, ValueError):
        return
    model.restore(data if isinstance(data, dict) else {})


def _legacy_state(settings: QSettings) -> dict[str, Any]:
    """The per-field keys of older versions as a ``to_dict``-shaped state ({} when none)."""
    settings.beginGroup(GROUP)
    try:
        keys = set(settings.childKeys())
        values = {k: settings.value(k) for k in keys}
    finally:
        settings.endGroup()
    if not keys:
        return {}
    request: dict[str, Any] = {}
    for f in fields(InpaintRequest):
        raw = values.get(f.name)
        kind = str(f.type)  # "str", "int | None", "float", "bool", ...
        if raw is None or f.name in ("seeds", "options"):
            continue
        text = str(raw).strip()
        try:
            if kind == "bool":
                request[f.name] = text.lower() in ("true", "1")
            elif kind.startswith(("int", "float")):
                number = float(text) if text else None
                request[f.name] = (
                    None if number is None else (int if "int" in kind else float)(number)
                )
            elif kind.startswith("str"):
                request[f.name] = str(raw) if str(raw) or "None" not in kind else None
        except ValueError:
            continue  # unreadable: the default stays
    explicit = str(values.get("size_mode", "auto")) == "explicit"
    if not explicit:
        request.pop("width", None), request.pop("height", None)
    try:
        opened = json.loads(str(values.get("extra_models", "[]")))
    except ValueError:
        opened = []
    return {
        "request": request,
        "seed_locked": str(values.get("random_seed", "true")).lower() not in ("true", "1"),
        "size_mode": "explicit" if explicit else "auto",
        "opened_models": opened if isinstance(opened, list) else [],
    }
