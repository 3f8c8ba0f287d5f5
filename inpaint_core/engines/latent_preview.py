"""A cheap preview of SD 1.x latents: a fixed 4x3 linear map latent -> RGB, no extra weights.

The factors are the well-known SD 1.x approximation (ComfyUI's ``SD15`` latent format, also used
by A1111's "Approx cheap" preview): good enough to see composition and colours emerge per step at
the cost of one tiny matrix product. Early steps show mostly noise (the latent is still noisy).
"""

from __future__ import annotations

import numpy as np
import torch

#: rows: latent channels 0..3; columns: R, G, B (scaled latent space, i.e. after * 0.18215)
SD15_LATENT_RGB_FACTORS = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)


def latents_to_rgb(latents: torch.Tensor, size: tuple[int, int] | None = None) -> np.ndarray:
    """One latent ``(4, h, w)`` or ``(1, 4, h, w)`` -> RGB uint8 ``(H, W, 3)``.

    ``size`` is ``(height, width)`` of the working grid; the small image is upsampled (bilinear)
    to it so a preview lines up with the crop. ``None`` keeps the latent resolution.
    """
    x = latents.detach()
    if x.ndim == 4:
        x = x[0]
    if x.ndim != 3:
        raise ValueError(f"expected a latent (C, h, w), got shape {tuple(latents.shape)}")
    if x.shape[0] == 4:
        factors = torch.tensor(SD15_LATENT_RGB_FACTORS, dtype=torch.float32)
        rgb = torch.einsum("chw,cr->rhw", x.float().cpu(), factors)
    else:
        # another latent space (FLUX.1: 16 channels): no fixed factors here, so show three
        # channel groups' means, each stretched to [-1, 1] (composition is visible, colours not)
        groups = torch.stack([g.mean(0) for g in x.float().cpu().chunk(3)])
        lo = groups.amin(dim=(1, 2), keepdim=True)
        hi = groups.amax(dim=(1, 2), keepdim=True)
        rgb = (groups - lo) / (hi - lo).clamp_min(1e-6) * 2.0 - 1.0
    if size is not None and tuple(rgb.shape[1:]) != tuple(size):
        rgb = torch.nn.functional.interpolate(
            rgb[None], size=size, mode="bilinear", align_corners=False
        )[0]
    rgb = ((rgb + 1.0) / 2.0).clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8)
    return np.ascontiguousarray(rgb.permute(1, 2, 0).numpy())
