"""Last-used generation parameters in ``QSettings`` (group ``generation``).

Each value is its own key, read back with ``type=`` (INI values come back as ``str`` in a new
process); a missing or unreadable value keeps the widget's default, so a settings file from an older
or newer version never stops the window.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings

from inpaint_core.schedulers import scheduler_names

if TYPE_CHECKING:
    from desktop.generation.panel import ParametersPanel

SETTINGS_GROUP = "generation"


def panel_values(p: ParametersPanel) -> dict[str, Any]:
    return {
        "engine": p.engine,
        "model": p.model or "",
        "extra_models": json.dumps(list(p._opened_models)),
        "prompt": p.prompt_edit.toPlainText(),
        "negative_prompt": p.negative_edit.toPlainText(),
        "scheduler": p.scheduler_combo.currentText(),
        "steps": p.steps_spin.value(),
        "guidance_scale": p.guidance_spin.value(),
        "strength": p.strength_spin.value(),
        "seed": p.seed_edit.text(),
        "random_seed": p.random_seed_check.isChecked(),
        "num_outputs": p.outputs_spin.value(),
        "size_mode": p.size_mode_combo.currentData(),
        "target_size": p.target_spin.value(),
        "width": p.width_spin.value(),
        "height": p.height_spin.value(),
        "safety_checker": p.safety_check.isChecked(),
        "mask_padding": p.padding_spin.value(),
        "mask_grow": p.grow_spin.value(),
        "mask_feather": p.feather_spin.value(),
        "color_match": p.color_match_check.isChecked(),
    }


def save_panel(p: ParametersPanel, settings: QSettings) -> None:
    settings.beginGroup(SETTINGS_GROUP)
    try:
        for key, value in panel_values(p).items():
            settings.setValue(key, value)
    finally:
        settings.endGroup()


def restore_panel(p: ParametersPanel, settings: QSettings) -> None:
    from desktop.generation.panel import ENGINE_LABELS

    s = settings

    def val(key: str, default: Any, kind: type) -> Any:
        try:
            value = s.value(key, default, type=kind)
        except (TypeError, ValueError):
            return default
        return default if value is None else value

    s.beginGroup(SETTINGS_GROUP)
    p._loading = True
    try:
        try:
            extra = json.loads(val("extra_models", "[]", str))
        except ValueError:
            extra = []
        for src in extra if isinstance(extra, list) else []:
            if isinstance(src, str) and src:
                p.add_model(src)
        model = val("model", "", str)
        if model:
            p.set_model(model)
        engine = val("engine", "", str)
        if engine in ENGINE_LABELS:
            p.engine_combo.setCurrentIndex(p.engine_combo.findData(engine))
        p.prompt_edit.setPlainText(val("prompt", "", str))
        p.negative_edit.setPlainText(val("negative_prompt", "", str))
        scheduler = val("scheduler", "", str)
        if scheduler in scheduler_names():
            p.scheduler_combo.setCurrentText(scheduler)
        p.steps_spin.setValue(val("steps", p.steps_spin.value(), int))
        p.guidance_spin.setValue(val("guidance_scale", p.guidance_spin.value(), float))
        p.strength_spin.setValue(val("strength", p.strength_spin.value(), float))
        p.seed_edit.setText(val("seed", "", str))
        p.random_seed_check.setChecked(val("random_seed", True, bool))
        p.outputs_spin.setValue(val("num_outputs", p.outputs_spin.value(), int))
        mode = val("size_mode", "auto", str)
        p.size_mode_combo.setCurrentIndex(1 if mode == "explicit" else 0)
        p.target_spin.setValue(val("target_size", p.target_spin.value(), int))
        p.width_spin.setValue(val("width", p.width_spin.value(), int))
        p.height_spin.setValue(val("height", p.height_spin.value(), int))
        p.safety_check.setChecked(val("safety_checker", True, bool))
        p.padding_spin.setValue(val("mask_padding", p.padding_spin.value(), int))
        p.grow_spin.setValue(val("mask_grow", p.grow_spin.value(), int))
        p.feather_spin.setValue(val("mask_feather", p.feather_spin.value(), int))
        p.color_match_check.setChecked(val("color_match", False, bool))
    finally:
        p._loading = False
        s.endGroup()
    p.validate()
