"""A 16-bit scan in the studio, looked at on a real display (for docs/), e.g. under Xvfb:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python -m tools.sixteen_bit_demo docs/

It writes a 6000x4000 16-bit PNG (scikit-image's astronaut tiled, x257, plus random low bits: a
scan's worth of data, ~140 MB), opens it in the window, paints a mask with real mouse events, saves
it (File ▸ Save As, .ora) and grabs the window while the status bar shows the save's percentage
(``screenshot-save-progress.png``); then opens another picture, the project again, and says
whether the photo's 16-bit samples came back exactly (read from the file by OpenCV, not by us).
Settings, files and autosaves go to temp dirs. A photo file is limited to 50 MiB by default, so
the demo raises the limit (``INPAINT_MAX_MB``) as a user with big 16-bit scans does.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox
from skimage import data

from tools.screenshot import paint_strokes

os.environ.setdefault("INPAINT_MAX_MB", "512")

STROKES = [(120, [(2200, 1400), (2600, 1500), (3000, 1700), (3300, 2100)])]


def scan16(w: int = 6000, h: int = 4000) -> np.ndarray:
    rng = np.random.default_rng(0)
    tile = data.astronaut().astype(np.int64) * 257
    big = np.tile(tile, (-(-h // 512), -(-w // 512), 1))[:h, :w]
    return np.clip(big + rng.integers(-128, 129, big.shape), 0, 65535).astype(np.uint16)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="A 16-bit scan saved as a project, on screen.")
    ap.add_argument("out", type=Path, help="folder for the screenshot")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="inpaint-16bit-demo-"))
    os.environ["XDG_DATA_HOME"] = str(tmp / "xdg-data")  # autosaves: never the user's

    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow

    deep = scan16()
    scan = tmp / "scan16.png"
    ok, png = cv2.imencode(".png", np.ascontiguousarray(deep[..., ::-1]))
    assert ok
    scan.write_bytes(png.tobytes())
    print(f"wrote {scan.name}: {deep.shape[1]}x{deep.shape[0]} 16-bit, {scan.stat().st_size} bytes")
    del png

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inpaint Studio")
    window = MainWindow(open_settings(str(tmp / "settings")))
    window.unsaved.ask = lambda _a: QMessageBox.StandardButton.Discard
    window.setGeometry(0, 0, 1440, 900)
    window.show()
    project = tmp / "scan.ora"
    window.ask_project_path = lambda title="": project
    seen: list[int] = []
    state = {"shot": False, "t0": 0.0}

    def stage() -> None:
        t = time.perf_counter()
        assert window.opener.open_source(scan, wait=True), "the scan did not open"
        print(
            f"opened in {time.perf_counter() - t:.1f} s; 16-bit: {window.doc.photo.high_bits is not None}"
        )
        window.canvas.fit()
        paint_strokes(window, STROKES)
        window.saver.busy.bar.valueChanged.connect(seen.append)
        state["t0"] = time.perf_counter()
        assert window.save_project_as(), "Save As did not start"
        QTimer.singleShot(50, watch)

    def watch() -> None:
        bar = window.saver.busy.bar
        if window.saver.saving:
            if not state["shot"] and 35 <= bar.value() <= 80 and window.saver.busy.isVisible():
                state["shot"] = True
                QApplication.processEvents()
                screen = window.screen() or QGuiApplication.primaryScreen()
                shot = screen.grabWindow(window.winId())
                out = args.out / "screenshot-save-progress.png"
                shot.save(str(out))
                print(f"saved {out} at {bar.value()} % ({window.saver.busy.label.toolTip()!r})")
            QTimer.singleShot(20, watch)
            return
        took = time.perf_counter() - state["t0"]
        print(f"saved {project.name} in {took:.1f} s, {project.stat().st_size} bytes")
        print(f"bar values seen: {len(seen)}, from {min(seen)} to {max(seen)} %")
        QTimer.singleShot(100, reopen)

    def reopen() -> None:
        assert window.opener.open_sample(), "the sample did not open"
        assert window.opener.open_source(project, wait=True), "the project did not open"
        doc = window.doc
        print(
            f"reopened {project.name}: title {window.windowTitle()!r}, mask painted {doc.mask.any()}"
        )
        print(f"16-bit samples back exactly: {np.array_equal(doc.photo.rgb16(), deep)}")
        import zipfile

        with zipfile.ZipFile(project) as zf:
            layer = cv2.imdecode(np.frombuffer(zf.read("data/photo.png"), np.uint8), -1)
        print(
            f"the file's photo layer, read by OpenCV: {layer.dtype}, equal: "
            f"{np.array_equal(layer[..., ::-1], deep)}"
        )
        window.close()
        app.quit()

    QTimer.singleShot(600, stage)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
