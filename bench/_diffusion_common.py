"""Shared bits of the diffusion benchmarks: a real photo crop + mask, timing helpers."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
from PIL import Image
from skimage import data


def photo_and_mask(size: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's astronaut resized to ``size``², a rectangle over the face as the mask."""
    image = np.asarray(Image.fromarray(data.astronaut()).resize((size, size), Image.LANCZOS))
    mask = np.zeros((size, size), np.uint8)
    mask[size // 8 : size // 2, size // 4 : 3 * size // 4] = 255
    return np.ascontiguousarray(image), mask


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each function, run alternately so load changes hit all alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(timed(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def maxdiff(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max())


def quiet() -> None:
    """No download/loading/saving progress bars from diffusers/transformers in bench output."""
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()
    diffusers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
