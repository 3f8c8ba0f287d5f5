"""Model families, told apart from the files alone (configs and state-dict keys, no weights read).

A family decides which diffusers pipeline runs the model, its default working grid, whether it
takes a negative prompt, and which LoRAs fit it. Detection is cheap so ``models list`` can show it
for every model on disk:

* **diffusers folder / HF snapshot**: ``model_index.json`` (``_class_name``, ``text_encoder_2``,
  ``transformer``), the UNet's (or Flux transformer's) ``config.json`` and the scheduler's
  ``prediction_type``;
* **single checkpoint file**: the key prefixes of the original (LDM / A1111 / BFL) layouts —
  ``conditioner.embedders.`` (SDXL), ``cond_stage_model.model.`` (SD 2.x, OpenCLIP),
  ``cond_stage_model.transformer.`` (SD 1.x), ``double_blocks.``/``img_in`` (Flux) — and the
  shape of the first UNet convolution (9 input channels = an inpainting UNet; a Flux ``img_in``
  taking 384 features = FLUX.1 Fill, 64 = a plain Flux model).

"Inpainting" means the model was trained for it (9-channel UNet, Flux Fill). A plain 4-channel
SD/SDXL model can still be used through masked img2img (lower quality), but only when the user
asks for it (``allow_non_inpainting``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .safe_files import read_json, read_safetensors_header

FAMILY_KEYS = ("sd1", "sd2", "sdxl", "flux", "unknown")


@dataclass(frozen=True)
class ModelFamily:
    """What the app needs to know about a family to run it."""

    key: str
    label: str
    inpaint_pipeline: str  # diffusers class name
    default_size: int  # working grid long side
    negative_prompt: bool  # does the pipeline take one
    #: LoRA state-dict markers of this family (see :mod:`inpaint_core.lora`)
    text_encoders: int = 1


FAMILIES: dict[str, ModelFamily] = {
    "sd1": ModelFamily("sd1", "SD 1.x", "StableDiffusionInpaintPipeline", 512, True),
    "sd2": ModelFamily("sd2", "SD 2.x", "StableDiffusionInpaintPipeline", 512, True),
    "sdxl": ModelFamily("sdxl", "SDXL", "StableDiffusionXLInpaintPipeline", 1024, True, 2),
    "flux": ModelFamily("flux", "FLUX.1", "FluxFillPipeline", 1024, False, 2),
}

# Key markers of the single-file layouts
LDM_UNET_IN = "model.diffusion_model.input_blocks.0.0.weight"
FLUX_IMG_IN = ("img_in.weight", "model.diffusion_model.img_in.weight", "x_embedder.weight")
#: FLUX.1 Fill's ``img_in`` takes 64 latent features + 320 of masked image and mask (2x2 packed)
FLUX_FILL_IN_FEATURES = 384

# Few-step distillations, recognised by name (checkpoints and LoRAs name themselves this way:
# "sdxl_lightning_4step_lora", "Hyper-SDXL-8steps-lora", "lcm-lora-sdxl", "sdxl-turbo" ...)
_FEW_STEP_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("lcm", re.compile(r"(^|[^a-z])lcm([^a-z]|$)")),
    ("tcd", re.compile(r"(^|[^a-z])tcd([^a-z]|$)")),
    ("lightning", re.compile(r"lightning")),
    ("hyper", re.compile(r"hyper[-_ ]?sd")),
    ("turbo", re.compile(r"turbo")),
)


def few_step_kind(name: str) -> str | None:
    """``"lcm"``/``"tcd"``/``"lightning"``/``"hyper"``/``"turbo"`` when ``name`` (a file or repo
    name) says it is a few-step distillation, else None."""
    text = name.lower()
    for kind, pattern in _FEW_STEP_PATTERNS:
        if pattern.search(text):
            return kind
    return None


@dataclass(frozen=True)
class Detection:
    """What the files say about a model (nothing loaded)."""

    family: str  # one of FAMILY_KEYS
    inpainting: bool | None  # trained for inpainting (9-ch UNet / Flux Fill); None: unknown
    in_channels: int | None = None  # UNet input channels (Flux: img_in features)
    prediction_type: str | None = None  # "epsilon" | "v_prediction" | None (unknown/flow)
    precision: str | None = None  # "fp32" | "fp16" | "bf16" | "mixed" | None
    few_step: str | None = None  # see few_step_kind
    note: str = ""

    @property
    def label(self) -> str:
        fam = FAMILIES.get(self.family)
        return fam.label if fam else "unknown"


_DTYPES = {"F32": "fp32", "F16": "fp16", "BF16": "bf16", "F64": "fp64", "F8_E4M3": "fp8"}


def precision_of(dtypes: Any) -> str | None:
    """The dominant floating precision of a set of safetensors dtype names."""
    counts: dict[str, int] = {}
    for d in dtypes:
        name = _DTYPES.get(str(d))
        if name:
            counts[name] = counts.get(name, 0) + 1
    if not counts:
        return None
    if len(counts) == 1:
        return next(iter(counts))
    top = max(counts, key=counts.__getitem__)
    return top if counts[top] >= 0.9 * sum(counts.values()) else "mixed"


def detect_keys(
    keys: Any, shape_of: Any, name: str = "", precision: str | None = None
) -> Detection:
    """Family of a single-file checkpoint from its keys; ``shape_of(key)`` gives a tensor's shape."""
    keys = list(keys)
    keyset = set(keys)
    few = few_step_kind(name)
    for flux_key in FLUX_IMG_IN:
        if flux_key in keyset and (
            flux_key != "x_embedder.weight"
            or any(k.startswith("single_transformer_blocks.") for k in keys)
        ):
            shape = list(shape_of(flux_key))
            features = int(shape[1]) if len(shape) == 2 else None
            return Detection(
                "flux",
                inpainting=features == FLUX_FILL_IN_FEATURES,
                in_channels=features,
                precision=precision,
                few_step=few,
                note="" if features == FLUX_FILL_IN_FEATURES else "not a Fill model",
            )
    in_channels = None
    if LDM_UNET_IN in keyset:
        shape = list(shape_of(LDM_UNET_IN))
        if len(shape) == 4:
            in_channels = int(shape[1])
    if any(k.startswith("conditioner.embedders.") for k in keys):
        family = "sdxl"
    elif any(k.startswith("cond_stage_model.model.") for k in keys):
        family = "sd2"
    elif any(k.startswith("cond_stage_model.transformer.") for k in keys):
        family = "sd1"
    else:
        family = "unknown"
    prediction = None
    if family in ("sd1", "sdxl"):
        prediction = "epsilon"
    elif family == "sd2" and in_channels is not None:
        # SD 2.x inpainting (512-base) predicts noise; the plain 768 models predict v (diffusers'
        # single-file loader makes the same call: "inpainting_v2" -> epsilon, "v2" -> v).
        prediction = "epsilon" if in_channels == 9 or "base" in name.lower() else "v_prediction"
    return Detection(
        family,
        inpainting=None if in_channels is None else in_channels == 9,
        in_channels=in_channels,
        prediction_type=prediction,
        precision=precision,
        few_step=few,
        note="" if in_channels is not None or family == "unknown" else "no UNet weights",
    )


def _json(path: Path) -> dict[str, Any]:
    """A config for detection: unreadable, absent, huge or hostile reads as {} (the loader, which
    reads the same file through :func:`read_json`, says what is wrong with it)."""
    try:
        return read_json(path, str(path))
    except ModelError:
        return {}


def _folder_precision(folder: Path) -> str | None:
    """Precision of the denoiser's weights in a diffusers folder (safetensors header only)."""
    for component in ("unet", "transformer"):
        sub = folder / component
        if not sub.is_dir():
            continue
        files = sorted(sub.glob("*.safetensors"))
        if not files:
            return None
        try:
            header = read_safetensors_header(files[0])
        except Exception:  # listing never fails on one odd file
            return None
        return precision_of(v.get("dtype") for k, v in header.items() if k != "__metadata__")
    return None


def detect_folder(folder: Path, name: str = "") -> Detection:
    """Family of a diffusers folder (or HF snapshot) from its JSON configs."""
    folder = Path(folder)
    index = _json(folder / "model_index.json")
    class_name = str(index.get("_class_name", ""))
    name = name or folder.name
    few = few_step_kind(name)
    precision = _folder_precision(folder)
    scheduler = _json(folder / "scheduler" / "scheduler_config.json")
    prediction = scheduler.get("prediction_type") if isinstance(scheduler, dict) else None
    if "transformer" in index and class_name.startswith("Flux"):
        config = _json(folder / "transformer" / "config.json")
        in_ch = config.get("in_channels")
        in_ch = int(in_ch) if isinstance(in_ch, int) else None
        fill = in_ch == FLUX_FILL_IN_FEATURES if in_ch is not None else "Fill" in class_name
        return Detection(
            "flux", fill, in_ch, None, precision, few, "" if fill else "not a Fill model"
        )
    unet = _json(folder / "unet" / "config.json")
    if few is None:
        # distilled checkpoints say so in their configs: LCM's UNet embeds the guidance scale
        # (time_cond_proj_dim), and they ship their own scheduler
        sched_class = str(scheduler.get("_class_name", "")) if isinstance(scheduler, dict) else ""
        if sched_class == "TCDScheduler":
            few = "tcd"
        elif sched_class == "LCMScheduler" or unet.get("time_cond_proj_dim"):
            few = "lcm"
    in_ch = unet.get("in_channels")
    in_ch = int(in_ch) if isinstance(in_ch, int) else None
    if "text_encoder_2" in index or unet.get("addition_embed_type") == "text_time":
        family = "sdxl"
    elif unet:
        # SD 2.x: OpenCLIP ViT-H text encoder (1024 wide) and linear projections
        cross = unet.get("cross_attention_dim")
        family = "sd2" if cross == 1024 or unet.get("use_linear_projection") else "sd1"
    else:
        family = "unknown"
    if family != "unknown" and not isinstance(prediction, str):
        prediction = "epsilon"
    note = "" if in_ch is not None else "no readable unet/config.json"
    return Detection(
        family,
        None if in_ch is None else in_ch == 9,
        in_ch,
        prediction if isinstance(prediction, str) else None,
        precision,
        few,
        note,
    )


def detect_file(path: Path) -> Detection:
    """Family of a single ``.safetensors`` checkpoint (header only). Raises ModelError when the
    file is corrupt or truncated."""
    header = read_safetensors_header(path)
    keys = [k for k in header if k != "__metadata__"]
    precision = precision_of(header[k].get("dtype") for k in keys)
    return detect_keys(keys, lambda k: header[k].get("shape", []), path.stem, precision)
