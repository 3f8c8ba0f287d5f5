"""What differs between model families inside the diffusion engine: how the prompt conditions the
model, and which models may run at all.

The engine keeps one run loop for every family (its own VAE encode for batch = sequential, its
own noise per seed, its own decode); only the conditioning differs:

* SD 1.x / 2.x: one CLIP text encoder -> ``prompt_embeds`` (+ ``negative_prompt_embeds`` for CFG);
* SDXL: two text encoders, their hidden states concatenated, plus the second encoder's *pooled*
  output -> ``pooled_prompt_embeds`` (the UNet's ``text_time`` embedding adds the size/crop ids,
  which the pipeline builds from the working size);
* FLUX.1 Fill: CLIP pooled + T5 sequence, no negative prompt (guidance is distilled into the
  model and given as ``guidance_scale``, not classifier-free).

Embeddings are computed once per (prompt, negative prompt, model, LoRA set) and repeated along
the batch, so a batch of seeds sees exactly the tensors each seed sees alone.
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import ModelError
from ..models.discovery import not_inpainting_message

PromptKwargs = dict[str, torch.Tensor]


def model_family(loaded: Any) -> str:
    """The family of a loaded model (``LoadedModel.family``; a bare pipeline is recognised by its
    components)."""
    family = getattr(loaded, "family", None)
    if family:
        return str(family)
    pipe = loaded.pipe
    if getattr(pipe, "transformer", None) is not None:
        return "flux"
    if getattr(pipe, "text_encoder_2", None) is not None:
        return "sdxl"
    return "sd1"


def denoiser(pipe: Any) -> Any:
    """The UNet, or Flux's transformer."""
    unet = getattr(pipe, "unet", None)
    return unet if unet is not None else pipe.transformer


def is_inpainting_model(loaded: Any) -> bool:
    if model_family(loaded) == "flux":
        return True
    return int(loaded.pipe.unet.config.in_channels) == 9


def check_runnable(loaded: Any, allow_non_inpainting: bool) -> None:
    """Refuse a plain (4-channel) model unless the user chose masked img2img for it."""
    if model_family(loaded) == "flux":
        return
    in_channels = int(loaded.pipe.unet.config.in_channels)
    if in_channels == 9:
        return
    if in_channels == 4 and allow_non_inpainting:
        return
    raise ModelError(not_inpainting_message(str(loaded.name), in_channels))


def uses_cfg(pipe: Any, family: str, guidance_scale: float) -> bool:
    """Classifier-free guidance (a second, negative pass) for this run?"""
    if family == "flux":
        return False  # guidance-distilled: guidance_scale is an input of the transformer
    return guidance_scale > 1.0 and pipe.unet.config.time_cond_proj_dim is None


def encode_prompt(
    pipe: Any, family: str, prompt: str, negative_prompt: str, cfg: bool
) -> PromptKwargs:
    """The pipeline keyword arguments carrying the prompt, for a batch of one."""
    with torch.inference_mode():
        if family == "sdxl":
            pos, neg, pooled, neg_pooled = pipe.encode_prompt(
                prompt,
                prompt_2=prompt,
                device=pipe._execution_device,
                num_images_per_prompt=1,
                do_classifier_free_guidance=cfg,
                negative_prompt=negative_prompt if cfg else None,
                negative_prompt_2=negative_prompt if cfg else None,
            )
            out = {"prompt_embeds": pos, "pooled_prompt_embeds": pooled}
            if cfg:
                out.update(negative_prompt_embeds=neg, negative_pooled_prompt_embeds=neg_pooled)
            return out
        if family == "flux":
            pos, pooled, _text_ids = pipe.encode_prompt(
                prompt, prompt_2=prompt, device=pipe._execution_device, num_images_per_prompt=1
            )
            return {"prompt_embeds": pos, "pooled_prompt_embeds": pooled}
        pos, neg = pipe.encode_prompt(
            prompt, pipe._execution_device, 1, cfg, negative_prompt if cfg else None
        )
        out = {"prompt_embeds": pos}
        if neg is not None:
            out["negative_prompt_embeds"] = neg
        return out


def repeat_for_batch(embeds: PromptKwargs, n: int) -> PromptKwargs:
    """Each tensor repeated ``n`` times along the batch axis."""
    return {k: v.repeat(n, *([1] * (v.ndim - 1))) for k, v in embeds.items()}
