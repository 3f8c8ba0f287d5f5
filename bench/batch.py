"""Batch throughput: ``inpaint-studio-cli batch`` (local, and Ray on this machine) against one
``inpaint-studio-cli run`` per image, on the same folder of scans, measured side by side.

The scans are real photos from scikit-image with synthetic damage (thin scratches and small
blotches, :mod:`inpaint_core.synthetic_damage`), each with its mask; every command is run as a user
runs it (a fresh process, default flags). Target (issue 16): batch >= 3x the one-run-per-image loop.
With ``--model`` the diffusion engine is measured instead (e.g. a tiny model saved by
``inpaint_core.testing.save_tiny_inpaint_model``).

Run: ``python bench/batch.py [--n 200] [--loop-n 200] [--no-ray] [--model DIR]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inpaint_core.synthetic_damage import blotches, damage, scratches  # noqa: E402

PHOTOS = {
    "astronaut": data.astronaut,
    "coffee": data.coffee,
    "chelsea": data.chelsea,
    "rocket": data.rocket,
    "camera": lambda: np.repeat(data.camera()[..., None], 3, axis=2),
    "ihc": data.immunohistochemistry,
}


def make_scans(folder: Path, n: int, seed: int) -> tuple[Path, Path, int]:
    scans, masks = folder / "scans", folder / "masks"
    scans.mkdir()
    masks.mkdir()
    rng = np.random.default_rng(seed)
    photos = [fn() for fn in PHOTOS.values()]
    pixels = 0
    for i in range(n):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        mask = np.maximum(scratches(h, w, rng), blotches(h, w, rng) if i % 2 else 0)
        Image.fromarray(damage(photo, mask)).save(scans / f"scan{i:04d}.png", compress_level=1)
        Image.fromarray(mask).save(masks / f"scan{i:04d}_mask.png")
        pixels += h * w
    return scans, masks, pixels


def cli(*args: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inpaint_core.cli", *args], check=True,
                   capture_output=True, env=env)  # fmt: skip
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="scans in the folder")
    ap.add_argument("--loop-n", type=int, default=None, help="images for the run loop (default n)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--model", help="diffusion model (default: the classical engine)")
    args = ap.parse_args(argv)
    engine = ["--model", args.model, "--steps", "4", "--target-size", "256"] if args.model else []

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        scans, masks, pixels = make_scans(root, args.n, args.seed)
        print(f"{args.n} scans ({pixels / args.n / 1e6:.2f} MP mean), engine "
              f"{'diffusion ' + args.model if args.model else 'classical'}; "
              f"{os.cpu_count()} CPUs")  # fmt: skip
        rates: dict[str, float] = {}
        secs = cli("batch", "--images", str(scans), "--masks", str(masks),
                   "--out", str(root / "local"), "--quiet", *engine)  # fmt: skip
        rates["batch local"] = args.n / secs
        if not args.no_ray:
            secs = cli("batch", "--images", str(scans), "--masks", str(masks),
                       "--out", str(root / "ray"), "--executor", "ray", "--quiet",
                       *engine)  # fmt: skip
            rates["batch ray (this machine)"] = args.n / secs
            same = all(
                (root / "local" / p.name).read_bytes() == p.read_bytes()
                for p in (root / "ray").glob("*.png")
            )
            print(f"ray outputs byte-identical to local: {same}")
        secs = cli("batch", "--images", str(scans), "--masks", str(masks),
                   "--out", str(root / "local"), "--quiet", *engine)  # fmt: skip
        rates["batch re-run (all journalled)"] = args.n / secs
        loop_n = min(args.loop_n or args.n, args.n)
        t_loop = 0.0
        for i in range(loop_n):
            t_loop += cli("run", "--image", str(scans / f"scan{i:04d}.png"),
                          "--mask", str(masks / f"scan{i:04d}_mask.png"),
                          "--out", str(root / "loop" / f"scan{i:04d}.png"), "--quiet",
                          *engine)  # fmt: skip
        rates[f"one run per image ({loop_n})"] = loop_n / t_loop
        loop = rates[f"one run per image ({loop_n})"]
        print(f"{'':32s} {'img/s':>8s} {'s/img':>8s} {'vs loop':>8s}")
        for name, rate in rates.items():
            print(f"{name:32s} {rate:8.2f} {1 / rate:8.3f} {rate / loop:7.2f}x")
        best = max(v for k, v in rates.items() if k.startswith("batch") and "re-run" not in k)
        print(f"target batch >= 3x the loop: {'MET' if best / loop >= 3 else 'NOT MET'} "
              f"(best batch {best / loop:.2f}x, local {rates['batch local'] / loop:.2f}x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
