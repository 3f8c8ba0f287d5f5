"""Full-resolution cost: a 6000x4000 photo with a 200x200 mask vs a 512² photo with the same mask.

The work is on the region around the mask, so both should cost about the same (target ≤ 1.5x in
time and in peak memory added by the call). Run: ``.venv/bin/python bench/fullres.py [--engine classical]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import cv2
import numpy as np
from skimage import data

from inpaint_core.engines.registry import get_engine
from inpaint_core.inpaint import inpaint
from inpaint_core.request import InpaintRequest


def make_case(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    photo = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC)
    mask = np.zeros((height, width), np.uint8)
    cx, cy = width // 2, height // 2
    # a 200x200 blotch (an ellipse filling the square) in the middle
    cv2.ellipse(mask, (cx, cy), (100, 100), 0, 0, 360, 255, -1)
    return photo, mask


def measure(engine, request, photo, mask, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        inpaint(request, photo, mask, engine)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    tracemalloc.reset_peak()
    inpaint(request, photo, mask, engine)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--engine", default="classical", help="classical, or 'tiny' (random-weight SD model)"
    )
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if args.engine == "tiny":
        import tempfile
        from pathlib import Path

        from inpaint_core.testing import save_tiny_inpaint_model

        model = save_tiny_inpaint_model(Path(tempfile.mkdtemp()) / "tiny")
        engine = get_engine("diffusion", model=str(model))
        request = InpaintRequest(
            engine="diffusion", model=str(model), seed=1, steps=10, scheduler="DDIM"
        )
    else:
        engine = get_engine(args.engine)
        request = InpaintRequest(engine=args.engine, seed=1)
    big = make_case(6000, 4000)
    small = make_case(512, 512)
    inpaint(request, *small, engine)  # warm-up
    t_small, m_small = measure(engine, request, *small, args.repeats)
    t_big, m_big = measure(engine, request, *big, args.repeats)
    print(
        f"engine: {args.engine}, mask 200x200, median of {args.repeats}, peak = tracemalloc peak added by the call (numpy/OpenCV/Pillow buffers; torch tensors are not traced)"
    )
    print(f"{'photo':>12} {'time (ms)':>10} {'peak MiB':>9}")
    print(f"{'512x512':>12} {t_small * 1e3:10.1f} {m_small:9.2f}")
    print(f"{'6000x4000':>12} {t_big * 1e3:10.1f} {m_big:9.2f}")
    print(
        f"ratio 6000x4000 / 512²: time {t_big / t_small:.2f}x, peak memory {m_big / m_small:.2f}x (target <= 1.5x)"
    )
    t0 = time.perf_counter()
    inpaint(request, *big, engine)[0].composite(big[0])
    print(
        f"(for reference: 6000x4000 including a full-size composite copy: {(time.perf_counter() - t0) * 1e3:.1f} ms)"
    )


if __name__ == "__main__":
    main()
