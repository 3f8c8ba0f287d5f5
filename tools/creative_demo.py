"""Outpainting, masked content and seam scores in the real studio window (README screenshots).

    xvfb-run -s "-screen 0 1600x1000x24" python -m tools.creative_demo \\
        --outpaint docs/screenshot-outpaint.png \\
        --masked-content docs/screenshot-masked-content.png \\
        --seam docs/screenshot-seam-sorted.png

1. scikit-image's chelsea (a real photo) opened, Image ▸ Extend canvas… to 16:9 (classical
   pre-fill), filled by the classical engine and kept: the outpainted photo in the studio.
2. The sample photo with the spoon masked, the Parameters panel's "Masked content" list open.
3. Candidates from the tiny random-weight model (several seeds) and the classical engine, sorted
   by seam score (best first; the score is on every label).
Settings go to a temp dir; no weights are downloaded (the tiny model is built in code).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QApplication, QDockWidget, QMessageBox
from skimage import data

from tools.generation_demo import _grab, _wait


def _grab_screen_part(window, out: str) -> None:
    """The window's area of the whole screen (a combo's open list is its own window)."""
    QApplication.processEvents()
    screen = window.screen() or QGuiApplication.primaryScreen()
    g = window.frameGeometry()
    shot = screen.grabWindow(0).copy(QRect(g.x(), g.y(), g.width(), g.height()))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    shot.save(out)
    print(f"saved {out} ({shot.width()}x{shot.height()})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outpaint")
    ap.add_argument("--masked-content")
    ap.add_argument("--seam")
    ap.add_argument("--size", default="1440x900")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))

    from desktop.icons import app_icon
    from desktop.outpaint.dialog import ExtendChoice
    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow
    from inpaint_core.outpaint import extension_to_aspect
    from inpaint_core.testing import save_tiny_inpaint_model
    from tools.screenshot import SPOON, paint_strokes

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inpaint Studio")
    app.setWindowIcon(app_icon())
    tmp = Path(tempfile.mkdtemp(prefix="inpaint-creative-demo-"))
    window = MainWindow(open_settings(tmp / "settings"))
    window.unsaved.ask = lambda _action: QMessageBox.StandardButton.Discard  # a demo: no prompts
    window.setGeometry(0, 0, w, h)
    window.show()
    _wait(lambda: window.isVisible(), 5)
    ctl = window.generation
    panel, tray = ctl.panel, ctl.tray
    params = window.findChild(QDockWidget, "parametersDock")
    params.raise_()
    window.resizeDocks([params], [360], Qt.Orientation.Horizontal)
    window.set_overlay_colour(QColor(40, 110, 255))

    # 1. outpainting a real photo
    if args.outpaint:
        photo = tmp / "chelsea.png"
        Image.fromarray(data.chelsea()).save(photo)
        window.opener.open_source(str(photo))
        _wait(lambda: window.doc is not None and window.doc.photo.name == "chelsea.png", 30)
        panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("classical"))
        doc = window.doc
        ext = extension_to_aspect(doc.width, doc.height, "16:9")
        window.creative.extender.extend(ExtendChoice(ext, overlap=32, prefill="classical"))
        ctl.generate()
        _wait(lambda: tray.count() == 1)
        ctl.candidates.keep(tray.candidates()[0])
        window.actions.show_overlay.setChecked(False)
        window.canvas.fit()
        _wait(lambda: False, 0.6)
        _grab(window, args.outpaint)
        window.actions.show_overlay.setChecked(True)

    # 2. and 3. the sample photo, the spoon masked
    window.opener.open_sample()
    _wait(lambda: window.doc is not None and window.doc.photo.name != "chelsea.png", 30)
    window.canvas.fit()
    window.brush.set_hardness(0.7)
    paint_strokes(window, SPOON)
    window.edits.grow_mask(3)
    model = save_tiny_inpaint_model(tmp / "tiny-random-sd-inpaint")
    panel.picker.choose_model(str(model))
    panel.prompt_edit.setPlainText("")
    panel.steps_spin.setValue(8)
    panel.target_spin.setValue(256)
    panel.outputs_spin.setValue(4)
    panel.random_seed_check.setChecked(False)
    panel.seed_edit.setText("1234")
    combo = panel.masked_content_combo
    combo.setCurrentIndex(combo.findData("fill"))
    if args.masked_content:
        combo.setFocus()
        combo.showPopup()
        _wait(lambda: False, 0.8)
        _grab_screen_part(window, args.masked_content)
        combo.hidePopup()

    if args.seam:
        panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("classical"))
        ctl.generate()
        _wait(lambda: tray.count() == 1)
        panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("diffusion"))
        ctl.generate()
        _wait(lambda: tray.count() == 5, 600)
        cands = window.findChild(QDockWidget, "candidatesDock")
        cands.show()
        window.resizeDocks([cands], [230], Qt.Orientation.Vertical)
        tray.sort_by_seam()
        tray.select(tray.candidates()[0])
        _wait(lambda: False, 0.8)
        _grab(window, args.seam)
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
