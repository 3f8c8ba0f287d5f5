"""GUI responsiveness while a generation runs on the worker thread, and the cost of step previews.

The real studio window (offscreen Qt), the sample photo with a mask, the real generation controller
and engine bridge, and the tiny random-weight inpainting model (``inpaint_core.testing``; real
geometry, so every step runs the real pipeline code). A tiny UNet makes each step mostly Python:
the worst case for the GUI thread, which competes with the worker for the GIL.

1. **Event-loop lateness** on the GUI thread: a 10 ms ``QTimer`` (precise) ticks during the whole
   generation; lateness = interval - 10 ms. Reported p50 / p95 / max, idle (no generation) for
   reference, then while a generation runs with and without step previews.
   Target: p95 <= 5 ms while generating.
2. **Cost of step previews**: wall time of the same generation (same seed, steps, size) with step
   previews at the shipping rate (at most 4 per second) and without, on the GUI side (Generate to
   results in the tray), runs interleaved; medians compared. Target: <= 1.05x.
   For information, the same with a preview at *every* step (a stress case).

Run: ``.venv/bin/python bench/responsiveness.py [--steps 40] [--size 256] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("INPAINT_STUDIO_SETTINGS_DIR", tempfile.mkdtemp(prefix="bench-resp-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


class LatenessProbe:
    """A 10 ms precise timer; records how late each tick is."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.interval = interval_ms
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.last = 0
        self.late: list[float] = []

    def start(self) -> None:
        self.late = []
        self.clock.start()
        self.last = self.clock.nsecsElapsed()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.late

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.late.append(max(0.0, (now - self.last) / 1e6 - self.interval))
        self.last = now


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values), q))


def run_generation(app, ctl, probe: LatenessProbe) -> tuple[float, list[float], int]:
    """Generate once; returns (seconds from Generate to results, lateness samples, previews)."""
    loop = QEventLoop()
    previews = []
    on_preview = ctl.bridge.preview_ready.connect(lambda *_: previews.append(1))
    done: dict[str, object] = {}

    def finished(job_id: str) -> None:
        if job_id == done.get("job"):
            done["t"] = time.perf_counter()
            loop.quit()

    conn = ctl.bridge.job_finished.connect(finished)
    probe.start()
    t0 = time.perf_counter()
    done["job"] = ctl.generate()
    if done["job"] is None:
        raise SystemExit(f"generate refused: {ctl.panel.message_label.text()}")
    loop.exec()
    late = probe.stop()
    ctl.bridge.job_finished.disconnect(conn)
    ctl.bridge.preview_ready.disconnect(on_preview)
    return float(done["t"]) - t0, late, len(previews)


def idle(app, probe: LatenessProbe, seconds: float) -> list[float]:
    probe.start()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    return probe.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--size", type=int, default=256, help="working size (long side)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    app = QApplication.instance() or QApplication([])
    from desktop.generation.host import PREVIEW_INTERVAL_S
    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow
    from inpaint_core.testing import save_tiny_inpaint_model

    model = save_tiny_inpaint_model(Path(tempfile.mkdtemp(prefix="bench-tiny-")) / "tiny")
    window = MainWindow(open_settings())
    window.resize(1400, 900)
    window.show()
    assert window.opener.open_sample()
    doc = window.document
    mask = np.zeros(doc.mask.shape, np.uint8)
    h, w = mask.shape
    mask[h // 3 : h // 3 + h // 4, w // 3 : w // 3 + w // 4] = 255
    window.push_edit(doc.set_mask(mask))
    ctl = window.generation
    p = ctl.panel
    p.picker.choose_model(str(model))
    p.prompt_edit.setPlainText("a wooden table")
    p.scheduler_combo.setCurrentText("DDIM")
    p.steps_spin.setValue(args.steps)
    p.target_spin.setValue(args.size)
    p.outputs_spin.setValue(1)
    p.random_seed_check.setChecked(False)
    p.seed_edit.setText("7")
    cache = ctl.engine_cache
    probe = LatenessProbe()

    def configure(mode: str) -> None:
        cache.previews = mode != "off"
        cache.preview_interval_s = 0.0 if mode == "every step" else PREVIEW_INTERVAL_S

    configure("off")
    run_generation(app, ctl, probe)  # warm-up: model load, first-call costs
    configure("default")
    run_generation(app, ctl, probe)

    idle_late = idle(app, probe, 3.0)
    modes = ["default", "off", "every step"]
    times: dict[str, list[float]] = {m: [] for m in modes}
    lates: dict[str, list[float]] = {m: [] for m in modes}
    npreviews: dict[str, list[int]] = {m: [] for m in modes}
    for _ in range(args.repeats):
        for mode in modes:
            configure(mode)
            seconds, late, n = run_generation(app, ctl, probe)
            times[mode].append(seconds)
            lates[mode].extend(late)
            npreviews[mode].append(n)
    device = ctl.device_label.text()
    window.unsaved.mark_saved()  # a benchmark: nothing to keep, no "Save changes?" on close
    window.close()

    print(
        f"Generation: tiny random-weight SD inpainting model, {args.steps} steps DDIM, "
        f"working size {args.size} px long side, 1 output, on the worker thread; "
        f"{device}; load average {os.getloadavg()[0]:.1f} at the end; {args.repeats} runs per "
        "mode, interleaved."
    )
    print()
    print("1. GUI event-loop lateness, 10 ms QTimer (ms; target p95 <= 5 ms while generating)")
    print(f"   {'':32}{'ticks':>7}{'p50':>8}{'p95':>8}{'max':>8}")
    rows = [("idle (no generation)", idle_late)] + [
        (f"generating, previews {m}", lates[m]) for m in ["off", "default", "every step"]
    ]
    for name, late in rows:
        print(f"   {name:32}{len(late):7d}{pct(late, 50):8.2f}{pct(late, 95):8.2f}{max(late):8.2f}")
    print()
    print("2. Wall time of one generation, Generate -> results (s; median of runs)")
    base = statistics.median(times["off"])
    print(f"   {'':32}{'median':>8}{'runs':>24}{'previews':>10}{'ratio':>8}")
    for mode in ["off", "default", "every step"]:
        med = statistics.median(times[mode])
        runs = " ".join(f"{t:.2f}" for t in times[mode])
        prev = statistics.median(npreviews[mode])
        print(f"   {'previews ' + mode:32}{med:8.2f}{runs:>24}{prev:10.0f}{med / base:8.3f}x")
    ratio = statistics.median(times["default"]) / base
    p95 = pct(lates["default"], 95)
    print()
    print(
        f"Previews at the shipping rate cost {ratio:.3f}x (target <= 1.05x): "
        f"{'MET' if ratio <= 1.05 else 'NOT MET'}; GUI lateness p95 while generating "
        f"{p95:.2f} ms (target <= 5 ms): {'MET' if p95 <= 5 else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
