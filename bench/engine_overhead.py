"""Our diffusion engine's call vs the bare diffusers pipeline call on the same inputs.

Both fill the same crop with the same seed, scheduler, steps and guidance, and return uint8 RGB.
The engine adds its own masked-image VAE encode (mean, cached), its own noise, the step callback
(progress events + throttled previews), its own decode and postprocessing. Target: ≤ 1.05x.
"Cold" clears the engine's caches before every call (prompt embeddings + image latents), so it
does every piece of work the bare call does; "warm" is a repeated job on the same photo/prompt.

Run: ``.venv/bin/python bench/engine_overhead.py [--size 256 --steps 20 --repeats 5]``
(tiny random-weight model with SD's real geometry, CPU).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _diffusion_common import interleaved, photo_and_mask, quiet  # noqa: E402

from inpaint_core import schedulers  # noqa: E402
from inpaint_core.engines.diffusion import DiffusionEngine, loaded_from_pipeline  # noqa: E402
from inpaint_core.events import EngineEvent  # noqa: E402
from inpaint_core.request import InpaintRequest  # noqa: E402
from inpaint_core.testing import build_tiny_inpaint_pipeline  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scheduler", default="DPMSolverMultistep")
    args = ap.parse_args()
    quiet()

    image, mask = photo_and_mask(args.size)
    pipe = build_tiny_inpaint_pipeline()
    engine = DiffusionEngine(loaded=loaded_from_pipeline(pipe, "tiny"))
    request = InpaintRequest(
        engine="diffusion",
        prompt="a photo of an astronaut, detailed face",
        negative_prompt="blurry",
        scheduler=args.scheduler,
        steps=args.steps,
        seed=1234,
    )
    events: list[EngineEvent] = []

    def ours_warm() -> np.ndarray:
        return engine.run(request, image, mask, events.append)[0].image

    def ours_cold() -> np.ndarray:
        engine._embeds.clear()
        engine._latents.clear()
        return engine.run(request, image, mask, events.append)[0].image

    pil_image, pil_mask = Image.fromarray(image), Image.fromarray(mask)

    def bare() -> np.ndarray:
        schedulers.set_scheduler(pipe, args.scheduler)  # no-op: the engine installed it
        out = pipe(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            image=pil_image,
            mask_image=pil_mask,
            height=args.size,
            width=args.size,
            num_inference_steps=args.steps,
            guidance_scale=request.guidance_scale,
            generator=torch.Generator().manual_seed(1234),
            output_type="np",
        ).images[0]
        return (out * 255).round().astype(np.uint8)

    with torch.inference_mode():
        for fn in (ours_warm, ours_cold, bare):  # warm-up (allocations, first-call costs)
            fn()
        t = interleaved({"bare": bare, "cold": ours_cold, "warm": ours_warm}, args.repeats)
    print(
        f"engine overhead: tiny SD-inpaint model (real geometry), CPU {torch.get_num_threads()} "
        f"threads, {args.size}x{args.size}, {args.steps} steps, {args.scheduler}, CFG, "
        f"median of {args.repeats}"
    )
    print(f"  bare diffusers pipeline call : {t['bare'] * 1000:8.1f} ms")
    print(f"  engine, caches cold          : {t['cold'] * 1000:8.1f} ms")
    print(f"  engine, caches warm          : {t['warm'] * 1000:8.1f} ms")
    print(f"  overhead ratio (cold / bare) : {t['cold'] / t['bare']:.3f}x  (target <= 1.05x)")
    print(f"  overhead ratio (warm / bare) : {t['warm'] / t['bare']:.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
