"""Restoration quality of the classical engine beside OpenCV's Telea and Navier-Stokes methods.

Synthetic damage on real photos from scikit-image: thin scratches (random polylines 1-4 px wide,
half of them curved) and small blotches (irregular blobs 5-25 px across), drawn with a fixed RNG
seed. Score: PSNR inside the damaged region against the undamaged photo (higher is better). Each
row is the mean over ``--draws`` independent damage draws. Times are per 512x512 image (each
method's total time scaled by 512² / pixels processed), all measured in this one run.

Target (issue "Engine foundation"): ours ≥ Telea + 1.5 dB on average.

Run: ``.venv/bin/python bench/restoration.py [--draws 3] [--seed 1234] [--method auto]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

import cv2
import numpy as np
from skimage import data

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from inpaint_core.engines.classical import ClassicalEngine  # noqa: E402
from inpaint_core.events import CancelToken, ignore_events  # noqa: E402
from inpaint_core.request import InpaintRequest  # noqa: E402


def photos() -> dict[str, np.ndarray]:
    return {
        "astronaut": data.astronaut(),  # 512x512
        "coffee": data.coffee(),  # 600x400
        "chelsea": data.chelsea(),  # 451x300
        "rocket": data.rocket(),  # 640x427
        "camera": np.repeat(data.camera()[..., None], 3, axis=2),  # 512x512 grey as RGB
        "ihc": data.immunohistochemistry(),  # 512x512 microscopy
    }


def scratches(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """About 12 scratches per 512²: polylines 1-4 px wide, 20-60 % of the long side, some curved."""
    m = np.zeros((h, w), np.uint8)
    length_px = max(h, w)
    for _ in range(max(3, round(12 * h * w / 512**2))):
        width = int(rng.integers(1, 5))
        length = rng.uniform(0.2, 0.6) * length_px
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        angle = rng.uniform(0, 2 * np.pi)
        bend = rng.uniform(-3, 3) / length if rng.random() < 0.5 else 0.0
        pts = []
        for _ in range(40):
            pts.append((x, y))
            angle += bend * length / 40 + rng.normal(0, 0.02)
            x += np.cos(angle) * length / 40
            y += np.sin(angle) * length / 40
        cv2.polylines(m, [np.round(pts).astype(np.int32)], False, 255, width, cv2.LINE_8)
    return m


def blotches(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """About 25 blotches per 512²: unions of 1-3 ellipses, 5-25 px across."""
    m = np.zeros((h, w), np.uint8)
    for _ in range(max(4, round(25 * h * w / 512**2))):
        size = rng.uniform(5, 25)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        for _ in range(int(rng.integers(1, 4))):
            ax = max(1, int(size / 2 * rng.uniform(0.5, 1.0)))
            ay = max(1, int(size / 2 * rng.uniform(0.5, 1.0)))
            ox, oy = rng.normal(0, size / 6, 2)
            centre = (int(cx + ox), int(cy + oy))
            cv2.ellipse(m, centre, (ax, ay), rng.uniform(0, 180), 0, 360, 255, -1)
    return m


def psnr_inside(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    d = a[mask > 0].astype(np.float64) - b[mask > 0].astype(np.float64)
    return float(10 * np.log10(255.0**2 / max(float(np.mean(d * d)), 1e-10)))


def methods(method: str) -> dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]:
    engine = ClassicalEngine()
    request = InpaintRequest(options={"method": method})

    def ours(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return engine.run(request, img, mask, ignore_events, CancelToken())[0].image

    return {
        "ours": ours,
        "telea": lambda img, mask: cv2.inpaint(img, mask, 3, cv2.INPAINT_TELEA),
        "ns": lambda img, mask: cv2.inpaint(img, mask, 3, cv2.INPAINT_NS),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=3, help="damage draws per photo and type")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--method", default="auto", help="classical engine method for 'ours'")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    fns = methods(args.method)
    seconds = dict.fromkeys(fns, 0.0)
    pixels = 0
    rows = []
    t_run = time.perf_counter()
    print(
        f"classical engine (method={args.method}) vs OpenCV {cv2.__version__} inpaint (radius 3); "
        f"PSNR (dB) inside the damage, mean of {args.draws} draws, seed {args.seed}"
    )
    print(
        f"{'photo':10s} {'damage':8s} {'size':>8s} {'area%':>6s} "
        + " ".join(f"{k:>7s}" for k in fns)
        + "  ours-telea"
    )
    for name, photo in photos().items():
        h, w = photo.shape[:2]
        for kind, draw in (("scratch", scratches), ("blotch", blotches)):
            scores = {k: [] for k in fns}
            areas = []
            for _ in range(args.draws):
                mask = draw(h, w, rng)
                broken = photo.copy()
                broken[mask > 0] = (245, 240, 225)  # what a method sees under the mask is junk
                areas.append(100.0 * float((mask > 0).mean()))
                pixels += h * w
                for k, fn in fns.items():
                    t0 = time.perf_counter()
                    out = fn(broken, mask)
                    seconds[k] += time.perf_counter() - t0
                    scores[k].append(psnr_inside(out, photo, mask))
            means = {k: float(np.mean(v)) for k, v in scores.items()}
            rows.append(means)
            print(
                f"{name:10s} {kind:8s} {f'{w}x{h}':>8s} {np.mean(areas):6.1f} "
                + " ".join(f"{means[k]:7.2f}" for k in fns)
                + f"  {means['ours'] - means['telea']:+6.2f}"
            )
    mean = {k: float(np.mean([r[k] for r in rows])) for k in fns}
    wins = sum(r["ours"] > r["telea"] for r in rows)
    print(
        f"{'MEAN':10s} {'':8s} {'':8s} {'':6s} "
        + " ".join(f"{mean[k]:7.2f}" for k in fns)
        + f"  {mean['ours'] - mean['telea']:+6.2f}"
    )
    per512 = {k: 1000.0 * s * 512**2 / pixels for k, s in seconds.items()}
    print(f"{'ms/512²':10s} {'':8s} {'':8s} {'':6s} " + " ".join(f"{per512[k]:7.0f}" for k in fns))
    diff = mean["ours"] - mean["telea"]
    print(
        f"ours - telea: {diff:+.2f} dB mean (target >= +1.5 dB: {'MET' if diff >= 1.5 else 'NOT MET'}); "
        f"ours better in {wins}/{len(rows)} rows; ours - ns: {mean['ours'] - mean['ns']:+.2f} dB"
    )
    print(
        f"time per 512² image: ours {per512['ours']:.0f} ms, telea {per512['telea']:.1f} ms, "
        f"ns {per512['ns']:.1f} ms ({per512['ours'] / per512['telea']:.0f}x telea); "
        f"{os.cpu_count()} CPUs; bench ran {time.perf_counter() - t_run:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
