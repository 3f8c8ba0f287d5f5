"""Find and load Stable Diffusion inpainting models, offline.

* :func:`load_pipeline` — a diffusers folder, a single ``.safetensors`` checkpoint (bundled
  SD-1.5-inpainting configs, nothing fetched), a safe pickle ``.ckpt``, a name in the models folder,
  or a repo id already in the Hugging Face cache → :class:`LoadedModel`.
* :func:`get_loaded` / :class:`ModelCache` — keep a model loaded between jobs.
* :func:`list_models` / :func:`format_model_table` — what is on disk (cheap: no weights read).
* :func:`resolve_device` / :func:`resolve_dtype` — the device and precision policy.
"""

from .cache import ModelCache, default_cache, get_loaded
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
from .loading import (
    LoadedModel,
    ProgressCallback,
    bundled_config_dir,
    inspect_checkpoint,
    install_vae_upcast,
    load_pipeline,
)

__all__ = [
    "MODELS_ENV",
    "CheckpointInfo",
    "LoadedModel",
    "ModelCache",
    "ModelInfo",
    "ModelRef",
    "ProgressCallback",
    "bundled_config_dir",
    "default_cache",
    "format_model_table",
    "get_loaded",
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
