"""Soft inpainting (differential diffusion, Levin & Fried 2024) for the diffusion engine.

The diffusers inpainting pipeline binarises the mask, so a feathered mask only softens our own
paste-back: the model fills a hard-edged hole and the feather cross-fades two different pictures.
Here the feather becomes a per-pixel *change map* ``c`` in [0, 1] instead:

* the model may repaint the whole soft region (the mask it is conditioned on is ``c > 0``);
* after step ``i`` of ``N``, a latent pixel with ``0 < c < 1`` is reset to the photo's latents
  noised to the current noise level unless ``c > 1 - (i + 1) / N``. A pixel with ``c = 0.3`` thus
  follows the photo for the first 70 % of the steps and is free for the last 30 %: it keeps the
  photo's layout and takes the fill's fine detail, so the edge blends instead of showing a seam.
* pixels with ``c = 1`` (the grown mask) and ``c = 0`` are never touched, so a hard mask (no value
  strictly between 0 and 1) runs exactly the normal path.

How the map reaches the engine without changing the engine interface: :func:`soft_grid_mask`
(called by :func:`inpaint_core.inpaint.inpaint` for engines with ``soft_masks = True``) encodes it
in the grid mask itself: 255 = the grown mask, 1..254 = the feather band (``round(254 c)``), 0 =
keep. :func:`split_mask` in the engine turns it back into a binary mask plus the map.

The reset uses the seed's own starting noise, so it is per seed and a batch still equals the same
seeds run one by one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ..region import Region

if TYPE_CHECKING:  # torch stays out of the import of inpaint_core.inpaint (classical runs)
    import torch


def soft_grid_mask(region: Region, alpha_crop: np.ndarray, grid_mask: np.ndarray) -> np.ndarray:
    """The grid mask with the feather band (``alpha_crop``, the paste's blend weight on the crop)
    encoded as 1..254 around the binary ``grid_mask`` (0/255)."""
    alpha = alpha_crop.astype(np.float32)
    if not region.native:
        alpha = cv2.resize(alpha, region.grid, interpolation=cv2.INTER_AREA)
    band = np.clip(np.round(alpha * 254.0), 0, 254).astype(np.uint8)
    return np.where(grid_mask == 255, np.uint8(255), band).astype(np.uint8)


def split_mask(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(binary mask for the pipeline, change map in [0, 1] or None when the mask is hard)."""
    soft = (mask > 0) & (mask < 255)
    if not soft.any():
        return mask, None
    binary = np.where(mask > 0, 255, 0).astype(np.uint8)
    return binary, mask.astype(np.float32) / 255.0


def latent_change_map(change: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """The change map averaged down to the latent grid of ``like`` (N, C, h, w): (1, 1, h, w)."""
    h, w = like.shape[-2:]
    small = cv2.resize(change, (w, h), interpolation=cv2.INTER_AREA)
    return like.new_tensor(small)[None, None]


class SoftInpaintStep:
    """Applies the per-step reset inside ``callback_on_step_end`` (see the module docstring)."""

    def __init__(self, change: torch.Tensor, photo: torch.Tensor, noise: torch.Tensor) -> None:
        self.change = change
        self.photo = photo
        self.noise = noise
        self.band = (change > 0) & (change < 1)

    def __call__(self, pipe: Any, i: int, latents: torch.Tensor) -> torch.Tensor:
        total = int(getattr(pipe, "num_timesteps", 0) or 0)
        if total <= 0 or not bool(self.band.any()):
            return latents
        threshold = 1.0 - (i + 1) / total
        reset = self.band & (self.change <= threshold)
        if not bool(reset.any()):
            return latents
        photo = self.photo.to(device=latents.device, dtype=latents.dtype)
        if photo.shape[0] != latents.shape[0]:
            photo = photo.repeat(latents.shape[0], 1, 1, 1)
        timesteps = pipe.scheduler.timesteps[-total:]
        if i + 1 < total:
            t_next = timesteps[i + 1 : i + 2].repeat(latents.shape[0])
            target = pipe.scheduler.add_noise(photo, self.noise.to(latents.dtype), t_next)
        else:
            target = photo
        return target.to(latents.dtype).where(reset.expand_as(latents), latents)
