"""Generation in the real studio window, for trying it and for the README screenshots.

Opens the sample photo, masks the spoon with real mouse strokes, fills it once with the classical
engine (no weights), then generates on the *tiny random-weight* diffusion model built in code (no
download: inside the mask its pictures are noise, but every mechanism is the real one: the model
loaded on the worker thread, progress, step previews in the masked region, candidates, keep).

    python -m tools.generation_demo                                   # interactive
    xvfb-run -s "-screen 0 1600x1000x24" python -m tools.generation_demo \\
        --generating docs/screenshot-generating.png --candidates docs/screenshot-candidates.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QApplication, QDockWidget


def _wait(until, timeout_s: float = 120.0) -> None:
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(20)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)

    def check() -> None:
        if until():
            loop.quit()

    timer.timeout.connect(check)
    timer.start()
    deadline.start(int(timeout_s * 1000))
    if not until():
        loop.exec()
    timer.stop()


def _grab(window, out: str) -> None:
    QApplication.processEvents()
    screen = window.screen() or QGuiApplication.primaryScreen()
    shot = screen.grabWindow(window.winId())
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    shot.save(out)
    print(f"saved {out} ({shot.width()}x{shot.height()})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generating", help="save a screenshot taken mid-generation as this PNG")
    ap.add_argument("--candidates", help="save a screenshot with candidates as this PNG, then quit")
    ap.add_argument("--size", default="1440x900")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))

    from desktop.icons import app_icon
    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow
    from inpaint_core.testing import save_tiny_inpaint_model
    from tools.screenshot import SPOON, paint_strokes

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inpaint Studio")
    app.setWindowIcon(app_icon())
    tmp = tempfile.mkdtemp(prefix="inpaint-generation-demo-")
    model = save_tiny_inpaint_model(Path(tmp) / "tiny-random-sd-inpaint")
    window = MainWindow(open_settings(Path(tmp) / "settings"))
    window.setGeometry(0, 0, w, h)
    window.show()
    window.opener.open_sample()
    ctl = window.generation
    panel, tray = ctl.panel, ctl.tray
    _wait(lambda: window.isVisible(), 5)

    # the picture and its mask, as a user makes them
    window.set_overlay_colour(QColor(40, 110, 255))
    window.canvas.fit()
    window.brush.set_hardness(0.7)
    paint_strokes(window, SPOON)
    window.edits.grow_mask(3)
    params = window.findChild(QDockWidget, "parametersDock")
    params.raise_()
    window.resizeDocks([params], [340], Qt.Orientation.Horizontal)
    window.resizeDocks(
        [params, window.findChild(QDockWidget, "historyDock")], [620, 110], Qt.Orientation.Vertical
    )

    # 1. the classical engine (no model): one fill
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("classical"))
    panel.padding_spin.setValue(48)
    ctl.generate()
    _wait(lambda: tray.count() == 1)

    # 2. the diffusion engine on the tiny random model: 3 seeds
    panel.picker.choose_model(str(model))
    panel.prompt_edit.setPlainText("an empty saucer on a wooden table, soft window light")
    panel.negative_edit.setPlainText("spoon, blurry, lowres")
    panel.scheduler_combo.setCurrentText("DPM++ 2M Karras")
    panel.steps_spin.setValue(20)
    panel.target_spin.setValue(256)
    panel.outputs_spin.setValue(3)
    panel.random_seed_check.setChecked(False)
    panel.seed_edit.setText("1234")
    ctl.generate()
    _wait(lambda: tray.count() == 4)
    window.resizeDocks(
        [window.findChild(QDockWidget, "candidatesDock")], [200], Qt.Orientation.Vertical
    )

    # 3. mid-generation: a long run, grabbed when a step preview is on the canvas
    if args.generating:
        ctl.engine_cache.preview_interval_s = 0.05
        panel.scheduler_combo.setCurrentText("UniPC")
        panel.steps_spin.setValue(500)
        panel.outputs_spin.setValue(2)
        panel.seed_edit.setText("2024")
        previews: list[int] = []
        conn = ctl.bridge.preview_ready.connect(lambda *_: previews.append(1))
        job = ctl.generate()
        _wait(lambda: len(previews) >= 3 and window.canvas._preview is not None)
        _wait(lambda: False, 1.2)
        _grab(window, args.generating)
        ctl.bridge.preview_ready.disconnect(conn)
        ctl.cancel()
        _wait(lambda: job not in ctl.model.jobs, 30)

    # 4. candidates: two more seeds on another scheduler, then the classical fill previewed in
    # place, ready to keep
    panel.scheduler_combo.setCurrentText("K_EULER_ANCESTRAL")
    panel.steps_spin.setValue(12)
    panel.outputs_spin.setValue(2)
    panel.seed_edit.setText("77")
    count = tray.count()
    ctl.generate()
    _wait(lambda: tray.count() == count + 2)
    tray.select(tray.candidates()[0])
    _wait(lambda: False, 0.6)
    if args.candidates:
        _grab(window, args.candidates)
    if args.generating or args.candidates:
        window.close()
        return 0
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
