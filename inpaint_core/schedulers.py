"""Schedulers by name: canonical names + A1111 aliases -> diffusers class + kwargs.

The table follows diffusers' scheduler overview and IOPaint's ``get_scheduler``. A swap builds the
new scheduler with ``from_config`` from the *model's own* scheduler config, never by reloading the
model. That base config is remembered per pipeline, because ``from_config`` of an already-swapped
scheduler would carry the previous entry's kwargs along (e.g. ``use_karras_sigmas=True`` from
"DPM++ 2M Karras" leaking into a later plain "DPMSolverMultistep").
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

# canonical name -> accepted aliases (A1111 names included); lower-cased for lookup
SCHEDULER_ALIASES: dict[str, tuple[str, ...]] = {
    "DDIM": ("ddim",),
    "K_EULER": ("euler", "k_euler"),
    "K_EULER_ANCESTRAL": ("euler a", "euler_a", "k_euler_a", "k_euler_ancestral"),
    "DPMSolverMultistep": ("dpmsolvermultistep", "dpm++ 2m", "dpmpp_2m"),
    "DPM++ 2M Karras": ("dpm++ 2m karras", "dpmpp_2m_karras"),
    "PNDM": ("pndm", "plms"),
    "KLMS": ("lms", "k_lms", "klms"),
    "UniPC": ("unipc", "unipcmultistep"),
    # few-step distillations (see inpaint_core.models.presets)
    "LCM": ("lcm", "lcmscheduler"),
    "TCD": ("tcd", "tcdscheduler"),
    "K_EULER_TRAILING": ("euler trailing", "euler sgm uniform", "k_euler_trailing"),
}


@dataclass(frozen=True)
class SchedulerSpec:
    """A diffusers scheduler class (by name, imported lazily) and the kwargs layered on the model's
    own config."""

    class_name: str
    kwargs: dict[str, Any] = field(default_factory=dict)


SCHEDULERS: dict[str, SchedulerSpec] = {
    "DDIM": SchedulerSpec("DDIMScheduler"),
    "K_EULER": SchedulerSpec("EulerDiscreteScheduler"),
    "K_EULER_ANCESTRAL": SchedulerSpec("EulerAncestralDiscreteScheduler"),
    "DPMSolverMultistep": SchedulerSpec(
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": False},
    ),
    "DPM++ 2M Karras": SchedulerSpec(
        "DPMSolverMultistepScheduler",
        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True},
    ),
    "PNDM": SchedulerSpec("PNDMScheduler", {"skip_prk_steps": True}),
    "KLMS": SchedulerSpec("LMSDiscreteScheduler"),
    "UniPC": SchedulerSpec("UniPCMultistepScheduler"),
    "LCM": SchedulerSpec("LCMScheduler"),
    "TCD": SchedulerSpec("TCDScheduler"),
    # SDXL-Lightning's recommendation: Euler with timesteps spaced from the end ("trailing")
    "K_EULER_TRAILING": SchedulerSpec("EulerDiscreteScheduler", {"timestep_spacing": "trailing"}),
}

assert set(SCHEDULERS) == set(SCHEDULER_ALIASES)


def scheduler_names() -> list[str]:
    """The canonical names, in table order."""
    return list(SCHEDULER_ALIASES)


def canonical_scheduler_name(name: str) -> str:
    key = name.strip().lower()
    for canonical, aliases in SCHEDULER_ALIASES.items():
        if key == canonical.lower() or key in aliases:
            return canonical
    raise KeyError(f"unknown scheduler {name!r}; choose one of {', '.join(SCHEDULER_ALIASES)}")


def scheduler_class(name: str) -> type:
    import diffusers

    return getattr(diffusers, SCHEDULERS[canonical_scheduler_name(name)].class_name)


def make_scheduler(name: str, config: Any) -> Any:
    """A new scheduler ``name`` built from a model's scheduler ``config`` (dict or FrozenDict).

    Keys the target class does not know are ignored by ``from_config``; the table's kwargs win.
    The whole base config is carried over, values the model left at their defaults included:
    diffusers' ``_use_default_values`` bookkeeping would otherwise give a model built in memory
    and the same model saved and reloaded different schedules (e.g. ``timestep_spacing``).
    """
    canonical = canonical_scheduler_name(name)
    spec = SCHEDULERS[canonical]
    base = {k: v for k, v in dict(config).items() if k != "_use_default_values"}
    return scheduler_class(canonical).from_config(base, **spec.kwargs)


# pipeline -> the model's own scheduler config (as loaded); weak so a dropped model is freed.
_BASE_CONFIGS: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
# pipeline -> (canonical name, scheduler object) we installed last
_CURRENT: weakref.WeakKeyDictionary[Any, tuple[str, Any]] = weakref.WeakKeyDictionary()


def base_scheduler_config(pipe: Any) -> dict[str, Any]:
    """The scheduler config the model shipped with (remembered on first use)."""
    config = _BASE_CONFIGS.get(pipe)
    if config is None:
        config = dict(pipe.scheduler.config)
        _BASE_CONFIGS[pipe] = config
    return config


def set_scheduler(pipe: Any, name: str) -> str:
    """Install scheduler ``name`` on a loaded pipeline (no model reload). Returns the canonical name.

    A fresh scheduler object is built for every swap (schedulers keep per-run state), from the
    model's own base config; installing the name already installed is a no-op.
    """
    canonical = canonical_scheduler_name(name)
    base = base_scheduler_config(pipe)
    current = _CURRENT.get(pipe)
    if current is not None and current[0] == canonical and current[1] is pipe.scheduler:
        return canonical
    pipe.scheduler = make_scheduler(canonical, base)
    _CURRENT[pipe] = (canonical, pipe.scheduler)
    return canonical


def forget_scheduler(pipe: Any) -> None:
    """Make the next :func:`set_scheduler` build a fresh scheduler (after a cancelled or failed run
    whose scheduler may hold half-run state)."""
    _CURRENT.pop(pipe, None)
