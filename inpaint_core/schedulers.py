"""Scheduler names. The diffusion engine issue fills in the diffusers table (name -> class + kwargs)."""

from __future__ import annotations

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
}


def canonical_scheduler_name(name: str) -> str:
    key = name.strip().lower()
    for canonical, aliases in SCHEDULER_ALIASES.items():
        if key == canonical.lower() or key in aliases:
            return canonical
    raise KeyError(f"unknown scheduler {name!r}; choose one of {', '.join(SCHEDULER_ALIASES)}")
