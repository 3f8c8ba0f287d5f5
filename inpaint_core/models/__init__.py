"""Find and load Stable Diffusion inpainting models, offline.

* :func:`load_pipeline` — a diffusers folder, a single ``.safetensors`` checkpoint (bundled
  SD-1.5-inpainting configs, nothing fetched), a safe pickle ``.ckpt``, a name in the models folder,
  or a repo id already in the Hugging Face cache → :class:`LoadedModel`.
* keeping a model loaded between jobs is the job queue's engine cache (:class:`inpaint_core.jobs.EngineCache`).
* :func:`list_models` / :func:`format_model_table` — what is on disk (cheap: no weights read).
* :func:`resolve_device` / :func:`resolve_dtype` — the device and precision policy.
* :func:`detect_folder` / :func:`detect_file` — the model family from the files
  (:mod:`.families`); :func:`suggested_settings` — what a model asks for (:mod:`.presets`);
  downloads live in :mod:`.manager`.

Names are imported lazily, so listing models (``inpaint-studio-cli models``) never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "parse_dtype": "device",
    "resolve_device": "device",
    "resolve_dtype": "device",
    "vae_dtype_for": "device",
    "MODELS_ENV": "discovery",
    "CheckpointInfo": "discovery",
    "ModelInfo": "discovery",
    "ModelRef": "discovery",
    "format_model_table": "discovery",
    "hf_cache_dir": "discovery",
    "list_models": "discovery",
    "models_dir": "discovery",
    "models_dirs": "discovery",
    "resolve_model": "discovery",
    "LoadedModel": "loading",
    "ProgressCallback": "loading",
    "bundled_config_dir": "loading",
    "inspect_checkpoint": "loading",
    "install_vae_upcast": "loading",
    "load_pipeline": "loading",
    "Detection": "families",
    "detect_file": "families",
    "detect_folder": "families",
    "suggested_settings": "presets",
}
__all__ = [
    "CheckpointInfo",
    "Detection",
    "detect_file",
    "detect_folder",
    "suggested_settings",
    "LoadedModel",
    "MODELS_ENV",
    "ModelInfo",
    "ModelRef",
    "ProgressCallback",
    "bundled_config_dir",
    "format_model_table",
    "hf_cache_dir",
    "inspect_checkpoint",
    "install_vae_upcast",
    "list_models",
    "load_pipeline",
    "models_dir",
    "models_dirs",
    "parse_dtype",
    "resolve_device",
    "resolve_dtype",
    "resolve_model",
    "vae_dtype_for",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and IDEs
    from .device import parse_dtype, resolve_device, resolve_dtype, vae_dtype_for
    from .discovery import (
        MODELS_ENV,
        CheckpointInfo,
        ModelInfo,
        ModelRef,
        format_model_table,
        hf_cache_dir,
        list_models,
        models_dir,
        models_dirs,
        resolve_model,
    )
    from .families import Detection, detect_file, detect_folder
    from .loading import (
        LoadedModel,
        ProgressCallback,
        bundled_config_dir,
        inspect_checkpoint,
        install_vae_upcast,
        load_pipeline,
    )
    from .presets import suggested_settings
