"""Turn a diffusers SD folder into an original (LDM / A1111-style) single-file checkpoint, for tests.

The inverse of diffusers' ``convert_ldm_unet_checkpoint`` / ``convert_ldm_vae_checkpoint`` /
``convert_ldm_clip_checkpoint`` (``diffusers/loaders/single_file_utils.py``), written for any
UNet/VAE geometry read from the folder's configs (the tiny test model has 2 UNet blocks with one
layer each; SD has 4 with two). Keys get the prefixes real SD-1.x checkpoints use:
``model.diffusion_model.``, ``first_stage_model.``, ``cond_stage_model.transformer.text_model.``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

_UNET_FIXED = {
    "time_embedding.linear_1.weight": "time_embed.0.weight",
    "time_embedding.linear_1.bias": "time_embed.0.bias",
    "time_embedding.linear_2.weight": "time_embed.2.weight",
    "time_embedding.linear_2.bias": "time_embed.2.bias",
    "conv_in.weight": "input_blocks.0.0.weight",
    "conv_in.bias": "input_blocks.0.0.bias",
    "conv_norm_out.weight": "out.0.weight",
    "conv_norm_out.bias": "out.0.bias",
    "conv_out.weight": "out.2.weight",
    "conv_out.bias": "out.2.bias",
    # SDXL's size/crop + pooled-text embedding
    "add_embedding.linear_1.weight": "label_emb.0.0.weight",
    "add_embedding.linear_1.bias": "label_emb.0.0.bias",
    "add_embedding.linear_2.weight": "label_emb.0.2.weight",
    "add_embedding.linear_2.bias": "label_emb.0.2.bias",
}
_UNET_RESNET = {
    "norm1": "in_layers.0",
    "conv1": "in_layers.2",
    "norm2": "out_layers.0",
    "conv2": "out_layers.3",
    "time_emb_proj": "emb_layers.1",
    "conv_shortcut": "skip_connection",
}
_VAE_FIXED = {
    "encoder.conv_norm_out.weight": "encoder.norm_out.weight",
    "encoder.conv_norm_out.bias": "encoder.norm_out.bias",
    "decoder.conv_norm_out.weight": "decoder.norm_out.weight",
    "decoder.conv_norm_out.bias": "decoder.norm_out.bias",
}
_VAE_ATTN = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _resnet(rest: str, table: dict[str, str]) -> str:
    head, _, tail = rest.partition(".")
    return f"{table.get(head, head)}.{tail}"


def unet_to_ldm(state: dict[str, torch.Tensor], config: dict) -> dict[str, torch.Tensor]:
    per = config["layers_per_block"] + 1
    up_types = config["up_block_types"]
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        p = key.split(".")
        if key in _UNET_FIXED:
            new = _UNET_FIXED[key]
        elif p[0] == "down_blocks":
            b, kind = int(p[1]), p[2]
            if kind == "downsamplers":
                new = f"input_blocks.{(b + 1) * per}.0.op.{p[-1]}"
            else:
                index = b * per + int(p[3]) + 1
                rest = ".".join(p[4:])
                new = (
                    f"input_blocks.{index}.0.{_resnet(rest, _UNET_RESNET)}"
                    if kind == "resnets"
                    else f"input_blocks.{index}.1.{rest}"
                )
        elif p[0] == "mid_block":
            k, rest = int(p[2]), ".".join(p[3:])
            if p[1] == "resnets":
                new = f"middle_block.{0 if k == 0 else 2}.{_resnet(rest, _UNET_RESNET)}"
            else:
                new = f"middle_block.1.{rest}"
        elif p[0] == "up_blocks":
            b, kind = int(p[1]), p[2]
            if kind == "upsamplers":
                slot = 2 if "CrossAttn" in up_types[b] else 1
                new = f"output_blocks.{b * per + per - 1}.{slot}.conv.{p[-1]}"
            else:
                index = b * per + int(p[3])
                rest = ".".join(p[4:])
                new = (
                    f"output_blocks.{index}.0.{_resnet(rest, _UNET_RESNET)}"
                    if kind == "resnets"
                    else f"output_blocks.{index}.1.{rest}"
                )
        else:
            raise KeyError(f"unexpected UNet key {key}")
        out["model.diffusion_model." + new] = tensor
    return out


def vae_to_ldm(state: dict[str, torch.Tensor], config: dict) -> dict[str, torch.Tensor]:
    n = len(config["up_block_types"])
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        p = key.split(".")
        new = _VAE_FIXED.get(key)
        if new is None and p[0] in ("encoder", "decoder") and p[1] in ("down_blocks", "up_blocks"):
            i = int(p[2]) if p[1] == "down_blocks" else n - 1 - int(p[2])
            word = "down" if p[1] == "down_blocks" else "up"
            if p[3] in ("downsamplers", "upsamplers"):
                sample = "downsample" if word == "down" else "upsample"
                new = f"{p[0]}.{word}.{i}.{sample}.conv.{p[-1]}"
            else:
                rest = _resnet(".".join(p[5:]), {"conv_shortcut": "nin_shortcut"})
                new = f"{p[0]}.{word}.{i}.block.{p[4]}.{rest}"
        elif new is None and p[1] == "mid_block":
            rest = ".".join(p[4:])
            if p[2] == "resnets":
                new = f"{p[0]}.mid.block_{int(p[3]) + 1}.{_resnet(rest, {'conv_shortcut': 'nin_shortcut'})}"
            else:
                for a, b in _VAE_ATTN.items():
                    if rest.startswith(a + "."):
                        rest = b + rest[len(a) :]
                        break
                new = f"{p[0]}.mid.attn_1.{rest}"
                if tensor.ndim == 2:  # LDM stores these projections as 1x1 convolutions
                    tensor = tensor[:, :, None, None]
        elif new is None:
            new = key  # conv_in/conv_out/quant_conv/post_quant_conv keep their names
        out["first_stage_model." + new] = tensor
    return out


def text_encoder_to_ldm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {
        "cond_stage_model.transformer."
        + (key if key.startswith("text_model.") else "text_model." + key): tensor
        for key, tensor in state.items()
    }


def diffusers_folder_to_ldm_state(folder: Path) -> dict[str, torch.Tensor]:
    folder = Path(folder)

    def config(name: str) -> dict:
        return json.loads((folder / name / "config.json").read_text())

    state: dict[str, torch.Tensor] = {}
    state.update(
        unet_to_ldm(
            load_file(folder / "unet" / "diffusion_pytorch_model.safetensors"), config("unet")
        )
    )
    state.update(
        vae_to_ldm(load_file(folder / "vae" / "diffusion_pytorch_model.safetensors"), config("vae"))
    )
    state.update(text_encoder_to_ldm(load_file(folder / "text_encoder" / "model.safetensors")))
    return {k: v.contiguous() for k, v in state.items()}


def save_single_file(folder: Path, dest: Path) -> Path:
    """``folder`` (diffusers) → ``dest``: ``.safetensors``, or a ``torch.save`` pickle (``.ckpt``)
    with the weights under ``state_dict`` as original SD checkpoints have them."""
    state = diffusers_folder_to_ldm_state(folder)
    dest = Path(dest)
    if dest.suffix == ".safetensors":
        save_file(state, str(dest))
    else:
        torch.save({"state_dict": state, "global_step": 1}, dest)
    return dest


_OPEN_CLIP_LAYER = {
    "layer_norm1": "ln_1",
    "layer_norm2": "ln_2",
    "mlp.fc1": "mlp.c_fc",
    "mlp.fc2": "mlp.c_proj",
    "self_attn.out_proj": "attn.out_proj",
}


def text_encoder_to_open_clip(
    state: dict[str, torch.Tensor], prefix: str
) -> dict[str, torch.Tensor]:
    """A diffusers ``CLIPTextModelWithProjection`` state dict in OpenCLIP's layout (SDXL's second
    text encoder: ``conditioner.embedders.1.model.``): fused q/k/v ``in_proj``, ``resblocks``,
    ``positional_embedding``, and ``text_projection`` stored transposed."""
    out: dict[str, torch.Tensor] = {}
    qkv: dict[str, dict[str, torch.Tensor]] = {}
    for key, tensor in state.items():
        key = key.removeprefix("text_model.")
        if key == "embeddings.token_embedding.weight":
            out[prefix + "token_embedding.weight"] = tensor
        elif key == "embeddings.position_embedding.weight":
            out[prefix + "positional_embedding"] = tensor
        elif key.startswith("final_layer_norm."):
            out[prefix + "ln_final." + key.split(".")[-1]] = tensor
        elif key == "text_projection.weight":
            out[prefix + "text_projection"] = tensor.T.contiguous()
        elif key.startswith("encoder.layers."):
            p = key.split(".")
            layer, rest = p[2], ".".join(p[3:])
            base = f"{prefix}transformer.resblocks.{layer}."
            if rest.startswith("self_attn.") and rest.split(".")[1] in (
                "q_proj",
                "k_proj",
                "v_proj",
            ):
                qkv.setdefault(base + "attn.in_proj_" + p[-1], {})[rest.split(".")[1]] = tensor
                continue
            for a, b in _OPEN_CLIP_LAYER.items():
                if rest.startswith(a + "."):
                    rest = b + rest[len(a) :]
                    break
            out[base + rest] = tensor
        elif key.startswith("embeddings.position_ids"):
            continue
        else:
            raise KeyError(f"unexpected text encoder key {key}")
    for name, parts in qkv.items():
        out[name] = torch.cat([parts["q_proj"], parts["k_proj"], parts["v_proj"]])
    return out


def save_sdxl_single_file(folder: Path, dest: Path) -> Path:
    """A diffusers SDXL folder as one original (SGM / A1111-style) ``.safetensors`` checkpoint:
    ``model.diffusion_model.``, ``first_stage_model.``, ``conditioner.embedders.0.transformer.``
    (CLIP-L) and ``conditioner.embedders.1.model.`` (OpenCLIP bigG)."""
    folder = Path(folder)

    def config(name: str) -> dict:
        return json.loads((folder / name / "config.json").read_text())

    state: dict[str, torch.Tensor] = {}
    state.update(
        unet_to_ldm(
            load_file(folder / "unet" / "diffusion_pytorch_model.safetensors"), config("unet")
        )
    )
    state.update(
        vae_to_ldm(load_file(folder / "vae" / "diffusion_pytorch_model.safetensors"), config("vae"))
    )
    te1 = load_file(folder / "text_encoder" / "model.safetensors")
    state.update(
        {
            "conditioner.embedders.0.transformer."
            + (k if k.startswith("text_model.") else "text_model." + k): v
            for k, v in te1.items()
        }
    )
    te2 = load_file(folder / "text_encoder_2" / "model.safetensors")
    state.update(text_encoder_to_open_clip(te2, "conditioner.embedders.1.model."))
    save_file({k: v.contiguous() for k, v in state.items()}, str(dest))
    return Path(dest)


def save_sd2_single_file(folder: Path, dest: Path) -> Path:
    """A diffusers SD 2.x folder as one original (LDM) ``.safetensors``: the text encoder in
    OpenCLIP's layout under ``cond_stage_model.model.`` as SD 2 checkpoints have it."""
    folder = Path(folder)

    def config(name: str) -> dict:
        return json.loads((folder / name / "config.json").read_text())

    state: dict[str, torch.Tensor] = {}
    state.update(
        unet_to_ldm(
            load_file(folder / "unet" / "diffusion_pytorch_model.safetensors"), config("unet")
        )
    )
    state.update(
        vae_to_ldm(load_file(folder / "vae" / "diffusion_pytorch_model.safetensors"), config("vae"))
    )
    te = load_file(folder / "text_encoder" / "model.safetensors")
    state.update(text_encoder_to_open_clip(te, "cond_stage_model.model."))
    save_file({k: v.contiguous() for k, v in state.items()}, str(dest))
    return Path(dest)
