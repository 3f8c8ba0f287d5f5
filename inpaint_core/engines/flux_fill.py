"""FLUX.1 Fill inside the diffusion engine: the denoising loop of diffusers' ``FluxFillPipeline``,
run by us so the engine's guarantees hold for Flux too.

Why not call the pipeline: given a list of generators it VAE-encodes the masked image by
*sampling* with ``generator[0]`` (the trap FIELD_NOTES describes for SD), and it refuses
``masked_image_latents`` together with an image, so the encode cannot be handed in. The loop is
short (flow-matching Euler over 2x2-packed latents), and running it ourselves gives:

* **batch = sequential**: the masked image is encoded once with the latent *mean*, each seed's
  noise comes from its own CPU generator;
* **previews, progress and cancel** through the engine's step callback (cancel within one step,
  no VAE decode after it);
* **guidance as Flux uses it**: FLUX.1 [dev]/Fill are guidance-distilled — ``guidance_scale`` is
  an *input* of the transformer (Fill's default is 30), there is no second, negative pass and no
  negative prompt;
* the grid: Flux latents are packed 2x2, so the crop is padded to a multiple of 16 (edge pixels,
  mask "keep") and the result cropped back.

The scheduler is always the model's own flow-matching Euler: the SD schedulers do not apply.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..errors import InpaintError
from .base import EngineOutput

FLUX_SCHEDULER = "FlowMatchEuler"


def _pad16(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = image.shape[:2]
    ph, pw = (-h) % 16, (-w) % 16
    if not ph and not pw:
        return image, mask
    image = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="edge")
    mask = np.pad(mask, ((0, ph), (0, pw)), mode="constant")  # padding is kept, never filled
    return image, mask


def conditioning(engine: Any, image: np.ndarray, mask: np.ndarray, key: tuple[Any, ...]) -> Any:
    """The packed masked-image latents + packed mask the Fill transformer reads (batch of one),
    encoded with the latent mean and cached per (model, image, mask)."""
    pipe = engine._loaded.pipe

    def make() -> torch.Tensor:
        from PIL import Image

        img, msk = _pad16(image, mask)
        height, width = img.shape[:2]
        vae = pipe.vae
        dtype = pipe.transformer.dtype
        pixels = torch.tensor(img).permute(2, 0, 1)[None].float() / 255.0 * 2.0 - 1.0
        keep = torch.from_numpy(msk < 128)[None, None].float()
        with torch.inference_mode():
            raw = vae.encode((pixels * keep).to(device=vae.device, dtype=vae.dtype)).latent_dist
            raw = raw.mode()
            mask_t = pipe.mask_processor.preprocess(
                Image.fromarray(msk), height=height, width=width
            )
            mask_lat, masked_lat = pipe.prepare_mask_latents(
                mask_t,
                raw.to(dtype),  # 16 channels: taken as latents, shifted and scaled by diffusers
                1,
                pipe.vae.config.latent_channels,
                1,
                height,
                width,
                dtype,
                pipe._execution_device,
                None,
            )
            return torch.cat((masked_lat, mask_lat), dim=-1)

    return engine._latents.get_or(("flux-fill", *key), make)


def run_chunk(engine: Any, ctx: Any, seeds: list[int], callback: Any) -> list[EngineOutput]:
    """One batch of seeds through the Fill transformer; returns crops at the request's grid."""
    from diffusers.pipelines.flux.pipeline_flux import calculate_shift, retrieve_timesteps

    pipe = engine._loaded.pipe
    req = ctx.req
    if req.strength < 1.0:
        raise InpaintError("FLUX.1 Fill repaints the masked area from scratch: use strength 1")
    height0, width0 = ctx.image.shape[:2]
    height, width = height0 + (-height0) % 16, width0 + (-width0) % 16
    # under model CPU offload the modules sit on the CPU between calls: compute where they run
    device, dtype = pipe._execution_device, pipe.transformer.dtype
    channels = pipe.vae.config.latent_channels
    lh, lw = height // 8, width // 8
    n = len(seeds)
    generators = [torch.Generator("cpu").manual_seed(int(s)) for s in seeds]
    noise = torch.cat(
        [torch.randn((1, channels, lh, lw), generator=g, dtype=torch.float32) for g in generators]
    ).to(device=device, dtype=dtype)
    latents = pipe._pack_latents(noise, n, channels, lh, lw)
    image_ids = pipe._prepare_latent_image_ids(n, lh // 2, lw // 2, device, dtype)
    embeds = {k: v.repeat(n, *([1] * (v.ndim - 1))) for k, v in ctx.embeds.items()}
    prompt_embeds = embeds["prompt_embeds"].to(dtype)
    text_ids = torch.zeros(prompt_embeds.shape[1], 3, device=device, dtype=dtype)
    cond = ctx.masked_latents.to(device=device, dtype=dtype).repeat(n, 1, 1)
    steps = req.steps
    sigmas = np.linspace(1.0, 1 / steps, steps)
    config = pipe.scheduler.config
    mu = calculate_shift(
        (lh // 2) * (lw // 2),
        config.get("base_image_seq_len", 256),
        config.get("max_image_seq_len", 4096),
        config.get("base_shift", 0.5),
        config.get("max_shift", 1.15),
    )
    timesteps, _ = retrieve_timesteps(pipe.scheduler, steps, device, sigmas=sigmas, mu=mu)
    pipe._num_timesteps = len(timesteps)
    guidance = None
    if pipe.transformer.config.guidance_embeds:
        guidance = torch.full([n], float(req.guidance_scale), device=device, dtype=torch.float32)
    with torch.inference_mode():
        for i, t in enumerate(timesteps):
            ctx.cancel.raise_if_cancelled()
            pred = pipe.transformer(
                hidden_states=torch.cat((latents, cond), dim=2),
                timestep=t.expand(n).to(dtype) / 1000,
                guidance=guidance,
                pooled_projections=embeds["pooled_prompt_embeds"].to(dtype),
                encoder_hidden_states=prompt_embeds,
                txt_ids=text_ids,
                img_ids=image_ids,
                return_dict=False,
            )[0]
            latents = pipe.scheduler.step(pred, t, latents, return_dict=False)[0]
            callback(pipe, i, t, {"latents": pipe._unpack_latents(latents, height, width, 8)})
        ctx.cancel.raise_if_cancelled()
        unpacked = pipe._unpack_latents(latents, height, width, 8)
    images = engine._decode(unpacked)
    return [
        EngineOutput(image=np.ascontiguousarray(img[:height0, :width0]), seed=int(s))
        for img, s in zip(images, seeds, strict=True)
    ]
