"""4 seeds in one batched engine call vs 4 sequential calls: speed ratio and max pixel difference.

The batched call must give the same pictures as seed-by-seed calls (≤ 3 levels in fp32: the engine
encodes the masked image once with the latent mean and draws each seed's noise from its own
generator). Target: batched ≥ 1.2x faster. For contrast it also shows how far the *stock*
pipeline's batched seed 2..4 land from the same seeds alone (diffusers samples the VAE with
generator[0] only).

Run: ``.venv/bin/python bench/batch_seeds.py [--size 128 --steps 20 --repeats 3]``
(tiny random-weight model with SD's real geometry, CPU).

The engine batches up to ``DEFAULT_MAX_BATCH`` (4) seeds per pipeline call; ``max_batch=1`` makes each
seed bit for bit the picture it gives alone. This measures what batching buys, and what it costs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _diffusion_common import interleaved, maxdiff, photo_and_mask, quiet  # noqa: E402

from inpaint_core.engines.diffusion import DiffusionEngine, loaded_from_pipeline  # noqa: E402
from inpaint_core.request import InpaintRequest  # noqa: E402
from inpaint_core.testing import build_tiny_inpaint_pipeline  # noqa: E402

SEEDS = (101, 202, 303, 404)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scheduler", default="K_EULER_ANCESTRAL")
    ap.add_argument("--strength", type=float, default=1.0)
    args = ap.parse_args()
    quiet()

    image, mask = photo_and_mask(args.size)
    pipe = build_tiny_inpaint_pipeline()
    engine = DiffusionEngine(loaded=loaded_from_pipeline(pipe, "tiny"), max_batch=len(SEEDS))
    base = dict(
        engine="diffusion",
        prompt="a photo of an astronaut",
        scheduler=args.scheduler,
        steps=args.steps,
        strength=args.strength,
    )
    batched_req = InpaintRequest(**base, seeds=SEEDS)
    single_reqs = [InpaintRequest(**base, seed=s) for s in SEEDS]
    results: dict[str, list[np.ndarray]] = {}

    def batched() -> None:
        results["batched"] = [o.image for o in engine.run(batched_req, image, mask)]

    def sequential() -> None:
        results["sequential"] = [engine.run(r, image, mask)[0].image for r in single_reqs]

    batched()
    sequential()  # warm-up + caches (prompt, image latents) shared by both
    t = interleaved({"sequential": sequential, "batched": batched}, args.repeats)
    diff = max(
        maxdiff(a, b) for a, b in zip(results["batched"], results["sequential"], strict=True)
    )
    seeds_differ = min(
        maxdiff(results["batched"][i], results["batched"][j])
        for i in range(len(SEEDS))
        for j in range(i + 1, len(SEEDS))
    )

    # the trap, for contrast: the stock pipeline with a list of generators
    common = dict(
        prompt=base["prompt"],
        image=Image.fromarray(image),
        mask_image=Image.fromarray(mask),
        height=args.size,
        width=args.size,
        num_inference_steps=args.steps,
        strength=args.strength,
        output_type="np",
    )
    stock_batch = pipe(
        generator=[torch.Generator().manual_seed(s) for s in SEEDS],
        num_images_per_prompt=len(SEEDS),
        **common,
    ).images
    stock_alone = [
        pipe(generator=torch.Generator().manual_seed(s), **common).images[0] for s in SEEDS
    ]
    stock_diff = max(
        maxdiff((a * 255).round().astype(np.uint8), (b * 255).round().astype(np.uint8))
        for a, b in zip(stock_batch, stock_alone, strict=True)
    )

    print(
        f"batched seeds: tiny SD-inpaint model (real geometry), CPU {torch.get_num_threads()} "
        f"threads, {args.size}x{args.size}, {args.steps} steps, {args.scheduler}, "
        f"strength {args.strength}, seeds {list(SEEDS)}, median of {args.repeats}"
    )
    print(f"  4 sequential engine calls    : {t['sequential'] * 1000:8.1f} ms")
    print(f"  1 batched engine call        : {t['batched'] * 1000:8.1f} ms")
    print(
        f"  speed ratio (seq / batched)  : {t['sequential'] / t['batched']:.2f}x  (target >= 1.2x)"
    )
    print(f"  max pixel diff batch vs seq  : {diff} levels  (target <= 3)")
    print(f"  min pixel diff between seeds : {seeds_differ} levels  (different seeds differ)")
    print(f"  stock pipeline, batch vs seq : {stock_diff} levels  (the trap the engine avoids)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
