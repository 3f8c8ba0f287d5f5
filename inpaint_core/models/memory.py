"""The memory ladder for small GPUs: how much of a model sits on the GPU, chosen from its VRAM.

Each rung keeps what the rungs above it do and saves more memory, for more time:

============== ====================================================================
``full``       everything on the GPU (fastest)
``sliced``     + attention slicing (attention computed in slices)
``tiled``      + VAE slicing and tiling (big decodes in tiles)
``offload``    + model CPU offload: each component moves to the GPU only while it runs
``sequential`` + sequential CPU offload: layer by layer (slowest, a few GB suffice)
============== ====================================================================

:func:`choose_rung` picks the first rung whose estimate fits the card (weights of the family in
the chosen precision + working memory at its grid); the user can force one (``--memory``).
Out of memory during a run, the engine falls one rung (:func:`next_rung`) once and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RUNGS = ("full", "sliced", "tiled", "offload", "sequential")

# GiB at 16-bit precision, from the parameter counts: all weights (denoiser + text encoders +
# VAE), the working memory of a one-image run at the family's grid (SDPA attention), and the
# biggest single component (what model offload must still hold at once). SD-1.5: UNet 0.86 B;
# SD 2: + OpenCLIP-H; SDXL: UNet 2.57 B + CLIP-L + bigG; FLUX.1 Fill: transformer 11.9 B +
# T5-XXL 4.76 B.
_WEIGHTS_GB = {"sd1": 2.0, "sd2": 2.4, "sdxl": 6.5, "flux": 31.5}
_WORK_GB = {"sd1": 1.5, "sd2": 2.0, "sdxl": 3.0, "flux": 3.5}
_LARGEST_GB = {"sd1": 1.6, "sd2": 1.6, "sdxl": 4.8, "flux": 22.2}


@dataclass(frozen=True)
class MemoryPlan:
    rung: str
    reason: str


def estimate_gb(family: str, bytes_per_weight: int = 2) -> tuple[float, float, float]:
    """(all weights, working memory, largest component) in GiB for ``family``."""
    scale = bytes_per_weight / 2
    fam = family if family in _WEIGHTS_GB else "sd1"
    return _WEIGHTS_GB[fam] * scale, _WORK_GB[fam], _LARGEST_GB[fam] * scale


def choose_rung(vram_gb: float | None, family: str, bytes_per_weight: int = 2) -> MemoryPlan:
    """The first rung that fits ``vram_gb`` (None: not a GPU -> ``full``)."""
    if vram_gb is None:
        return MemoryPlan("full", "not on a GPU")
    weights, work, largest = estimate_gb(family, bytes_per_weight)
    have = f"{vram_gb:.0f} GiB VRAM"
    if weights + work <= vram_gb:
        return MemoryPlan("full", f"{have}: the whole model fits ({weights + work:.0f} GiB)")
    if weights + 0.6 * work <= vram_gb:
        return MemoryPlan(
            "sliced", f"{have}: attention slicing to fit {weights:.0f} GiB of weights"
        )
    if weights + 0.35 * work <= vram_gb:
        return MemoryPlan("tiled", f"{have}: attention slicing + VAE tiling")
    if largest + 0.35 * work <= vram_gb:
        return MemoryPlan("offload", f"{have} < {weights:.0f} GiB of weights: model CPU offload")
    return MemoryPlan("sequential", f"{have}: sequential CPU offload (slow)")


def next_rung(rung: str) -> str | None:
    """The rung below ``rung`` (None at the bottom)."""
    i = RUNGS.index(rung)
    return RUNGS[i + 1] if i + 1 < len(RUNGS) else None


def apply_rung(pipe: Any, rung: str, device: str) -> None:
    """Configure ``pipe`` for ``rung`` (and every rung above it). ``offload``/``sequential``
    take the place of moving the pipeline to ``device`` (accelerate hooks move each part)."""
    if rung not in RUNGS:
        raise ValueError(f"unknown memory setting {rung!r}; choose one of {', '.join(RUNGS)}")
    level = RUNGS.index(rung)
    if level >= 1 and hasattr(pipe, "enable_attention_slicing"):
        pipe.enable_attention_slicing()
    if level >= 2:
        pipe.vae.enable_slicing()
        pipe.vae.enable_tiling()
    if rung == "offload":
        pipe.enable_model_cpu_offload(device=device)
    elif rung == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)


def cuda_vram_gb(device: str) -> float | None:
    """Total memory of a CUDA device in GiB (None when ``device`` is not CUDA)."""
    if not device.startswith("cuda"):
        return None
    import torch

    index = int(device.split(":", 1)[1]) if ":" in device else torch.cuda.current_device()
    return torch.cuda.get_device_properties(index).total_memory / 2**30
