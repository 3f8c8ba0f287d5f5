"""A compare sweep (4 seeds x 3 schedulers) vs the same 12 cells as independent runs.

Both sides use the same engine object with the model loaded once (nothing is loaded per run), the
same photo, mask and request; the sweep batches each row's 4 seeds into one engine call and swaps
schedulers between rows. Prints both times, the ratio (target: sweep >= 1.25x faster on CPU) and the
max pixel difference between each sweep cell and its independent run (same pictures: <= 3 levels).

Run: ``.venv/bin/python bench/sweep.py [--size 128 --steps 20 --repeats 2]``
(tiny random-weight SD-inpainting model with the real geometry, CPU).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage import data

from inpaint_core.engines.diffusion import DiffusionEngine
from inpaint_core.inpaint import inpaint
from inpaint_core.request import InpaintRequest
from inpaint_core.sweep import plan_sweep, run_sweep
from inpaint_core.testing import save_tiny_inpaint_model

SCHEDULERS = ["DDIM", "K_EULER", "DPMSolverMultistep"]


def photo_and_mask() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's astronaut at 512², her helmet's visor region masked."""
    photo = np.ascontiguousarray(data.astronaut())
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[60:220, 150:330] = 255
    return photo, mask


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128, help="working grid long side (target_size)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=2, help="alternating repeats; median reported")
    args = ap.parse_args()

    photo, mask = photo_and_mask()
    with tempfile.TemporaryDirectory() as tmp:
        model = save_tiny_inpaint_model(Path(tmp) / "tiny-sd-inpaint")
        engine = DiffusionEngine(model=str(model), device="cpu")
        t0 = time.perf_counter()
        engine.load()
        load_s = time.perf_counter() - t0
        base = InpaintRequest(
            engine="diffusion",
            model=str(model),
            prompt="a golden visor reflecting the sky",
            negative_prompt="blurry",
            steps=args.steps,
            target_size=args.size,
            seed=1000,
            safety_checker=False,
        )
        plan = plan_sweep(base, seeds=4, schedulers=SCHEDULERS)
        # warm-up: first-call costs (allocator, kernels, the engine's prompt/latent caches) hit
        # both sides alike afterwards
        inpaint(plan.cells[0].request, photo, mask, engine)

        def independent():
            return [inpaint(c.request, photo, mask, engine)[0] for c in plan.cells]

        def sweep():
            return run_sweep(plan, photo, mask, engine)

        times: dict[str, list[float]] = {"independent": [], "sweep": []}
        results: dict[str, list] = {}
        for _ in range(args.repeats):
            for name, fn in (("independent", independent), ("sweep", sweep)):
                t = time.perf_counter()
                results[name] = fn()
                times[name].append(time.perf_counter() - t)
        t_ind = statistics.median(times["independent"])
        t_sweep = statistics.median(times["sweep"])
        diffs = [
            int(np.abs(a.patch.astype(np.int16) - b.result.patch.astype(np.int16)).max())
            for a, b in zip(results["independent"], results["sweep"], strict=True)
        ]
        same = sum(d == 0 for d in diffs)
        grid = results["sweep"][0].result.info.get("grid")

    print(
        f"tiny SD-inpainting model (random weights, real geometry), CPU, torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads; model loaded once in {load_s:.2f} s"
    )
    print(
        f"photo 512x512 (skimage astronaut), working grid {grid[0]}x{grid[1]}, {args.steps} steps, "
        f"CFG {base.guidance_scale:g}, 4 seeds x 3 schedulers ({', '.join(SCHEDULERS)}); "
        f"median of {args.repeats}, alternating"
    )
    print(f"{'12 independent runs (same engine)':<36} {t_ind:8.2f} s")
    print(f"{'sweep (3 batched calls of 4 seeds)':<36} {t_sweep:8.2f} s")
    print(f"{'speed-up':<36} {t_ind / t_sweep:8.2f}x   (target >= 1.25x)")
    print(
        f"{'max pixel difference per cell':<36} {max(diffs):8d} levels  "
        f"(per cell: {diffs}; {same}/12 bit-identical; target <= 3)"
    )
    return 0


if __name__ == "__main__":
    Image.MAX_IMAGE_PIXELS = None
    raise SystemExit(main())
