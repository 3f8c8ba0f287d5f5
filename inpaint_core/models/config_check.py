"""Sanity limits on a model folder's configs, checked before anything is allocated.

diffusers builds a model straight from its ``config.json``: a folder whose UNet config asks for
``layers_per_block: 1000`` or ``block_out_channels: [100000]``, or whose scheduler asks for
``num_train_timesteps: 10**9``, allocates tens of GB or never finishes. Every family we load
(Stable Diffusion 1.x/2.x inpainting, and SDXL's shapes for the future) fits well inside the limits
below, each about twice the largest value those families use; a config outside them is refused
with a message naming the file, the key and the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ModelError
from .discovery import read_json

# key -> (least, most) for every integer (or each integer of a list) found under that key.
# Largest in the supported families: SD-1.5 / SD-2 / SDXL.
UNET_LIMITS: dict[str, tuple[int, int]] = {
    "in_channels": (1, 16),  # 9 for inpainting
    "out_channels": (1, 16),  # 4
    "block_out_channels": (1, 2560),  # 1280
    "layers_per_block": (1, 4),  # 2
    "attention_head_dim": (1, 256),  # 8 (SD-1), 64 (SD-2 as written), [5, 10, 20, 20]
    "num_attention_heads": (1, 256),
    "cross_attention_dim": (1, 4096),  # 768 / 1024 / 2048
    "sample_size": (1, 256),  # 64 / 96 / 128
    "transformer_layers_per_block": (1, 20),  # SDXL: 10
    "norm_num_groups": (1, 128),  # 32
    "addition_time_embed_dim": (1, 1024),  # SDXL: 256
    "projection_class_embeddings_input_dim": (1, 8192),  # SDXL: 2816
}
VAE_LIMITS: dict[str, tuple[int, int]] = {
    "in_channels": (1, 4),
    "out_channels": (1, 4),
    "latent_channels": (1, 16),  # 4
    "block_out_channels": (1, 1024),  # 512
    "layers_per_block": (1, 4),  # 2
    "norm_num_groups": (1, 128),
    "sample_size": (1, 2048),  # 512 / 768 / 1024
}
TEXT_ENCODER_LIMITS: dict[str, tuple[int, int]] = {
    "hidden_size": (1, 4096),  # 768 / 1024 / 1280
    "intermediate_size": (1, 16384),  # 3072 / 4096 / 5120
    "num_hidden_layers": (1, 64),  # 12 / 23 / 32
    "num_attention_heads": (1, 64),  # 12 / 16 / 20
    "max_position_embeddings": (1, 1024),  # 77
    "vocab_size": (1, 300_000),  # 49408
    "projection_dim": (1, 4096),
}
SCHEDULER_LIMITS: dict[str, tuple[int, int]] = {
    "num_train_timesteps": (1, 10_000),  # 1000
    "steps_offset": (0, 100),
    "solver_order": (1, 5),
}
MAX_BLOCKS = 6  # SD has 4 down/up blocks
"""Longest list of blocks accepted (``block_out_channels``, ``down_block_types``...)."""

COMPONENT_LIMITS: dict[str, tuple[str, dict[str, tuple[int, int]]]] = {
    "unet": ("config.json", UNET_LIMITS),
    "vae": ("config.json", VAE_LIMITS),
    "text_encoder": ("config.json", TEXT_ENCODER_LIMITS),
    "text_encoder_2": ("config.json", TEXT_ENCODER_LIMITS),
    "scheduler": ("scheduler_config.json", SCHEDULER_LIMITS),
}


def _integers(value: Any) -> list[Any]:
    """The integers of ``value``: itself, or the items of a list."""
    return value if isinstance(value, list) else [value]


def check_config(config: dict[str, Any], limits: dict[str, tuple[int, int]], where: str) -> None:
    """Refuse a config whose sizes are not whole numbers within ``limits`` (``where`` names the
    file in the message)."""
    for key, (lo, hi) in limits.items():
        if key not in config or config[key] is None:
            continue
        value = config[key]
        items = _integers(value)
        if isinstance(value, list) and not 1 <= len(value) <= MAX_BLOCKS:
            raise ModelError(f"{where}: {key} lists {len(value)} values (at most {MAX_BLOCKS})")
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int):
                if key == "attention_head_dim" and item is None:
                    continue
                raise ModelError(f"{where}: {key} must be a whole number, got {item!r}")
            if not lo <= item <= hi:
                raise ModelError(
                    f"{where}: {key} is {item}, outside the {lo}..{hi} any supported model uses "
                    "(a damaged or hostile config; nothing was loaded)"
                )
    for key in ("down_block_types", "up_block_types"):
        blocks = config.get(key)
        if blocks is not None and (
            not isinstance(blocks, list) or not 1 <= len(blocks) <= MAX_BLOCKS
        ):
            raise ModelError(f"{where}: {key} must list 1 to {MAX_BLOCKS} block types")


def check_model_configs(folder: Path, what: str) -> None:
    """Check every component config present in a diffusers folder (or a bundled config folder)
    against the limits above, before diffusers builds anything from them."""
    for component, (name, limits) in COMPONENT_LIMITS.items():
        path = folder / component / name
        if path.exists() or path.is_symlink():  # present: read_json refuses a FIFO or a device
            check_config(read_json(path, what), limits, f"{what}: {component}/{name}")
