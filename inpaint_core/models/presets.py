"""Settings a model asks for: its family's working grid, and a few-step distillation's sampler.

A few-step model (LCM, TCD, SDXL-Lightning, Hyper-SD, SDXL-Turbo — a checkpoint, or a LoRA on a
normal model) gives mush with the usual 25 steps at CFG 7.5, and a normal model gives mush with
4 steps at CFG 1: each needs its own scheduler, step count and guidance. They name themselves
("sdxl_lightning_4step_lora", "Hyper-SDXL-8steps-lora", "lcm-lora-sdv1-5", "sdxl-turbo"), which
is how they are recognised (:func:`~inpaint_core.models.families.few_step_kind`).

:func:`suggested_settings` returns the request fields to use when the user did not set them;
whatever the user sets wins (the CLI applies these only to flags left out).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .discovery import resolve_model
from .families import FAMILIES, Detection, detect_file, detect_folder, few_step_kind


@dataclass(frozen=True)
class FewStepPreset:
    kind: str
    scheduler: str  # canonical name in inpaint_core.schedulers
    steps: int
    guidance_scale: float
    label: str


# From each distillation's model card: LCM(-LoRA) 4-8 steps at CFG 1-2 with LCMScheduler;
# TCD 4-8 steps, CFG ~1 with TCDScheduler; SDXL-Lightning: Euler "trailing", the step count it
# was distilled for, CFG 1 (no guidance); Hyper-SD LoRAs: TCD/DDIM-trailing, 8 steps, CFG ~1;
# SDXL-Turbo: 1-4 steps, guidance 0 (Euler ancestral).
FEW_STEP_PRESETS: dict[str, FewStepPreset] = {
    "lcm": FewStepPreset("lcm", "LCM", 6, 1.5, "LCM"),
    "tcd": FewStepPreset("tcd", "TCD", 6, 1.0, "TCD"),
    "lightning": FewStepPreset("lightning", "K_EULER_TRAILING", 6, 1.0, "Lightning"),
    "hyper": FewStepPreset("hyper", "TCD", 8, 1.0, "Hyper-SD"),
    "turbo": FewStepPreset("turbo", "K_EULER_ANCESTRAL", 4, 0.0, "Turbo"),
}


FLUX_FILL_GUIDANCE = 30.0
FLUX_FILL_STEPS = 28


def detect_model(model: str | os.PathLike[str]) -> Detection | None:
    """The family of a model reference (path, name or cached repo id); None when it cannot be
    resolved or read (the loader then says why)."""
    try:
        ref = resolve_model(model)
    except ModelError:
        return None
    try:
        if ref.kind == "single_file":
            if ref.path.suffix.lower() != ".safetensors":
                return None
            return detect_file(ref.path)
        return detect_folder(ref.path, ref.name)
    except ModelError:
        return None


@dataclass(frozen=True)
class Suggestion:
    """Request fields a model suggests, and why (for one line of explanation)."""

    fields: dict[str, Any]
    family: str | None = None
    few_step: str | None = None
    reason: str = ""


def suggested_settings(
    model: str | None, lora_paths: list[str] | tuple[str, ...] = ()
) -> Suggestion:
    """The working grid of the model's family (SDXL and Flux: 1024) and, for a few-step model or
    LoRA, its scheduler, steps and guidance."""
    fields: dict[str, Any] = {}
    found = detect_model(model) if model else None
    family = found.family if found else None
    if family in FAMILIES:
        fields["target_size"] = FAMILIES[family].default_size
    if family == "flux":
        # FLUX.1 Fill: guidance is a distilled input (BFL's default 30), ~28 flow-matching steps
        fields.update(guidance_scale=FLUX_FILL_GUIDANCE, steps=FLUX_FILL_STEPS)
    kind = found.few_step if found else None
    source = Path(str(model)).name if kind else ""
    if kind is None:
        for path in lora_paths:
            kind = few_step_kind(Path(path).stem)
            if kind:
                source = f"LoRA {Path(path).name}"
                break
    reason = ""
    if kind:
        preset = FEW_STEP_PRESETS[kind]
        fields.update(
            scheduler=preset.scheduler, steps=preset.steps, guidance_scale=preset.guidance_scale
        )
        reason = (
            f"{source} is a few-step model ({preset.label}): {preset.scheduler}, "
            f"{preset.steps} steps, CFG {preset.guidance_scale}"
        )
    return Suggestion(fields, family, kind, reason)
