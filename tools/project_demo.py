"""The studio's projects looked at on a real display (for docs/ and the README), e.g. under Xvfb:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python -m tools.project_demo docs/

It opens the sample photo, paints the spoon's mask with real mouse events, imports a picture as a
layer, saves the project (File ▸ Save As, .ora), opens it again in the window and grabs
``screenshot-project.png``; reads the same file with pyora (a third-party OpenRaster reader) and
prints its layers; then leaves an autosave as a crashed session would and grabs the Recover dialog
(``screenshot-recover.png``) before restoring it. Settings, projects and autosaves go to temp dirs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox
from skimage import data

from tools.screenshot import SPOON, paint_strokes


def _grab(widget, out: Path) -> None:
    QApplication.processEvents()
    screen = widget.screen() or QGuiApplication.primaryScreen()
    shot = screen.grabWindow(widget.winId())
    shot.save(str(out))
    print(f"saved {out} ({shot.width()}x{shot.height()})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Screenshots of projects and crash recovery.")
    ap.add_argument("out", type=Path, help="folder for the screenshots")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="inpaint-project-demo-"))
    os.environ["XDG_DATA_HOME"] = str(tmp / "xdg-data")  # autosaves: never the user's

    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow
    from inpaint_core.autosave import Autosaver
    from inpaint_core.saving import open_document

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inpaint Studio")
    window = MainWindow(open_settings(str(tmp / "settings")))
    window.unsaved.ask = lambda _a: QMessageBox.StandardButton.Discard
    window.setGeometry(0, 0, 1440, 900)
    window.show()
    window.opener.open_sample()
    project = tmp / "spoon.ora"

    def stage() -> None:
        window.set_overlay_colour(QColor(40, 110, 255))
        window.canvas.fit()
        window.brush.set_hardness(0.7)
        paint_strokes(window, SPOON)
        window.edits.grow_mask(3)
        coffee = tmp / "coffee.png"
        Image.fromarray(data.coffee()[100:260, 150:390]).save(coffee)
        window.import_layer_file(coffee)
        assert window.save_project(project, wait=True), "the save failed"
        print(f"saved {project} ({project.stat().st_size} bytes)")
        window.opener.open_sample()  # something else, then the project again
        assert window.opener.open_source(project, wait=True)
        window.canvas.fit()
        window.docks["layersDock"].raise_()
        QTimer.singleShot(500, shoot_project)

    def shoot_project() -> None:
        _grab(window, args.out / "screenshot-project.png")
        import pyora

        ora = pyora.Project.load(str(project))
        print(f"pyora reads {project.name}: {ora.dimensions[0]}x{ora.dimensions[1]}")
        for layer in ora.children:
            print(f"  layer {layer.name!r} visible={layer.visible} opacity={layer.opacity}")
        ours = open_document(project).document
        bottom = ora.children[-1]  # stack.xml lists the top layer first: the photo is last
        pixels = np.asarray(bottom.get_image_data(raw=True).convert("RGB"))
        print(
            f"  {bottom.name!r} pixels equal to the photo: {np.array_equal(pixels, ours.photo.rgb)}"
        )
        # a crashed session's autosave: the document as it is now, the lock released unclean
        crashed = Autosaver(window.autosave.autosaver.folder)
        crashed.watch(ours, name="spoon.ora", saved_path=str(project))
        crashed.save_now(ours).result(60)
        crashed.close(clean=False)
        window.offer_recovery(show_dialog)

    def show_dialog(dialog) -> None:
        dialog.show()
        dialog.resize(620, 420)
        for _ in range(20):
            QApplication.processEvents()
        QTimer.singleShot(
            300,
            lambda: (
                _grab(dialog, args.out / "screenshot-recover.png"),
                dialog.restore_all_button.click(),
            ),
        )
        dialog.exec()
        print(f"restored: {[r.name for r in dialog.restore]}")
        QTimer.singleShot(200, finish)

    def finish() -> None:
        window.close()
        app.quit()

    QTimer.singleShot(600, stage)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
