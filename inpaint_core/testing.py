"""Random-weight Stable Diffusion inpainting models built in code, for tests and benchmarks.

No downloads: every component is built from a config with random weights, but with the *real
geometry* of SD-1.5-inpainting (see FIELD_NOTES.md): a 9-channel UNet input, a VAE that downsamples
by 8 (four blocks), a CLIP text encoder whose hidden size is the UNet's cross-attention size, and a
CLIP tokenizer with ``model_max_length=77``. Random weights mean the pictures are noise, but every
shape, cost and code path (batching, schedulers, masks, safety checker) is the real one.

This is a plain module (no pytest import) so tests *and* ``bench/`` scripts can use it. The pytest
fixtures that save a model once per session live in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

# SD-1.5's scheduler config (PNDM, as shipped with stable-diffusion-inpainting).
SD15_SCHEDULER_CONFIG: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    # Not a PNDM argument, but the real config carries it and swaps inherit it: without it DDIM
    # clips predicted latents to [-1, 1] (its default), which SD latents overrun (build with
    # ``from_config`` so the key is kept).
    "clip_sample": False,
}


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible byte -> printable-unicode table (256 symbols)."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def byte_level_vocab() -> dict[str, int]:
    """256 byte symbols, their ``</w>`` (end-of-word) forms, then start/end tokens: 514 entries."""
    symbols = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for s in symbols:
        vocab[s] = len(vocab)
    for s in symbols:
        vocab[s + "</w>"] = len(vocab)
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab


def build_byte_level_clip_tokenizer(model_max_length: int = 77):
    """A real ``CLIPTokenizer`` over a byte-level vocab and an empty merges file.

    Every text tokenizes (one token per byte) and nothing is downloaded. Without
    ``model_max_length=77`` the pipeline's encoding overflows the text encoder's positions.
    """
    from transformers import CLIPTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = Path(tmp) / "vocab.json"
        merges_file = Path(tmp) / "merges.txt"
        vocab_file.write_text(json.dumps(byte_level_vocab()), encoding="utf-8")
        merges_file.write_text("#version: 0.2\n", encoding="utf-8")
        return CLIPTokenizer(
            vocab=str(vocab_file), merges=str(merges_file), model_max_length=model_max_length
        )


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """Seed torch's global RNG for weight init without disturbing the caller's RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _tiny_components(seed: int, in_channels: int, with_safety_checker: bool) -> dict[str, Any]:
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = build_byte_level_clip_tokenizer()
    vocab_size = len(tokenizer)
    hidden = 32
    with _seeded(seed):
        unet = UNet2DConditionModel(
            sample_size=8,
            in_channels=in_channels,
            out_channels=4,
            block_out_channels=(32, 64),
            layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=hidden,
            attention_head_dim=(2, 4),
            norm_num_groups=16,
        )
    with _seeded(seed + 1):
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            # four blocks -> three downsamplings -> a latent 1/8 of the image, as in SD
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            block_out_channels=(8, 16, 16, 16),
            layers_per_block=1,
            latent_channels=4,
            norm_num_groups=8,
            sample_size=64,
        )
    with _seeded(seed + 2):
        text_config = CLIPTextConfig(
            vocab_size=vocab_size,
            hidden_size=hidden,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=77,
            projection_dim=hidden,
            bos_token_id=tokenizer.convert_tokens_to_ids("<|startoftext|>"),
            eos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
            pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
            hidden_act="quick_gelu",
        )
        text_encoder = CLIPTextModel(text_config)
    scheduler = PNDMScheduler.from_config(SD15_SCHEDULER_CONFIG)
    components: dict[str, Any] = {
        "unet": unet,
        "vae": vae,
        "text_encoder": text_encoder,
        "tokenizer": tokenizer,
        "scheduler": scheduler,
        "safety_checker": None,
        "feature_extractor": None,
        "requires_safety_checker": False,
    }
    if with_safety_checker:
        checker, extractor = _tiny_safety_checker(seed + 3)
        components.update(
            safety_checker=checker, feature_extractor=extractor, requires_safety_checker=True
        )
    return components


def _tiny_safety_checker(seed: int):
    """A tiny ``StableDiffusionSafetyChecker`` that flags nothing until told to (see
    :func:`set_safety_checker_flags_everything`)."""
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    config = CLIPConfig(
        text_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "vocab_size": 514,
            "bos_token_id": 512,
            "eos_token_id": 513,
            "pad_token_id": 513,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=32,
    )
    with _seeded(seed):
        checker = StableDiffusionSafetyChecker(config).eval()
    set_safety_checker_flags_everything(checker, False)
    extractor = CLIPImageProcessor(
        size={"shortest_edge": 32},
        crop_size={"height": 32, "width": 32},
        do_center_crop=True,
    )
    return checker, extractor


def set_safety_checker_flags_everything(checker: Any, flag: bool = True) -> None:
    """Make a (tiny) safety checker flag every image (``flag=True``) or none (``False``).

    The checker flags when ``cos(image, concept) - threshold > 0``; cosines lie in [-1, 1], so a
    threshold of -2 flags everything and +2 nothing — deterministic whatever the random weights.
    """
    value = -2.0 if flag else 2.0
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(value)
        checker.special_care_embeds_weights.fill_(value)


def _eval(pipe: Any) -> None:
    """Inference mode for every module, as ``from_pretrained`` leaves them (modules built in code
    start in training mode, which changes their outputs)."""
    for name in ("unet", "vae", "text_encoder", "text_encoder_2", "safety_checker", "transformer"):
        module = getattr(pipe, name, None)
        if module is not None:
            module.eval()


def build_tiny_inpaint_pipeline(
    seed: int = 0, *, in_channels: int = 9, with_safety_checker: bool = False
):
    """A tiny random-weight ``StableDiffusionInpaintPipeline`` with SD's real geometry (CPU, fp32)."""
    from diffusers import StableDiffusionInpaintPipeline

    components = _tiny_components(seed, in_channels, with_safety_checker)
    pipe = StableDiffusionInpaintPipeline(**components)
    _eval(pipe)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny_inpaint_model(
    dest: Path | str,
    *,
    in_channels: int = 9,
    with_safety_checker: bool = False,
    seed: int = 0,
) -> Path:
    """Save a tiny model as a diffusers folder (``model_index.json`` + one folder per component).

    ``in_channels=4`` makes a *non*-inpainting model (for the "refuse a 4-channel UNet" path).
    Returns ``dest``.
    """
    dest = Path(dest)
    pipe = build_tiny_inpaint_pipeline(
        seed, in_channels=in_channels, with_safety_checker=with_safety_checker
    )
    pipe.save_pretrained(dest, safe_serialization=True)
    return dest


# SDXL's scheduler config (Euler, as shipped with stable-diffusion-xl-1.0-inpainting-0.1).
SDXL_SCHEDULER_CONFIG: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "sample_max_value": 1.0,
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "use_karras_sigmas": False,
}

# SD 2.x's scheduler config (DDIM), v-prediction as in stable-diffusion-2-1 (768-v).
SD2_V_SCHEDULER_CONFIG: dict[str, Any] = {
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "prediction_type": "v_prediction",
    "set_alpha_to_one": False,
    "skip_prk_steps": True,
    "steps_offset": 1,
}


def _tiny_clip_text(seed: int, tokenizer: Any, *, with_projection: bool = False, hidden: int = 32):
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=37,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=hidden,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|startoftext|>"),
        eos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        hidden_act="gelu" if with_projection else "quick_gelu",
    )
    with _seeded(seed):
        cls = CLIPTextModelWithProjection if with_projection else CLIPTextModel
        return cls(config)


def _tiny_vae(seed: int, scaling_factor: float = 0.18215):
    from diffusers import AutoencoderKL

    with _seeded(seed):
        return AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            block_out_channels=(8, 16, 16, 16),
            layers_per_block=1,
            latent_channels=4,
            norm_num_groups=8,
            sample_size=64,
            scaling_factor=scaling_factor,
        )


def build_tiny_sdxl_inpaint_pipeline(seed: int = 0, *, in_channels: int = 9):
    """A tiny random-weight ``StableDiffusionXLInpaintPipeline`` with SDXL's real layout: two CLIP
    text encoders (the second ``CLIPTextModelWithProjection``, whose pooled output conditions the
    UNet), a UNet with ``addition_embed_type="text_time"`` (size/crop conditioning: 6 time ids of
    ``addition_time_embed_dim`` each + the pooled text), cross-attention over both encoders'
    hidden states concatenated, and SDXL's VAE scaling factor. ``in_channels=4``: a plain SDXL
    model (for masked img2img)."""
    from diffusers import (
        EulerDiscreteScheduler,
        StableDiffusionXLInpaintPipeline,
        UNet2DConditionModel,
    )

    tokenizer = build_byte_level_clip_tokenizer()
    tokenizer_2 = build_byte_level_clip_tokenizer()
    hidden, hidden_2, time_dim = 32, 48, 8  # two widths, as CLIP-L (768) and bigG (1280)
    text_encoder = _tiny_clip_text(seed + 2, tokenizer, hidden=hidden)
    text_encoder_2 = _tiny_clip_text(seed + 3, tokenizer_2, with_projection=True, hidden=hidden_2)
    with _seeded(seed):
        unet = UNet2DConditionModel(
            sample_size=8,
            in_channels=in_channels,
            out_channels=4,
            block_out_channels=(32, 64),
            layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=hidden + hidden_2,
            attention_head_dim=(2, 4),
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=time_dim,
            projection_class_embeddings_input_dim=6 * time_dim + hidden_2,
            norm_num_groups=16,
        )
    pipe = StableDiffusionXLInpaintPipeline(
        vae=_tiny_vae(seed + 1, scaling_factor=0.13025),
        text_encoder=text_encoder,
        text_encoder_2=text_encoder_2,
        tokenizer=tokenizer,
        tokenizer_2=tokenizer_2,
        unet=unet,
        scheduler=EulerDiscreteScheduler.from_config(SDXL_SCHEDULER_CONFIG),
        requires_aesthetics_score=False,
        force_zeros_for_empty_prompt=True,
    )
    _eval(pipe)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny_sdxl_inpaint_model(dest: Path | str, *, in_channels: int = 9, seed: int = 0) -> Path:
    """:func:`build_tiny_sdxl_inpaint_pipeline` saved as a diffusers folder. Returns ``dest``."""
    dest = Path(dest)
    build_tiny_sdxl_inpaint_pipeline(seed, in_channels=in_channels).save_pretrained(
        dest, safe_serialization=True
    )
    return dest


def build_tiny_sd2_inpaint_pipeline(seed: int = 0, *, in_channels: int = 9):
    """A tiny SD 2.x-layout inpainting pipeline: linear attention projections (as SD 2's UNet)
    and a **v-prediction** DDIM scheduler config (as stable-diffusion-2-1), so every scheduler
    swap must keep ``prediction_type="v_prediction"`` or the fill is wrong."""
    from diffusers import DDIMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel

    tokenizer = build_byte_level_clip_tokenizer()
    with _seeded(seed):
        unet = UNet2DConditionModel(
            sample_size=8,
            in_channels=in_channels,
            out_channels=4,
            block_out_channels=(32, 64),
            layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=32,
            attention_head_dim=(2, 4),
            use_linear_projection=True,
            norm_num_groups=16,
        )
    pipe = StableDiffusionInpaintPipeline(
        vae=_tiny_vae(seed + 1),
        text_encoder=_tiny_clip_text(seed + 2, tokenizer, with_projection=False),
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler.from_config(SD2_V_SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    _eval(pipe)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny_sd2_inpaint_model(dest: Path | str, *, in_channels: int = 9, seed: int = 0) -> Path:
    dest = Path(dest)
    build_tiny_sd2_inpaint_pipeline(seed, in_channels=in_channels).save_pretrained(
        dest, safe_serialization=True
    )
    return dest


def build_full_size_sd15_inpaint_pipeline(
    dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu", seed: int = 0
):
    """SD-1.5-inpainting shapes (UNet 320/640/1280/1280, VAE 128/256/512/512, CLIP ViT-L/14 text
    encoder: hidden 768, 12 layers) with random weights, for ``bench/gpu.py``. No downloads.

    Weights are initialised directly on ``device`` (fast on a GPU), then cast to ``dtype``.
    """
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = build_byte_level_clip_tokenizer()
    with _seeded(seed), torch.device(device):
        unet = UNet2DConditionModel(
            sample_size=64,
            in_channels=9,
            out_channels=4,
            block_out_channels=(320, 640, 1280, 1280),
            layers_per_block=2,
            down_block_types=(
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "DownBlock2D",
            ),
            up_block_types=(
                "UpBlock2D",
                "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D",
            ),
            cross_attention_dim=768,
            attention_head_dim=8,
        )
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            block_out_channels=(128, 256, 512, 512),
            layers_per_block=2,
            latent_channels=4,
            sample_size=512,
        )
        text_encoder = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=49408,
                hidden_size=768,
                intermediate_size=3072,
                num_hidden_layers=12,
                num_attention_heads=12,
                max_position_embeddings=77,
                projection_dim=768,
                hidden_act="quick_gelu",
                bos_token_id=tokenizer.convert_tokens_to_ids("<|startoftext|>"),
                eos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
                pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
            )
        )
    pipe = StableDiffusionInpaintPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=PNDMScheduler.from_config(SD15_SCHEDULER_CONFIG),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe = pipe.to(device=device, dtype=dtype)
    _eval(pipe)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny_kohya_lora(
    pipe: Any, dest: Path | str, *, rank: int = 4, seed: int = 0, strength: float = 0.5
) -> Path:
    """A kohya/A1111-format LoRA ``.safetensors`` for ``pipe``'s UNet (and first text encoder),
    built from its real module names: ``lora_unet_<module path with _>.lora_down.weight`` /
    ``.lora_up.weight`` / ``.alpha`` for every attention projection, as sd-scripts writes them.
    Random, non-zero up weights, so the LoRA visibly changes the output."""
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    generator = torch.Generator().manual_seed(seed)

    def add(prefix: str, module: Any) -> None:
        for name, layer in module.named_modules():
            if not isinstance(layer, torch.nn.Linear):
                continue
            leaf = name.rsplit(".", 1)[-1]
            projections = ("to_q", "to_k", "to_v", "q_proj", "k_proj", "v_proj", "out_proj")
            if leaf not in projections and not name.endswith("to_out.0"):
                continue
            if prefix.startswith("lora_te") and not name.startswith("text_model."):
                name = f"text_model.{name}"  # sd-scripts names text-encoder modules from here
            key = f"{prefix}_{name.replace('.', '_')}"
            down = torch.randn(rank, layer.in_features, generator=generator) * strength
            up = torch.randn(layer.out_features, rank, generator=generator) * strength
            tensors[f"{key}.lora_down.weight"] = down
            tensors[f"{key}.lora_up.weight"] = up
            tensors[f"{key}.alpha"] = torch.tensor(float(rank))

    add("lora_unet", pipe.unet)
    if getattr(pipe, "text_encoder_2", None) is not None:
        add("lora_te1", pipe.text_encoder)
        add("lora_te2", pipe.text_encoder_2)
    else:
        add("lora_te", pipe.text_encoder)
    dest = Path(dest)
    save_file(tensors, str(dest))
    return dest


def build_t5_tokenizer_in_code(model_max_length: int = 512):
    """A real ``T5TokenizerFast`` over a character-level Unigram vocab (``<pad>`` 0, ``</s>`` 1,
    ``<unk>`` 2, printable ASCII, SentencePiece's ``▁`` word marker), built with ``tokenizers``:
    every text tokenizes, nothing is downloaded."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import T5TokenizerFast

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -1.0)]
    pieces += [(chr(c), -1.0) for c in range(32, 127)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=2, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    return T5TokenizerFast(
        tokenizer_object=tok,
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        extra_ids=0,
        model_max_length=model_max_length,
    )


# FLUX.1's scheduler config (flow matching with resolution-dependent shift).
FLUX_SCHEDULER_CONFIG: dict[str, Any] = {
    "base_image_seq_len": 256,
    "base_shift": 0.5,
    "max_image_seq_len": 4096,
    "max_shift": 1.15,
    "num_train_timesteps": 1000,
    "shift": 3.0,
    "use_dynamic_shifting": True,
}


def build_tiny_flux_fill_pipeline(seed: int = 0, *, fill: bool = True):
    """A tiny random-weight ``FluxFillPipeline`` with FLUX.1 Fill's real layout: a 16-channel VAE
    with a shift factor (2x2-packed latents, so the grid is a multiple of 16), a transformer whose
    ``img_in`` takes 64 packed latent + 64 masked-image + 256 mask features (384; a plain Flux
    model takes 64: ``fill=False``), guidance embedded (distilled CFG), a CLIP text encoder for the
    pooled projection and a T5 encoder (tokenizer built in code) for the sequence."""
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxFillPipeline,
        FluxTransformer2DModel,
    )
    from transformers import T5Config, T5EncoderModel

    tokenizer = build_byte_level_clip_tokenizer()
    tokenizer_2 = build_t5_tokenizer_in_code()
    t5_width = 32
    with _seeded(seed):
        transformer = FluxTransformer2DModel(
            patch_size=1,
            in_channels=384 if fill else 64,
            out_channels=64,
            num_layers=1,
            num_single_layers=1,
            attention_head_dim=16,
            num_attention_heads=2,
            joint_attention_dim=t5_width,
            pooled_projection_dim=32,
            guidance_embeds=True,
            axes_dims_rope=(4, 4, 8),
        )
    text_encoder = _tiny_clip_text(seed + 2, tokenizer, hidden=32)
    with _seeded(seed + 3):
        text_encoder_2 = T5EncoderModel(
            T5Config(
                vocab_size=len(tokenizer_2),
                d_model=t5_width,
                d_ff=37,
                d_kv=8,
                num_layers=1,
                num_heads=4,
                pad_token_id=0,
                eos_token_id=1,
                decoder_start_token_id=0,
            )
        )
    with _seeded(seed + 1):
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            block_out_channels=(8, 16, 16, 16),
            layers_per_block=1,
            latent_channels=16,
            norm_num_groups=8,
            sample_size=64,
            use_quant_conv=False,
            use_post_quant_conv=False,
            shift_factor=0.0609,
            scaling_factor=0.3611,
        )
    pipe = FluxFillPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler.from_config(FLUX_SCHEDULER_CONFIG),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
        transformer=transformer,
    )
    _eval(pipe)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny_flux_fill_model(dest: Path | str, *, seed: int = 0, fill: bool = True) -> Path:
    dest = Path(dest)
    build_tiny_flux_fill_pipeline(seed, fill=fill).save_pretrained(dest, safe_serialization=True)
    return dest


def build_full_size_sdxl_inpaint_pipeline(
    dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu", seed: int = 0
):
    """SDXL-inpainting shapes (the bundled ``configs/sdxl-inpainting``: UNet 2.57 B params, CLIP-L
    + OpenCLIP bigG text encoders, SDXL VAE, CLIP BPE tokenizers) with random weights, for
    ``bench/gpu.py``. Weights are initialised directly on ``device``. No downloads."""
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
    )

    folder = Path(__file__).resolve().parent / "configs" / "sdxl-inpainting"
    with _seeded(seed), torch.device(device):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(folder / "unet"))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(folder / "vae"))
        te1 = CLIPTextModel(CLIPTextConfig.from_pretrained(folder / "text_encoder"))
        te2 = CLIPTextModelWithProjection(CLIPTextConfig.from_pretrained(folder / "text_encoder_2"))
    pipe = StableDiffusionXLInpaintPipeline(
        vae=vae,
        text_encoder=te1,
        text_encoder_2=te2,
        tokenizer=CLIPTokenizer.from_pretrained(folder / "tokenizer"),
        tokenizer_2=CLIPTokenizer.from_pretrained(folder / "tokenizer_2"),
        unet=unet,
        scheduler=EulerDiscreteScheduler.from_config(
            EulerDiscreteScheduler.load_config(folder / "scheduler")
        ),
        requires_aesthetics_score=False,
        force_zeros_for_empty_prompt=True,
    )
    pipe = pipe.to(device=device, dtype=dtype)
    _eval(pipe)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def build_full_size_flux_fill_pipeline(
    dtype: torch.dtype = torch.bfloat16, device: str | torch.device = "cuda", seed: int = 0
):
    """FLUX.1-Fill-dev shapes with random weights, for ``bench/gpu.py`` on a GPU: transformer
    (19 double + 38 single blocks, 24 heads x 128, ``img_in`` 384 features, guidance embedded;
    ~11.9 B params), T5-XXL encoder (4,096 wide, 24 layers, gated GELU; ~4.8 B), CLIP-L, the
    16-channel Flux VAE. ~34 GB in bf16: GPU only. No downloads."""
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxFillPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer, T5Config, T5EncoderModel

    sd15 = Path(__file__).resolve().parent / "configs" / "sd15-inpainting"
    with _seeded(seed), torch.device(device):
        transformer = FluxTransformer2DModel(
            patch_size=1,
            in_channels=384,
            out_channels=64,
            num_layers=19,
            num_single_layers=38,
            attention_head_dim=128,
            num_attention_heads=24,
            joint_attention_dim=4096,
            pooled_projection_dim=768,
            guidance_embeds=True,
            axes_dims_rope=(16, 56, 56),
        ).to(dtype)
        text_encoder = CLIPTextModel(CLIPTextConfig.from_pretrained(sd15 / "text_encoder")).to(
            dtype
        )
        text_encoder_2 = T5EncoderModel(
            T5Config(
                vocab_size=32128,
                d_model=4096,
                d_ff=10240,
                d_kv=64,
                num_layers=24,
                num_heads=64,
                feed_forward_proj="gated-gelu",
                pad_token_id=0,
                eos_token_id=1,
            )
        ).to(dtype)
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            block_out_channels=(128, 256, 512, 512),
            layers_per_block=2,
            latent_channels=16,
            sample_size=1024,
            use_quant_conv=False,
            use_post_quant_conv=False,
            shift_factor=0.1159,
            scaling_factor=0.3611,
        ).to(dtype)
    pipe = FluxFillPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler.from_config(FLUX_SCHEDULER_CONFIG),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=CLIPTokenizer.from_pretrained(sd15 / "tokenizer"),
        text_encoder_2=text_encoder_2,
        tokenizer_2=build_t5_tokenizer_in_code(),
        transformer=transformer,
    )
    _eval(pipe)
    pipe.set_progress_bar_config(disable=True)
    return pipe
