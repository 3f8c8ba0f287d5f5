"""The studio generating on a remote server, for trying it and for the README screenshot.

Starts ``inpaint-studio-cli serve``'s server on a loopback port with a token (standing in for the
GPU box), with the *tiny random-weight* diffusion model built in code (no download: inside the
mask its pictures are noise, but every mechanism is the real one), points the window at it
(Generate ▸ Engine… ▸ Remote server), masks the spoon, and runs a long generation on the server:
progress and step previews arrive over the predictions API. The Engine dialog is shown beside it.

    xvfb-run -s "-screen 0 1600x1000x24" python -m tools.remote_demo \\
        --shot docs/screenshot-remote-engine.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QApplication


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shot", help="save a screenshot of the screen mid-generation, then quit")
    ap.add_argument("--size", default="1440x900")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))

    from desktop.generation.engine_settings import EngineDialog, EngineLocation, save_location
    from desktop.icons import app_icon
    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow
    from inpaint_core.service.config import ServiceConfig
    from inpaint_core.service.server import BackgroundServer
    from inpaint_core.testing import save_tiny_inpaint_model
    from tools.generation_demo import _wait
    from tools.screenshot import SPOON, paint_strokes

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inpaint Studio")
    app.setWindowIcon(app_icon())
    tmp = Path(tempfile.mkdtemp(prefix="inpaint-remote-demo-"))
    model = save_tiny_inpaint_model(tmp / "tiny-random-sd-inpaint")
    server = BackgroundServer(
        ServiceConfig(port=0, model=str(model), token="demo", discover_models=False)
    ).start()
    print(f"server at {server.url}")
    settings = open_settings(tmp / "settings")
    location = EngineLocation(remote=True, url=server.url, token="demo")
    save_location(settings, location)
    window = MainWindow(settings)
    window.setGeometry(0, 0, w, h)
    window.show()
    window.opener.open_sample()
    ctl = window.generation
    panel = ctl.panel
    _wait(lambda: window.isVisible(), 5)
    window.set_overlay_colour(QColor(40, 110, 255))
    window.canvas.fit()
    window.brush.set_hardness(0.7)
    paint_strokes(window, SPOON)
    window.edits.grow_mask(3)

    # the server's model, listed in the picker once the server answered (nothing local needed)
    slug = "inpaint-studio/stable-diffusion-inpainting"
    _wait(lambda: panel.model_combo.findData(slug) >= 0, 20)
    panel.picker.choose_model(slug)
    panel.prompt_edit.setPlainText("an empty saucer on a wooden table, soft window light")
    panel.steps_spin.setValue(400)
    panel.target_spin.setValue(256)
    panel.outputs_spin.setValue(2)
    panel.random_seed_check.setChecked(False)
    panel.seed_edit.setText("2024")
    previews: list[object] = []
    ctl.model.events.preview.connect(previews.append)
    job = ctl.generate()
    _wait(lambda: len(previews) >= 3 and window.canvas._preview is not None)
    _wait(lambda: job in ctl.model.jobs and ctl.model.jobs[job].step >= 30)  # a settled ETA

    dialog = EngineDialog(location, window)  # what Generate ▸ Engine… shows
    dialog.show()
    dialog.move(window.geometry().x() + 380, window.geometry().y() + 140)
    _wait(lambda: False, 1.0)
    if args.shot:
        QApplication.processEvents()
        screen = window.screen() or QGuiApplication.primaryScreen()
        shot = screen.grabWindow(0, 0, 0, w, h)  # the whole screen: the window and the dialog
        Path(args.shot).parent.mkdir(parents=True, exist_ok=True)
        shot.save(args.shot)
        print(f"saved {args.shot} ({shot.width()}x{shot.height()})")
        dialog.close()
        ctl.cancel()
        _wait(lambda: job not in ctl.model.jobs, 30)
        window.unsaved.mark_saved()
        window.close()
        server.stop()
        return 0
    code = app.exec()
    server.stop()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
