"""Masked content: what the diffusion model starts from inside the mask (A1111's four modes).

The names follow A1111's ``Masked content`` choice (``latent noise`` is ``latent_noise`` here);
:mod:`inpaint_core.metadata` writes and reads A1111's spelling.

* ``original``: the photo's own latents (img2img of what is there): with ``strength`` < 1 the start
  is the photo noised to the first step; at strength 1 it is pure noise, exactly as diffusers does.
* ``fill``: the classical engine's fill (:class:`~inpaint_core.engines.classical.ClassicalEngine`)
  encoded and noised: the model starts from the surroundings' colours and structure, which is the
  right start for *removing* an object (nothing of the object is left to be redrawn).
* ``latent_noise``: unit Gaussian noise in the latents inside the mask (its own generator per seed).
* ``latent_nothing``: zeros in the latents inside the mask.

For every mode but ``original`` the start is noised to the first timestep *also at strength 1*
(as A1111 does): there the start contributes sqrt(alpha_bar) of the first step (about 7-9 % on
SD-1.5's schedule): a weak pull towards the start's low frequencies (colours, large shapes);
lower the strength for a stronger one. (Measured here only with random-weight test models: how
much it helps a real model's removals is for a machine with real weights to show.)

The default (``InpaintRequest.masked_content = None``) is ``fill`` when the prompt is empty ("remove
this") and ``original`` otherwise (:meth:`InpaintRequest.effective_masked_content`).

Everything here is per seed and deterministic, so a batch equals the same seeds run one by one.
"""

from __future__ import annotations

import numpy as np
import torch

from ..events import CancelToken, ignore_events
from ..request import InpaintRequest


def classical_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The classical engine's fill of ``mask`` (>= 128 = fill) in ``image`` (the ``fill`` start)."""
    from .classical import ClassicalEngine

    binary = np.where(mask >= 128, 255, 0).astype(np.uint8)
    if not binary.any() or binary.all():
        return image.copy()
    request = InpaintRequest(engine="classical")
    return ClassicalEngine().run(request, image, binary, ignore_events, CancelToken())[0].image


def latent_mask(mask: np.ndarray, latent_hw: tuple[int, int], device, dtype) -> torch.Tensor:
    """The binary mask at latent resolution, as the pipeline makes it (threshold 0.5, nearest)."""
    m = torch.from_numpy((mask >= 128).astype(np.float32))[None, None]
    m = torch.nn.functional.interpolate(m, size=latent_hw)
    return m.to(device=device, dtype=dtype)


def _extra_generator(seed: int) -> torch.Generator:
    """A generator for ``latent_noise`` that no other seed's main noise uses (not seed + 1)."""
    mixed = (int(seed) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % (2**63)
    return torch.Generator("cpu").manual_seed(mixed)


def start_latents(
    mode: str,
    base: torch.Tensor,
    mask: torch.Tensor,
    seeds: list[int],
) -> torch.Tensor:
    """The clean latents the model starts from, one per seed: ``base`` (1, C, h, w) is the photo's
    latents (``original``, ``latent_*``) or the classical fill's (``fill``); ``mask`` (1, 1, h, w)."""
    n = len(seeds)
    base = base.repeat(n, 1, 1, 1)
    if mode in ("original", "fill"):
        return base
    if mode == "latent_nothing":
        return base * (1 - mask)
    if mode == "latent_noise":
        shape = (1, *base.shape[1:])
        noise = torch.cat(
            [torch.randn(shape, generator=_extra_generator(s), dtype=torch.float32) for s in seeds]
        ).to(device=base.device, dtype=base.dtype)
        return base * (1 - mask) + noise * mask
    raise ValueError(f"unknown masked content mode {mode!r}")
