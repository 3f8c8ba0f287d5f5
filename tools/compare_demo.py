"""A compare sweep in the real studio window, for trying the view and for the README screenshot.

Opens the sample photo with its mask (the spoon) and sweeps 4 seeds × 3 schedulers on the *tiny
random-weight* model built in code (no download): the pictures inside the mask are noise, but every
mechanism is the real one — the model loaded once on the worker thread, rows batched, cells
streaming in, the shared zoom, the large A/B view.

    python -m tools.compare_demo                      # interactive
    python -m tools.compare_demo --screenshot docs/screenshot-compare.png [--large]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPointF, QTimer
from PySide6.QtWidgets import QApplication


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--screenshot", help="save the compare window as this PNG and quit")
    ap.add_argument("--large", action="store_true", help="screenshot the large A/B view")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--size", type=int, default=192, help="working grid long side")
    args = ap.parse_args(argv)

    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow
    from inpaint_core.request import InpaintRequest
    from inpaint_core.resources import sample_mask
    from inpaint_core.sweep import plan_sweep
    from inpaint_core.testing import save_tiny_inpaint_model

    app = QApplication.instance() or QApplication([sys.argv[0]])
    tmp = tempfile.TemporaryDirectory()
    model = save_tiny_inpaint_model(Path(tmp.name) / "tiny-sd-inpaint")
    window = MainWindow(open_settings(Path(tmp.name) / "settings"))
    window.resize(1280, 800)
    window.show()
    window.opener.open_sample()
    window.edits.load_mask(sample_mask())
    base = InpaintRequest(
        engine="diffusion",
        model=str(model),
        prompt="an empty saucer, wooden table",
        negative_prompt="spoon",
        steps=args.steps,
        target_size=args.size,
        seed=1234,
        safety_checker=False,
    )
    plan = plan_sweep(base, seeds=4, schedulers=["DDIM", "K_EULER", "DPMSolverMultistep"])
    # one ordinary generation first: it loads the model on the worker, and the compare action
    # learns this machine's time per step from it, so the sweep's "about T" is a measured guess
    bridge = window.compare.bridge()
    loop = QEventLoop()
    bridge.job_finished.connect(lambda _job: loop.quit())
    bridge.submit(plan.cells[0].request, window.doc.display_rgb().copy(), window.doc.mask.copy())
    loop.exec()
    view = window.compare.open(plan=plan, exec_dialog=False)
    if view is None:
        return 1
    view.resize(1180, 980)
    if not args.screenshot:
        return app.exec()

    loop = QEventLoop()
    view.sweep_done.connect(lambda _n: loop.quit())
    QTimer.singleShot(600_000, loop.quit)
    loop.exec()
    # a picked cell and a kept one; every cell zoomed in on the spoon's bowl, identically
    view.select(2)
    view.keep_current()
    view.select(5)
    pane = view.cells[5]
    view.view.zoom_at(
        1.35, QPointF(pane.width() * 0.5, pane.height() * 0.7), pane.size(), pane.image_size()
    )
    if args.large:
        view.open_large(6)
        view.wipe.set_divider(0.45)
    for _ in range(10):
        app.processEvents()
    Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
    ok = view.grab().save(args.screenshot)
    print(f"{'saved' if ok else 'could not save'} {args.screenshot}: {view.status_label.text()}")
    view.close()
    window.unsaved.mark_saved()  # a demo: nothing to keep, no "Save changes?" on close
    window.close()
    tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
