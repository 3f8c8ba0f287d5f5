"""Seam score (``inpaint_core.seam``; lower = better) of hard-mask vs soft inpainting vs classical.

The held-in restoration set of ``bench/restoration.py``: scikit-image's real photos with blotch
damage (irregular blobs 5-25 px) drawn with a fixed seed. Every method goes through the front door
(:func:`inpaint_core.inpaint.inpaint`) with the default request (grow 4, feather 8, padding 32):

* ``truth``: the photo's own pixels pasted back (the floor: what a perfect fill scores),
* ``classical``: the classical engine (no weights),
* ``diff-hard``: the diffusion engine with ``soft_inpainting=False`` (feather only at paste-back),
* ``diff-soft``: the diffusion engine with soft inpainting (the default with a feathered mask).

Same seeds, same steps, one run, side by side. Without ``--model`` the diffusion rows use the tiny
random-weight model (its fills are noise: the rows then compare how each *method* hides a bad
fill's edge, not a model's quality); give ``--model PATH`` (a diffusers folder or .safetensors) on
a machine that has one for the real figures.

Then the live-preview latency (``inpaint_core.live.LiveRunner``): stroke end (``submit``) to
preview delivered, median over ``--strokes`` strokes spaced apart, with the default debounce and
without it, on the same diffusion engine with ``preview_request`` (256 px, one output) and on the
classical engine. On a GPU machine ``bench/gpu.py`` gives the per-step figure of a full-size model.

Run: ``.venv/bin/python bench/seam.py [--draws 1] [--steps 4] [--target-size 256] [--model PATH]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _diffusion_common import quiet  # noqa: E402
from restoration import blotches, photos  # noqa: E402

from inpaint_core import compose  # noqa: E402
from inpaint_core.engines.classical import ClassicalEngine  # noqa: E402
from inpaint_core.engines.diffusion import DiffusionEngine, loaded_from_pipeline  # noqa: E402
from inpaint_core.inpaint import inpaint, plan_for  # noqa: E402
from inpaint_core.live import DEFAULT_DEBOUNCE_S, LiveRunner, preview_request  # noqa: E402
from inpaint_core.request import InpaintRequest  # noqa: E402
from inpaint_core.seam import seam_score  # noqa: E402
from inpaint_core.testing import build_tiny_inpaint_pipeline  # noqa: E402

COLUMNS = ("truth", "classical", "diff-hard", "diff-soft")


def truth_score(photo: np.ndarray, mask: np.ndarray, request: InpaintRequest) -> float | None:
    """The seam score of the photo's own pixels, on the same box and blend as a real run."""
    box = plan_for(request, mask, ClassicalEngine()).box
    crop = photo[box.slices]
    mask_crop = mask[box.slices]
    alpha = compose.blend_alpha(mask_crop, request.mask_grow, request.mask_feather)
    return seam_score(compose.composite(crop, crop, alpha), crop, alpha, known=mask_crop == 0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=1, help="damage draws per photo")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--target-size", type=int, default=256)
    ap.add_argument("--model", default=None, help="a real inpainting model (default: tiny random)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--strokes", type=int, default=5, help="live-preview strokes to time")
    args = ap.parse_args(argv)
    quiet()

    if args.model:
        diffusion = DiffusionEngine(model=args.model, device=args.device)
        model_name = args.model
    else:
        diffusion = DiffusionEngine(loaded=loaded_from_pipeline(build_tiny_inpaint_pipeline()))
        model_name = "tiny random-weight model (fills are noise)"
    classical = ClassicalEngine()
    rng = np.random.default_rng(args.seed)
    common = dict(steps=args.steps, target_size=args.target_size, seed=1, safety_checker=False)
    hard_req = InpaintRequest(engine="diffusion", soft_inpainting=False, **common)
    soft_req = InpaintRequest(engine="diffusion", **common)
    base = InpaintRequest()
    print(
        f"seam score (lower = better), blotch damage, mean of {args.draws} draw(s), seed "
        f"{args.seed}; grow {base.mask_grow}, feather {base.mask_feather}; diffusion: {model_name}, "
        f"{args.steps} steps at {args.target_size}, empty prompt (masked content: fill)"
    )
    print(f"{'photo':10s} {'size':>8s} " + " ".join(f"{c:>10s}" for c in COLUMNS))
    rows: list[dict[str, float]] = []
    t_run = time.perf_counter()
    for name, photo in photos().items():
        h, w = photo.shape[:2]
        scores: dict[str, list[float]] = {c: [] for c in COLUMNS}
        for _ in range(args.draws):
            mask = blotches(h, w, rng)
            broken = photo.copy()
            broken[mask > 0] = (245, 240, 225)
            scores["truth"].append(truth_score(photo, mask, base))
            scores["classical"].append(inpaint(base, broken, mask, classical)[0].info["seam_score"])
            for col, req in (("diff-hard", hard_req), ("diff-soft", soft_req)):
                scores[col].append(inpaint(req, broken, mask, diffusion)[0].info["seam_score"])
        means = {
            c: float(np.mean([v for v in vals if v is not None])) for c, vals in scores.items()
        }
        rows.append(means)
        print(f"{name:10s} {f'{w}x{h}':>8s} " + " ".join(f"{means[c]:10.3f}" for c in COLUMNS))
    mean = {c: float(np.mean([r[c] for r in rows])) for c in COLUMNS}
    print(f"{'MEAN':10s} {'':8s} " + " ".join(f"{mean[c]:10.3f}" for c in COLUMNS))
    soft_wins = sum(r["diff-soft"] < r["diff-hard"] for r in rows)
    print(
        f"soft / hard: {mean['diff-soft'] / mean['diff-hard']:.2f}x (soft lower in {soft_wins}/"
        f"{len(rows)} photos); classical / truth: {mean['classical'] / mean['truth']:.2f}x; "
        f"{os.cpu_count()} CPUs; bench ran {time.perf_counter() - t_run:.0f} s"
    )
    live_latency(diffusion, classical, args)
    return 0


def live_latency(diffusion, classical, args) -> None:
    import statistics
    import threading

    from restoration import photos as _photos

    photo = _photos()["astronaut"]
    h, w = photo.shape[:2]
    live_req = preview_request(
        InpaintRequest(engine="diffusion", steps=args.steps, seed=1, safety_checker=False)
    )
    print(
        f"live preview: stroke end -> preview delivered, median of {args.strokes} strokes "
        f"({w}x{h} photo, 48x48 stroke mask; diffusion at {live_req.target_size} px, "
        f"{live_req.steps} steps)"
    )
    for label, engine, req in (
        ("diffusion", diffusion, live_req),
        ("classical", classical, InpaintRequest()),
    ):
        for debounce in (DEFAULT_DEBOUNCE_S, 0.0):
            latencies: list[float] = []
            got = threading.Event()

            def on_result(result, latencies=latencies, got=got) -> None:
                latencies.append(result.latency_s)
                got.set()

            with LiveRunner(engine, on_result, debounce_s=debounce) as live:
                for i in range(args.strokes + 1):  # the first is a warm-up
                    mask = np.zeros((h, w), np.uint8)
                    y = 100 + 20 * i
                    mask[y : y + 48, 200:248] = 255
                    got.clear()
                    live.submit(req, photo, mask)
                    got.wait(600)
                    live.wait_idle(600)
            times = latencies[1:]
            print(
                f"  {label:10s} debounce {debounce * 1000:4.0f} ms: "
                f"{statistics.median(times) * 1000:7.0f} ms median "
                f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
            )


if __name__ == "__main__":
    raise SystemExit(main())
