"""How long the window stops answering while a big photo opens: inline on the GUI thread (what
``open_source(..., wait=True)`` still does, and what every open did before) vs the background
loader (what the window's Open, drops, URLs and the command line use).

A 5 ms QTimer runs throughout; the longest gap between its ticks is the longest time the window
could not repaint or react. Both ways are measured side by side in one run on the same file.

    .venv/bin/python bench/opening.py [--size 8000x6000] [--repeats 3]
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def photo(path: Path, w: int, h: int) -> Path:
    from skimage import data

    tile = data.astronaut()  # a real photo, tiled up to the size (JPEG work like a real one)
    reps = (h // tile.shape[0] + 1, w // tile.shape[1] + 1, 1)
    Image.fromarray(np.tile(tile, reps)[:h, :w]).save(path, quality=90)
    return path


def measure(app, window, path: Path, inline: bool) -> tuple[float, float]:
    """(seconds until the photo is open, longest gap between timer ticks in seconds)."""
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    for _ in range(20):  # let the timer settle
        app.processEvents()
        time.sleep(0.005)
    old = window.doc
    t0 = time.perf_counter()
    ticks.append(t0)
    if inline:
        assert window.opener.open_source(path, wait=True)
    else:
        assert window.opener.open_source(path)
    while window.doc is old:
        app.processEvents()
        time.sleep(0.001)
    t1 = time.perf_counter()
    for _ in range(10):  # the first paint of the new photo counts too
        app.processEvents()
        time.sleep(0.005)
    timer.stop()
    gaps = np.diff([t for t in ticks if t >= t0] + [time.perf_counter()])
    window.unsaved.mark_saved()
    return t1 - t0, float(gaps.max())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="8000x6000")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))

    app = QApplication.instance() or QApplication([])
    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="bench-open-"))
    path = photo(tmp / "big.jpg", w, h)
    window = MainWindow(open_settings(tmp / "settings"))
    window.resize(1400, 900)
    window.show()
    window.opener.open_sample()
    app.processEvents()
    measure(app, window, path, inline=False)  # warm-up: imports, first allocation
    rows: dict[str, list[tuple[float, float]]] = {"inline (before)": [], "background": []}
    for _ in range(args.repeats):
        for name in rows:
            rows[name].append(measure(app, window, path, inline=name.startswith("inline")))
    load = os.getloadavg()
    print(
        f"Opening a {w}x{h} JPEG ({path.stat().st_size / 2**20:.1f} MiB) in the studio window, "
        f"{args.repeats} runs each, offscreen Qt; {os.cpu_count()} cores, load {load[0]:.1f}"
    )
    print(f"{'way':>16} {'open s (median)':>16} {'longest stall ms (median)':>26} {'max':>8}")
    med = {}
    for name, r in rows.items():
        opens, stalls = [o for o, _ in r], [s for _, s in r]
        med[name] = statistics.median(stalls)
        print(
            f"{name:>16} {statistics.median(opens):>16.2f} {med[name] * 1000:>26.0f} "
            f"{max(stalls) * 1000:>8.0f}"
        )
    print(
        f"longest stall, background / inline: {med['background'] / med['inline (before)']:.2f} "
        "(what is left is set_document on the GUI thread: the canvas pyramid, the layer panel)"
    )
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
