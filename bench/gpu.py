"""GPU benchmark: full-size SD-1.5-inpainting shapes, random weights, through our engine.

Builds UNet 320/640/1280/1280 + VAE 128/256/512/512 + CLIP ViT-L/14 text encoder with random
weights (``inpaint_core.testing.build_full_size_sd15_inpaint_pipeline``; nothing is downloaded),
applies the app's dtype policy (fp16 UNet/text encoder, fp32 VAE with the upcast hooks), and
measures at 512², 25 steps: seconds per image, it/s (UNet steps with CFG), peak VRAM, batch-4
throughput — without and with ``torch.compile`` on the UNet. Our target on an H100: ≤ 0.5 s per
image at 25 steps.

Other families: ``--family sdxl`` (SDXL-inpainting shapes from the bundled configs, 1024²) and
``--family flux`` (FLUX.1-Fill-dev shapes, ~17 B params with T5-XXL, bf16, 1024², guidance 30,
no CFG pass). On the CPU these run the tiny random models of ``inpaint_core.testing`` (smoke
sizes: full-size Flux does not fit a CPU machine's memory).

Run on a GPU machine: ``python bench/gpu.py`` (add ``--no-compile`` to skip the compiled pass).
Without CUDA it prints "no CUDA device" and exits 0; a CPU smoke run of the same code path:
``python bench/gpu.py --device cpu --steps 2 --size 256 --batch 2``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _diffusion_common import photo_and_mask, quiet  # noqa: E402

from inpaint_core.engines.diffusion import DiffusionEngine, loaded_from_pipeline  # noqa: E402
from inpaint_core.request import InpaintRequest  # noqa: E402
from inpaint_core.testing import (  # noqa: E402
    build_full_size_flux_fill_pipeline,
    build_full_size_sd15_inpaint_pipeline,
    build_full_size_sdxl_inpaint_pipeline,
    build_tiny_flux_fill_pipeline,
    build_tiny_sdxl_inpaint_pipeline,
)

DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}


class StepClock:
    """Times UNet steps from the engine's progress events (first step excluded: warm-up)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.stamps: list[float] = []

    def __call__(self, event) -> None:
        if event.kind == "progress" and event.step > 0:
            if self.device.startswith("cuda"):
                torch.cuda.synchronize()
            self.stamps.append(time.perf_counter())

    def its(self) -> float:
        if len(self.stamps) < 2:
            return float("nan")
        return (len(self.stamps) - 1) / (self.stamps[-1] - self.stamps[0])


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_memory_gib(device: str) -> str:
    if device.startswith("cuda"):
        return f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB VRAM"
    return (
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB RSS (process peak)"
    )


def measure(engine, args, image, mask, label: str) -> dict[str, float]:
    device = args.device
    base = dict(
        engine="diffusion",
        prompt="a photo of an astronaut, detailed face, studio light",
        negative_prompt="blurry, low quality",
        scheduler=args.scheduler,
        steps=args.steps,
        safety_checker=False,
        guidance_scale=30.0 if args.family == "flux" else 7.5,
    )
    one = InpaintRequest(**base, seed=1)
    batch = InpaintRequest(**base, seeds=tuple(range(1, args.batch + 1)))
    # warm-up (and compilation) for both batch sizes, kept out of the timings
    t0 = time.perf_counter()
    engine.run(one, image, mask)
    if args.batch > 1:
        engine.run(batch, image, mask)
    sync(device)
    warmup = time.perf_counter() - t0

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    single_times, its = [], []
    for _ in range(args.repeats):
        clock = StepClock(device)
        sync(device)
        t0 = time.perf_counter()
        engine.run(one, image, mask, clock)
        sync(device)
        single_times.append(time.perf_counter() - t0)
        its.append(clock.its())
    peak_single = peak_memory_gib(device)

    batch_times = []
    if args.batch > 1:
        if device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        for _ in range(args.repeats):
            sync(device)
            t0 = time.perf_counter()
            engine.run(batch, image, mask)
            sync(device)
            batch_times.append(time.perf_counter() - t0)
    peak_batch = peak_memory_gib(device) if args.batch > 1 else "-"

    s = statistics.median(single_times)
    print(f"[{label}]")
    print(f"  warm-up (incl. compile)       : {warmup:8.2f} s")
    print(f"  seconds per image (batch 1)   : {s:8.3f} s   ({args.steps} steps, incl. VAE decode)")
    print(f"  UNet it/s (CFG, batch 1)      : {statistics.median(its):8.2f}")
    print(f"  peak memory, batch 1          : {peak_single}")
    result = {"single": s}
    if batch_times:
        b = statistics.median(batch_times)
        print(f"  batch {args.batch}: seconds per call      : {b:8.3f} s")
        print(f"  batch {args.batch}: seconds per image     : {b / args.batch:8.3f} s")
        print(f"  batch {args.batch}: throughput            : {args.batch / b:8.2f} images/s")
        print(f"  peak memory, batch {args.batch}          : {peak_batch}")
        result["batch"] = b
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu for a smoke run")
    ap.add_argument("--dtype", default=None, help="float16 (CUDA default), bfloat16, float32")
    ap.add_argument("--family", choices=["sd15", "sdxl", "flux"], default="sd15")
    ap.add_argument("--size", type=int, default=None, help="default 512 (sd15) or 1024")
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scheduler", default="DPMSolverMultistep")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile pass")
    ap.add_argument("--compile-mode", default="max-autotune-no-cudagraphs")
    args = ap.parse_args()
    if args.size is None:
        args.size = 512 if args.family == "sd15" else 1024
    if args.family == "sdxl" and args.scheduler == "DPMSolverMultistep":
        args.scheduler = "K_EULER"  # SDXL's own
    quiet()

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(
            f"no CUDA device (torch {torch.__version__}, "
            f"{'CPU-only build' if torch.version.cuda is None else 'CUDA ' + torch.version.cuda}): "
            "nothing to benchmark. Smoke-test on CPU: python bench/gpu.py --device cpu --steps 2"
        )
        return 0
    on_cuda = args.device.startswith("cuda")
    default_dtype = "float16" if on_cuda else "float32"
    if args.family == "flux" and on_cuda:
        default_dtype = "bfloat16"  # FLUX.1 overflows in float16
    dtype = DTYPES[args.dtype or default_dtype]
    compile_too = not args.no_compile and on_cuda
    if on_cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        name = torch.cuda.get_device_name()
    else:
        name = f"CPU, {torch.get_num_threads()} threads"

    t0 = time.perf_counter()
    if args.family == "sd15":
        pipe = build_full_size_sd15_inpaint_pipeline(dtype=dtype, device=args.device)
    elif args.family == "sdxl":
        pipe = (
            build_full_size_sdxl_inpaint_pipeline(dtype=dtype, device=args.device)
            if on_cuda
            else build_tiny_sdxl_inpaint_pipeline().to(dtype=dtype)
        )
    else:
        pipe = (
            build_full_size_flux_fill_pipeline(dtype=dtype, device=args.device)
            if on_cuda
            else build_tiny_flux_fill_pipeline().to(dtype=dtype)
        )
    denoiser = pipe.transformer if args.family == "flux" else pipe.unet
    if dtype == torch.float16:  # the app's policy: fp32 VAE next to an fp16 UNet
        from inpaint_core.models import install_vae_upcast

        pipe.vae.to(torch.float32)
        install_vae_upcast(pipe.vae, dtype)
    build = time.perf_counter() - t0
    n_unet = sum(p.numel() for p in denoiser.parameters()) / 1e6
    shapes = {"sd15": "SD-1.5-inpainting", "sdxl": "SDXL-inpainting", "flux": "FLUX.1-Fill"}
    what = (
        f"full-size {shapes[args.family]}"
        if on_cuda or args.family == "sd15"
        else (f"tiny {shapes[args.family]} (CPU smoke)")
    )
    print(
        f"GPU bench: {what} shapes (denoiser {n_unet:.0f}M params), random "
        f"weights, {name}, {str(dtype).removeprefix('torch.')}, {args.size}x{args.size}, "
        f"{args.steps} steps, {args.scheduler if args.family != 'flux' else 'flow Euler'}, "
        f"{'guidance 30 (no CFG pass)' if args.family == 'flux' else 'CFG 7.5'}, "
        f"median of {args.repeats}; built in {build:.1f} s"
    )
    image, mask = photo_and_mask(args.size)
    engine = DiffusionEngine(
        loaded=loaded_from_pipeline(pipe, f"{args.family}-inpaint-shapes"), max_batch=args.batch
    )
    eager = measure(engine, args, image, mask, "eager")
    if compile_too:
        if args.family == "flux":
            pipe.transformer = torch.compile(pipe.transformer, mode=args.compile_mode)
        else:
            pipe.unet = torch.compile(pipe.unet, mode=args.compile_mode)
        compiled = measure(engine, args, image, mask, f"torch.compile UNet ({args.compile_mode})")
        print(f"compile speed-up, batch 1: {eager['single'] / compiled['single']:.2f}x")
        if "batch" in eager:
            print(
                f"compile speed-up, batch {args.batch}: {eager['batch'] / compiled['batch']:.2f}x"
            )
    elif not on_cuda:
        print("(torch.compile pass skipped: CPU smoke run)")
    target = 0.5
    best = eager["single"] if not compile_too else min(eager["single"], compiled["single"])
    if on_cuda and args.family == "sd15" and args.size == 512 and args.steps == 25:
        verdict = "meets" if best <= target else "misses"
        print(f"best seconds per image {best:.3f} s {verdict} the H100 target of {target} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
