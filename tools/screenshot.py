"""Screenshot of the real studio window (for the README): run it on a display, e.g. under Xvfb:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python -m tools.screenshot docs/screenshot-studio.png

It opens the sample photo, paints a mask over the spoon with real mouse events on the canvas (the
same path a user's hand takes), grows it, leaves the brush cursor over the photo, and grabs the
window from the screen. The settings go to a temp dir (the user's are not touched).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication

# the spoon in the sample photo: (brush size, stroke in photo pixels)
SPOON = [
    (16, [(412, 68), (409, 100), (404, 135), (398, 170), (390, 205), (383, 232), (378, 250)]),
    (
        30,
        [
            (350, 262),
            (372, 258),
            (390, 270),
            (394, 294),
            (384, 316),
            (364, 324),
            (346, 314),
            (338, 292),
            (346, 270),
        ],
    ),
    (30, [(352, 280), (376, 282), (374, 302), (356, 304)]),
]


def _send(
    canvas, kind, image_xy, button=Qt.MouseButton.NoButton, buttons=Qt.MouseButton.LeftButton
):
    pos = canvas.image_to_widget(*image_xy)
    ev = QMouseEvent(
        kind, pos, canvas.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(canvas, ev)


def paint_strokes(window, strokes) -> None:
    canvas = window.canvas
    for size, pts in strokes:
        window.brush.set_size(size)
        _send(canvas, QMouseEvent.Type.MouseButtonPress, pts[0], Qt.MouseButton.LeftButton)
        for p in pts[1:]:
            _send(canvas, QMouseEvent.Type.MouseMove, p)
            QApplication.processEvents()
        _send(
            canvas,
            QMouseEvent.Type.MouseButtonRelease,
            pts[-1],
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.NoButton,
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Grab a screenshot of the studio window.")
    ap.add_argument("out", type=Path)
    ap.add_argument("--size", default="1440x900")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))

    from desktop.icons import app_icon
    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inpaint Studio")
    app.setWindowIcon(app_icon())
    window = MainWindow(open_settings(tempfile.mkdtemp(prefix="inpaint-shot-")))
    window.setGeometry(0, 0, w, h)
    window.show()
    window.opener.open_sample()

    def stage() -> None:
        # View > Mask Overlay Colour: blue reads better than the default red on this red saucer
        window.set_overlay_colour(QColor(40, 110, 255))
        window.canvas.fit()
        window.brush.set_hardness(0.7)
        paint_strokes(window, SPOON)
        window.edits.grow_mask(3)
        window.brush.set_size(34)
        _send(
            window.canvas, QMouseEvent.Type.MouseMove, (470, 215), buttons=Qt.MouseButton.NoButton
        )
        window.layers.select_layer(window.doc.layers.index_of(window.doc.mask_layer))
        QTimer.singleShot(400, grab)

    def grab() -> None:
        QApplication.processEvents()
        screen = window.screen() or QGuiApplication.primaryScreen()
        shot = screen.grabWindow(window.winId())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shot.save(str(args.out))
        print(f"saved {args.out} ({shot.width()}x{shot.height()})")
        window.unsaved.mark_saved()  # a demo: nothing to keep, no "Save changes?" on close
        window.close()
        app.quit()

    QTimer.singleShot(600, stage)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
