"""Scheduler swap on a loaded model vs reloading the model: ratio (target ≥ 20x).

The swap is what the engine does per job (``schedulers.set_scheduler``: ``from_config`` on the
model's own scheduler config); the reload is the real loading path users take
(``inpaint_core.models.load_pipeline`` on a saved diffusers folder, offline, CPU).

Run: ``.venv/bin/python bench/scheduler_swap.py [--repeats 5]`` (tiny random-weight model).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _diffusion_common import quiet  # noqa: E402

from inpaint_core import schedulers  # noqa: E402
from inpaint_core.testing import save_tiny_inpaint_model  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    quiet()
    from inpaint_core.models import load_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        folder = save_tiny_inpaint_model(Path(tmp) / "tiny-sd-inpaint")
        loaded = load_pipeline(folder, device="cpu")
        pipe = loaded.pipe
        unet = pipe.unet
        names = schedulers.scheduler_names()
        swap_times: list[float] = []
        reload_times: list[float] = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for name in names:  # every swap is a real change of scheduler
                schedulers.set_scheduler(pipe, name)
            swap_times.append((time.perf_counter() - t0) / len(names))
            t0 = time.perf_counter()
            load_pipeline(folder, device="cpu")
            reload_times.append(time.perf_counter() - t0)
            assert pipe.unet is unet, "a swap must never reload the UNet"
        swap = statistics.median(swap_times)
        reload = statistics.median(reload_times)
    print(
        f"scheduler swap vs reload: tiny SD-inpaint model (real geometry), CPU, "
        f"median of {args.repeats} ({len(names)} swaps per round, all 8 schedulers)"
    )
    print(f"  one scheduler swap           : {swap * 1000:8.2f} ms")
    print(f"  one model reload (folder)    : {reload * 1000:8.2f} ms")
    print(f"  ratio (reload / swap)        : {reload / swap:.0f}x  (target >= 20x)")
    print("  (a full-size SD-1.5 reload is seconds to tens of seconds; the swap stays ~1 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
