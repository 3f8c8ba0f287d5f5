"""Loading a Stable Diffusion inpainting pipeline from disk, offline, with the device/dtype policy.

Nothing here ever touches the network: diffusers folders and HF-cache snapshots are loaded as
local folders (``local_files_only=True``), single-file checkpoints with the SD-1.5-inpainting
configs bundled in ``inpaint_core/configs/sd15-inpainting`` (see its ``SOURCES.md``).
"""

from __future__ import annotations

import json
import pickle
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelError
from ..files import atomic_write_bytes
from .config_check import check_model_configs
from .device import dtype_name, resolve_device, resolve_dtype, vae_dtype_for
from .discovery import (
    SAFE_SUFFIXES,
    CheckpointInfo,
    ModelRef,
    classify_checkpoint,
    inspect_safetensors,
    not_inpainting_message,
    read_json,
    resolve_model,
)
from .families import FAMILIES, Detection, detect_folder
from .memory import MemoryPlan, apply_rung, choose_rung, cuda_vram_gb

ProgressCallback = Callable[[float, str], None]
REQUIRED_COMPONENTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
#: family -> components a diffusers folder must have
FAMILY_COMPONENTS = {
    "sd1": REQUIRED_COMPONENTS,
    "sd2": REQUIRED_COMPONENTS,
    "sdxl": (*REQUIRED_COMPONENTS, "text_encoder_2", "tokenizer_2"),
}
#: family -> bundled config folder for single-file checkpoints (inpainting / plain UNet)
_BUNDLED = {
    ("sd1", True): "sd15-inpainting",
    ("sd2", True): "sd2-inpainting",
    ("sdxl", True): "sdxl-inpainting",
}


def bundled_config_dir(family: str = "sd1") -> Path:
    """The diffusers configs + CLIP tokenizer shipped with the package for ``family``'s
    single-file inpainting checkpoints (``sd1``: SD-1.5-inpainting; ``sd2``: SD-2-inpainting;
    ``sdxl``: SDXL inpainting 0.1)."""
    name = _BUNDLED.get((family, True), "sd15-inpainting")
    return Path(__file__).resolve().parent.parent / "configs" / name


@dataclass
class LoadedModel:
    """A pipeline ready to run. ``dtype`` is the UNet/text encoder precision; the VAE runs in
    ``vae_dtype`` (float32 when ``dtype`` is float16: see :func:`install_vae_upcast`)."""

    pipe: Any  # diffusers.StableDiffusionInpaintPipeline
    name: str
    source: str
    device: str
    dtype: torch.dtype
    has_safety_checker: bool
    kind: str = ""
    vae_dtype: torch.dtype = torch.float32
    family: str = "sd1"  # see inpaint_core.models.families
    #: False: a plain (4-channel) model run as masked img2img (the user allowed it)
    inpainting: bool = True
    #: the memory-ladder rung it runs on (see inpaint_core.models.memory) and why
    memory: str = "full"
    memory_reason: str = ""

    def describe(self) -> str:
        return f"{self.name} on {self.device} ({dtype_name(self.dtype)})"


class _Reporter:
    def __init__(self, callback: ProgressCallback | None):
        self.callback = callback

    def __call__(self, fraction: float, message: str) -> None:
        if self.callback is not None:
            self.callback(min(max(float(fraction), 0.0), 1.0), message)


_TQDM_LOCK = threading.Lock()


@contextmanager
def _component_progress(report: _Reporter, lo: float, hi: float) -> Iterator[None]:
    """Report diffusers' own per-component loading loop ("Loading pipeline components...")
    through ``report``, by standing in for ``diffusers.utils.logging.tqdm`` while loading."""
    if report.callback is None:
        yield
        return
    from diffusers.utils import logging as dlogging

    original = dlogging.tqdm

    def iterate(items: list[Any]) -> Iterator[Any]:
        n = max(len(items), 1)
        for i, item in enumerate(items):
            name = item[0] if isinstance(item, tuple) and item else str(item)
            report(lo + (hi - lo) * i / n, f"Loading {name}")
            yield item
        report(hi, "Components loaded")

    class _Reporting:
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            if "pipeline components" in str(kwargs.get("desc", "")) and args:
                return iterate(list(args[0]))
            return original(*args, **kwargs)

        def __getattr__(self, name: str) -> Any:
            return getattr(original, name)

    with _TQDM_LOCK:
        dlogging.tqdm = _Reporting()
        try:
            yield
        finally:
            dlogging.tqdm = original


# -- checks before any weight is read ------------------------------------------------------------
def _load_pickle_checkpoint(path: Path) -> dict[str, Any]:
    """``torch.load(weights_only=True)``: plain tensors and containers only; a pickle that wants
    to build other objects (and so could run code) is refused with a clear message."""
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            obj = torch.load(path, map_location="cpu", weights_only=True)  # legacy format
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower() or "weights_only" in str(exc).lower():
            raise ModelError(
                f"Refusing to load {path.name}: this pickle checkpoint holds Python objects, not "
                "just weights, and opening it could run code hidden in it. Only checkpoints that "
                "load with torch.load(weights_only=True) are accepted: get the .safetensors "
                "version of the model, or convert it with a tool you trust."
            ) from None
        raise ModelError(
            f"{path} is not a readable PyTorch checkpoint (corrupt, truncated, or not a "
            f"checkpoint at all: {exc})"
        ) from None
    except Exception as exc:
        raise ModelError(
            f"{path} is not a readable PyTorch checkpoint (corrupt, truncated, or not a "
            f"checkpoint at all: {type(exc).__name__}: {exc})"
        ) from None
    while isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not any(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(f"{path} holds no model weights (not a Stable Diffusion checkpoint)")
    return obj


def inspect_checkpoint(path: Path) -> CheckpointInfo:
    """Family and UNet input channels of a single-file checkpoint (safetensors: header only)."""
    if path.suffix.lower() in SAFE_SUFFIXES:
        return inspect_safetensors(path)
    shapes = {
        k: tuple(v.shape) for k, v in _load_pickle_checkpoint(path).items() if hasattr(v, "shape")
    }
    return classify_checkpoint(shapes.keys(), shapes.__getitem__)


def _check_checkpoint(
    info: CheckpointInfo, path: Path, config: Path, allow_non_inpainting: bool = False
) -> None:
    if info.family == "flux":
        raise ModelError(
            f"{path.name} is a FLUX.1 transformer file; load FLUX.1 Fill from its diffusers folder "
            "or Hugging Face repo (it needs its text encoders and VAE beside it)"
        )
    if info.unet_in_channels is None:
        raise ModelError(
            f"{path.name} has no Stable Diffusion UNet weights: it is not a full model checkpoint "
            "(a LoRA, a VAE or an embedding?)"
        )
    if info.unet_in_channels != 9 and not allow_non_inpainting:
        raise ModelError(not_inpainting_message(path.name, info.unet_in_channels))
    if info.family not in ("sd1", "sd2", "sdxl"):
        raise ModelError(
            f"{path.name} is not a Stable Diffusion 1.x/2.x or SDXL checkpoint (its text encoder "
            "weights are missing or unknown)"
        )
    try:
        unet_config = read_json(config / "unet" / "config.json", str(config))
        width = unet_config["block_out_channels"][0]
    except (ModelError, KeyError, IndexError, TypeError):
        width = None
    label = {"sdxl": "SDXL", "sd2": "Stable Diffusion 2.x"}.get(info.family, "Stable Diffusion 1.x")
    if width is not None and info.unet_width is not None and width != info.unet_width:
        raise ModelError(
            f"{path.name} does not have {label}'s shapes: its UNet is "
            f"{info.unet_width} channels wide where the config ({config.name}) has {width}"
        )


def _check_folder(
    folder: Path, what: str, allow_non_inpainting: bool = False
) -> tuple[dict[str, Any], Detection]:
    index = read_json(folder / "model_index.json", what)
    class_name = str(index.get("_class_name", "?"))
    found = detect_folder(folder)
    if found.family == "flux":
        if not found.inpainting:
            raise ModelError(
                f"{what} is a {class_name} model but not FLUX.1 Fill: Flux inpainting needs "
                "black-forest-labs/FLUX.1-Fill-dev (its transformer takes the mask)"
            )
        return index, found
    if "unet" not in index:
        raise ModelError(
            f"{what} is a {class_name} model; Inpaint Studio loads Stable Diffusion 1.x/2.x, SDXL "
            "and FLUX.1 Fill inpainting models"
        )
    channels = found.in_channels
    if channels is None:
        raise ModelError(f"{what} is incomplete: unet/config.json is missing or unreadable")
    if channels != 9 and not allow_non_inpainting:
        raise ModelError(not_inpainting_message(what, channels))
    check_model_configs(folder, what)  # before diffusers allocates anything from them
    for component in FAMILY_COMPONENTS.get(found.family, REQUIRED_COMPONENTS):
        entry = index.get(component)
        if (
            not (isinstance(entry, list) and entry and entry[0])
            or not (folder / component).is_dir()
        ):
            raise ModelError(f"{what} is incomplete: its {component}/ component is missing")
    return index, found


def _weights_variant(unet_dir: Path) -> str | None:
    """``"fp16"`` when the folder only has fp16-variant weights (``*.fp16.safetensors``, common in
    HF downloads), else None (diffusers then prefers ``.safetensors`` over a pickle ``.bin``, which
    it opens with ``weights_only=True``)."""
    names = {p.name for p in unet_dir.iterdir()} if unet_dir.is_dir() else set()
    stem = "diffusion_pytorch_model"
    plain = {f"{stem}.safetensors", f"{stem}.bin", f"{stem}.safetensors.index.json"}
    fp16 = {f"{stem}.fp16.safetensors", f"{stem}.fp16.bin", f"{stem}.safetensors.index.fp16.json"}
    if not names & plain and names & fp16:
        return "fp16"
    return None


# -- the loaders ----------------------------------------------------------------------------------
def pipeline_class(family: str) -> Any:
    """The diffusers inpainting pipeline class of a family (a 4-channel UNet in the same class
    runs as masked img2img: diffusers blends the photo's latents back outside the mask)."""
    import diffusers

    return getattr(diffusers, FAMILIES[family].inpaint_pipeline)


def _load_folder(
    folder: Path,
    what: str,
    load_dtype: torch.dtype,
    report: _Reporter,
    allow_non_inpainting: bool = False,
) -> tuple[Any, Detection]:
    index, found = _check_folder(folder, what, allow_non_inpainting)
    kwargs: dict[str, Any] = {}
    checker = index.get("safety_checker")
    ships_checker = (
        isinstance(checker, list)
        and bool(checker)
        and checker[0] is not None
        and (folder / "safety_checker").is_dir()
        and (folder / "feature_extractor").is_dir()
    )
    if found.family in ("sd1", "sd2") and not ships_checker:
        # requires_safety_checker must not make loading fail or warn
        kwargs.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    variant = _weights_variant(folder / ("transformer" if found.family == "flux" else "unet"))
    report(0.1, f"Loading {what}")
    with _component_progress(report, 0.1, 0.8):
        pipe = pipeline_class(found.family).from_pretrained(
            str(folder), dtype=load_dtype, local_files_only=True, variant=variant, **kwargs
        )
    return pipe, found


def _load_single_file(
    path: Path,
    load_dtype: torch.dtype,
    config: Path | None,
    report: _Reporter,
    allow_non_inpainting: bool = False,
) -> tuple[Any, Detection]:
    report(0.05, f"Reading {path.name}")
    info = inspect_checkpoint(path)
    family = info.family if info.family in FAMILIES else "sd1"
    bundled = config is None
    config = Path(config) if config is not None else bundled_config_dir(family)
    check_model_configs(config, str(config))  # before diffusers allocates anything
    _check_checkpoint(info, path, config, allow_non_inpainting)
    found = info.detection or Detection(family, info.unet_in_channels == 9, info.unet_in_channels)
    kwargs: dict[str, Any] = {}
    scheduler = single_file_scheduler(found, config) if bundled else None
    if scheduler is not None:
        kwargs["scheduler"] = scheduler
    if family in ("sd1", "sd2"):
        kwargs.update(safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    if info.unet_in_channels != 9:
        # the bundled configs describe inpainting UNets: a plain model's first conv has 4 inputs
        from diffusers import UNet2DConditionModel

        unet_config = dict(UNet2DConditionModel.load_config(str(config / "unet")))
        unet_config["in_channels"] = info.unet_in_channels
        if bundled and found.prediction_type == "v_prediction":
            unet_config.update(sample_size=96, upcast_attention=True)  # SD 2.x 768-v
        kwargs["unet"] = _unet_from_single_file(path, unet_config, load_dtype)
    report(0.1, f"Loading {path.name}")
    try:
        with _component_progress(report, 0.1, 0.8):
            pipe = pipeline_class(family).from_single_file(
                str(path),
                config=str(config),
                local_files_only=True,
                # None keeps the file's own precision: diffusers' single-file loader would
                # otherwise cast every component (with a warning each); _finish casts what needs it.
                dtype=None if load_dtype == torch.float32 else load_dtype,
                **kwargs,
            )
    except (ModelError, torch.cuda.OutOfMemoryError):
        raise
    except Exception as exc:
        raise ModelError(
            f"Could not load {path.name} as {FAMILIES[family].label} checkpoint "
            f"({config.name} configs): {type(exc).__name__}: {exc}"
        ) from exc
    return pipe, found


def single_file_scheduler(found: Detection, config: Path) -> Any:
    """The scheduler a single-file checkpoint needs when it differs from the bundled config's:
    a plain SD 2.x 768 model predicts *v* (as stable-diffusion-2-1 ships it: DDIM, v_prediction),
    while the bundled SD-2-inpainting config predicts noise. None: the config's own is right."""
    from diffusers import DDIMScheduler

    base = dict(DDIMScheduler.load_config(str(config / "scheduler")))
    wanted = found.prediction_type
    if wanted is None or base.get("prediction_type", "epsilon") == wanted:
        return None
    base.pop("_class_name", None)
    return DDIMScheduler.from_config(base, prediction_type=wanted, clip_sample=False)


def _unet_from_single_file(path: Path, unet_config: dict[str, Any], dtype: torch.dtype) -> Any:
    """A plain (4-channel) UNet from a single-file checkpoint, with the bundled config's shape."""
    import tempfile

    from diffusers import UNet2DConditionModel

    with tempfile.TemporaryDirectory() as tmp:
        # a scratch folder diffusers reads the config from (not a user file; same one writer)
        atomic_write_bytes(Path(tmp) / "config.json", json.dumps(unet_config).encode("utf-8"))
        return UNet2DConditionModel.from_single_file(
            str(path), config=tmp, local_files_only=True, torch_dtype=dtype
        )


def _use_sdpa(pipe: Any) -> None:
    """Make sure every attention layer uses PyTorch's scaled-dot-product attention."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    for module in (getattr(pipe, "unet", None), pipe.vae):
        if module is None:  # Flux: a transformer with its own attention processors
            continue
        processors = getattr(module, "attn_processors", None)
        if processors and not all(isinstance(p, AttnProcessor2_0) for p in processors.values()):
            module.set_attn_processor(AttnProcessor2_0())


def install_vae_upcast(vae: Any, compute_dtype: torch.dtype) -> None:
    """Let a VAE kept in float32 serve a pipeline that runs in ``compute_dtype`` (float16).

    An fp16 VAE can overflow into NaNs (black pictures), so the VAE's weights stay float32;
    these hooks cast what goes *into* the encoder/decoder to the VAE's dtype, and the encoder's
    latent moments back to ``compute_dtype`` so the UNet gets the dtype it expects. Decoded
    images stay float32. Works for the stock pipeline and for code that calls ``vae.encode`` /
    ``vae.decode`` itself.
    """
    vae_dtype = next(vae.parameters()).dtype

    def cast_in(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        args = tuple(
            a.to(vae_dtype) if isinstance(a, torch.Tensor) and a.is_floating_point() else a
            for a in args
        )
        kwargs = {
            k: v.to(vae_dtype) if isinstance(v, torch.Tensor) and v.is_floating_point() else v
            for k, v in kwargs.items()
        }
        return args, kwargs

    def cast_out(_module: Any, _args: Any, output: Any) -> Any:
        return output.to(compute_dtype) if isinstance(output, torch.Tensor) else output

    vae.encoder.register_forward_pre_hook(cast_in, with_kwargs=True)
    last_encoder_stage = (
        vae.quant_conv if getattr(vae, "quant_conv", None) is not None else vae.encoder
    )
    last_encoder_stage.register_forward_hook(cast_out)
    if getattr(vae, "post_quant_conv", None) is not None:
        vae.post_quant_conv.register_forward_pre_hook(cast_in, with_kwargs=True)
    vae.decoder.register_forward_pre_hook(cast_in, with_kwargs=True)
    vae._inpaint_studio_compute_dtype = compute_dtype


def _finish(
    pipe: Any,
    device: str,
    dtype: torch.dtype,
    report: _Reporter,
    family: str = "sd1",
    memory: str | None = None,
) -> tuple[torch.dtype, MemoryPlan]:
    """Apply the dtype policy (VAE upcast), SDPA, the memory ladder, and move to ``device``.
    Returns the VAE dtype and the memory plan."""
    vae_dtype = vae_dtype_for(dtype)
    for name, wanted in (
        ("unet", dtype),
        ("transformer", dtype),
        ("text_encoder", dtype),
        ("text_encoder_2", dtype),
        ("safety_checker", dtype),
        ("vae", vae_dtype),
    ):
        module = getattr(pipe, name, None)
        if module is not None and next(module.parameters()).dtype != wanted:
            module.to(dtype=wanted)
    _use_sdpa(pipe)
    if memory and memory != "auto":
        plan = MemoryPlan(memory, "chosen by the user")
    else:
        plan = choose_rung(cuda_vram_gb(device), family, 4 if dtype == torch.float32 else 2)
    if plan.rung in ("offload", "sequential"):
        # low VRAM: parts move to the GPU only while they run (accelerate hooks)
        report(0.85, f"Offloading to {device} ({plan.reason})")
    else:
        report(0.85, f"Moving to {device}")
        pipe.to(device)
    apply_rung(pipe, plan.rung, device)
    if vae_dtype != dtype:
        install_vae_upcast(pipe.vae, dtype)
    pipe.set_progress_bar_config(disable=True)
    return vae_dtype, plan


def _family_before_loading(ref: ModelRef) -> str:
    if ref.kind == "single_file":
        return "unknown"
    return detect_folder(ref.path).family


def load_ref(
    ref: ModelRef,
    device: str,
    dtype: torch.dtype,
    on_progress: ProgressCallback | None = None,
    config: Path | None = None,
    allow_non_inpainting: bool = False,
    memory: str | None = None,
) -> LoadedModel:
    """Load an already resolved model on an already resolved device/dtype."""
    report = _Reporter(on_progress)
    if dtype == torch.float16 and _family_before_loading(ref) == "flux":
        # FLUX.1 is trained in bfloat16; float16 overflows inside its transformer (black images)
        dtype = torch.bfloat16
    # Load in the final precision, except when the VAE must stay wider than the rest: then load
    # everything in float32 (no round trip of the VAE's weights through float16) and cast after.
    load_dtype = dtype if vae_dtype_for(dtype) == dtype else torch.float32
    what = ref.source if ref.kind == "hf_cache" else str(ref.path)
    try:
        if ref.kind == "single_file":
            pipe, found = _load_single_file(
                ref.path, load_dtype, config, report, allow_non_inpainting
            )
        else:
            pipe, found = _load_folder(ref.path, what, load_dtype, report, allow_non_inpainting)
        vae_dtype, plan = _finish(pipe, device, dtype, report, found.family, memory)
    except ModelError:
        raise
    except torch.cuda.OutOfMemoryError:
        raise ModelError(
            f"Not enough GPU memory to load {ref.name} on {device} in {dtype_name(dtype)}: close "
            "other GPU programs, or use --device cpu"
        ) from None
    except Exception as exc:
        raise ModelError(f"Could not load {what}: {type(exc).__name__}: {exc}") from exc
    report(1.0, f"Loaded {ref.name}")
    return LoadedModel(
        pipe=pipe,
        name=ref.name,
        source=ref.source,
        device=device,
        dtype=dtype,
        has_safety_checker=getattr(pipe, "safety_checker", None) is not None,
        kind=ref.kind,
        vae_dtype=vae_dtype,
        family=found.family,
        inpainting=bool(found.inpainting),
        memory=plan.rung,
        memory_reason=plan.reason,
    )


def load_pipeline(
    model: str | Path,
    *,
    device: str | None = None,
    dtype: str | torch.dtype | None = None,
    on_progress: ProgressCallback | None = None,
    config: str | Path | None = None,
    allow_non_inpainting: bool = False,
    memory: str | None = None,
) -> LoadedModel:
    """Load ``model`` — a diffusers folder, a single checkpoint file, a name in the models folder,
    or a repo id already in the Hugging Face cache — offline, as an inpainting pipeline.

    ``device``/``dtype``: see :mod:`inpaint_core.models.device` (``None`` = ``auto``).
    ``on_progress(fraction, message)`` is called at each stage and for each component.
    ``config`` overrides the bundled config folder for single-file checkpoints.
    ``allow_non_inpainting``: accept a plain (4-channel) SD/SDXL model, run as masked img2img.
    ``memory``: a rung of :mod:`inpaint_core.models.memory` (None/``auto``: from the VRAM).
    Raises :class:`~inpaint_core.errors.ModelError` with a clear message on every failure
    (missing, corrupt, unsafe pickle, not an inpainting model, not downloaded …).
    """
    resolved_device = resolve_device(device)
    resolved_dtype = resolve_dtype(resolved_device, dtype)
    _Reporter(on_progress)(0.0, "Looking for the model")
    ref = resolve_model(model)
    return load_ref(
        ref,
        resolved_device,
        resolved_dtype,
        on_progress,
        Path(config) if config else None,
        allow_non_inpainting,
        memory,
    )
