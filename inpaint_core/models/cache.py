"""Keep a model loaded between jobs: loading the same model on the same device/dtype again returns
the very same :class:`LoadedModel` (and pipeline object)."""

from __future__ import annotations

import gc
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch

from .device import resolve_device, resolve_dtype
from .discovery import ModelRef, resolve_model
from .loading import LoadedModel, ProgressCallback, load_ref


def _identity(ref: ModelRef) -> tuple[Any, ...]:
    """What makes two references the same model: the path plus its modification time (a file
    replaced on disk is loaded again), or the repo id plus its snapshot."""
    if ref.kind == "hf_cache":
        return (ref.kind, ref.source, str(ref.path))
    marker = ref.path if ref.kind == "single_file" else ref.path / "model_index.json"
    try:
        stat = os.stat(marker)
        stamp: tuple[int, int] = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = (0, 0)
    return (ref.kind, str(ref.path), *stamp)


class ModelCache:
    """An LRU of loaded models; ``max_entries=1`` by default (an SD model is gigabytes: loading
    another one first releases the previous). Thread-safe; loads run one at a time."""

    def __init__(self, max_entries: int = 1):
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], LoadedModel] = OrderedDict()
        self._lock = threading.RLock()

    def get(
        self,
        model: str | Path,
        *,
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
        on_progress: ProgressCallback | None = None,
        config: str | Path | None = None,
        allow_non_inpainting: bool = False,
        memory: str | None = None,
    ) -> LoadedModel:
        """The loaded model for ``model`` on ``device``/``dtype``, loading it if needed."""
        resolved_device = resolve_device(device)
        resolved_dtype = resolve_dtype(resolved_device, dtype)
        ref = resolve_model(model)
        key = (
            *_identity(ref),
            resolved_device,
            str(resolved_dtype),
            str(config) if config else None,
            allow_non_inpainting,
            memory or "auto",
        )
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                if on_progress is not None:
                    on_progress(1.0, f"{hit.name} is already loaded")
                return hit
            while len(self._entries) >= self.max_entries:
                self._evict_oldest()
            loaded = load_ref(
                ref,
                resolved_device,
                resolved_dtype,
                on_progress,
                Path(config) if config else None,
                allow_non_inpainting,
                memory,
            )
            self._entries[key] = loaded
            return loaded

    def loaded(self) -> list[LoadedModel]:
        with self._lock:
            return list(self._entries.values())

    def clear(self) -> None:
        with self._lock:
            while self._entries:
                self._evict_oldest()

    def __len__(self) -> int:
        return len(self._entries)

    def _evict_oldest(self) -> None:
        _key, old = self._entries.popitem(last=False)
        on_cuda = old.device.startswith("cuda")
        del old
        gc.collect()
        if on_cuda and torch.cuda.is_available():
            torch.cuda.empty_cache()


_DEFAULT_CACHE = ModelCache()


def default_cache() -> ModelCache:
    return _DEFAULT_CACHE


def get_loaded(
    model: str | Path,
    *,
    device: str | None = None,
    dtype: str | torch.dtype | None = None,
    on_progress: ProgressCallback | None = None,
    config: str | Path | None = None,
    allow_non_inpainting: bool = False,
    memory: str | None = None,
) -> LoadedModel:
    """:meth:`ModelCache.get` on the process-wide cache (what the engine and the jobs use)."""
    return _DEFAULT_CACHE.get(
        model,
        device=device,
        dtype=dtype,
        on_progress=on_progress,
        config=config,
        allow_non_inpainting=allow_non_inpainting,
        memory=memory,
    )
