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
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass
class Timing:
    """One measured command: wall seconds, CPU seconds of its processes (the batch's worker
    processes included: the pool waits for them), and the load average while it ran."""

    wall: float
    cpu: float
    load: float


def cli(*args: str) -> Timing:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "inpaint_core.cli", *args], check=True,
                   capture_output=True, env=env)  # fmt: skip
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, (load0 + os.getloadavg()[0]) / 2)


def one_round(root: Path, scans: Path, masks: Path, args, engine: list[str], r: int):
    """Batch local, batch on Ray, the journalled re-run and the loop: {name: (images, Timing)}."""
    out: dict[str, tuple[int, Timing]] = {}
    base = ["batch", "--images", str(scans), "--masks", str(masks), "--quiet", *engine]
    out["batch local"] = (args.n, cli(*base, "--out", str(root / f"local{r}")))
    if not args.no_ray:
        out["batch ray (this machine)"] = (
            args.n, cli(*base, "--out", str(root / f"ray{r}"), "--executor", "ray")
        )  # fmt: skip
        same = all(
            (root / f"local{r}" / p.name).read_bytes() == p.read_bytes()
            for p in (root / f"ray{r}").glob("*.png")
        )
        print(f"ray outputs byte-identical to local: {same}")
    out["batch re-run (all journalled)"] = (args.n, cli(*base, "--out", str(root / f"local{r}")))
    loop_n = min(args.loop_n or args.n, args.n)
    runs = [
        cli("run", "--image", str(scans / f"scan{i:04d}.png"),
            "--mask", str(masks / f"scan{i:04d}_mask.png"),
            "--out", str(root / f"loop{r}" / f"scan{i:04d}.png"), "--quiet", *engine)
        for i in range(loop_n)
    ]  # fmt: skip
    wall = sum(t.wall for t in runs)
    t = Timing(wall, sum(t.cpu for t in runs), sum(t.load * t.wall for t in runs) / wall)
    out[f"one run per image ({loop_n})"] = (loop_n, t)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="scans in the folder")
    ap.add_argument("--loop-n", type=int, default=None, help="images for the run loop (default n)")
    ap.add_argument("--repeat", type=int, default=1, help="measure everything this many times")
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
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")  # fmt: skip
        ratios: dict[str, list[float]] = {}
        for r in range(args.repeat):
            if args.repeat > 1:
                print(f"-- round {r + 1} of {args.repeat}")
            rows = one_round(root, scans, masks, args, engine, r)
            loop_name = next(k for k in rows if k.startswith("one run"))
            loop_n, loop_t = rows[loop_name]
            loop_rate, loop_cpu = loop_n / loop_t.wall, loop_t.cpu / loop_n
            print(f"{'':32s} {'img/s':>7s} {'s/img':>7s} {'vs loop':>8s} {'CPU s/img':>10s} "
                  f"{'CPU vs loop':>12s} {'load':>5s}")  # fmt: skip
            for name, (n, t) in rows.items():
                rate, cpu = n / t.wall, t.cpu / n
                ray = "ray" in name  # its workers are Ray's processes, not this command's
                cpu_col = (
                    f"{'-':>10s} {'-':>12s}" if ray else f"{cpu:10.3f} {loop_cpu / cpu:11.2f}x"
                )
                print(f"{name:32s} {rate:7.2f} {1 / rate:7.3f} {rate / loop_rate:7.2f}x "
                      f"{cpu_col} {t.load:5.1f}")  # fmt: skip
                if name.startswith("batch") and "re-run" not in name:
                    ratios.setdefault(name, []).append(rate / loop_rate)
        best = {name: statistics.median(v) for name, v in ratios.items()}
        if args.repeat > 1:
            for name, v in ratios.items():
                print(f"{name}: vs loop per round {', '.join(f'{x:.2f}x' for x in v)}; "
                      f"median {best[name]:.2f}x")  # fmt: skip
        top = max(best.values())
        print(f"target batch >= 3x the loop: {'MET' if top >= 3 else 'NOT MET'} "
              f"(best batch {top:.2f}x, local {best['batch local']:.2f}x"
              f"{', median of the rounds' if args.repeat > 1 else ''})")  # fmt: skip
        print(
            "CPU s/img: CPU time of the command's processes per image (user + system); "
            "'CPU vs loop' is the work the batch saves, the ratio a machine with no spare "
            "core gives. The wall ratio also counts the cores the batch's workers use "
            "in parallel (--workers, default one per CPU), which other users' load takes away."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
