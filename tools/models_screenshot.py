"""Screenshots of the model features (for the README): run on a display, e.g. under Xvfb:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python -m tools.models_screenshot docs/

Everything is local and made here: a temp models folder holds tiny random-weight SD 1.5 and SDXL
inpainting models, a tiny plain (4-channel) model and three tiny kohya LoRAs (one named like a
few-step LCM LoRA); a loopback fake hub (tests/fake_hub.py) serves a tiny model for the download.

* ``screenshot-loras.png``: the studio window, the tiny SD model chosen, two LoRAs in the panel's
  LoRA list (the LCM one applied its few-step presets: the note under Strength);
* ``screenshot-model-manager.png``: Models ▸ Manage models…, the Download tab with a download
  from the fake hub caught half-way (the transfer is slowed here so the bar can be seen moving);
* ``screenshot-model-manager-installed.png``: the Installed tab.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget


def make_models(root: Path) -> dict[str, Path]:
    from inpaint_core.testing import (
        build_tiny_inpaint_pipeline,
        build_tiny_sdxl_inpaint_pipeline,
        save_tiny_inpaint_model,
        save_tiny_kohya_lora,
        save_tiny_sdxl_inpaint_model,
    )

    loras = root / "loras"
    loras.mkdir(parents=True, exist_ok=True)
    sd = build_tiny_inpaint_pipeline()
    out = {
        "sd": save_tiny_inpaint_model(root / "tiny-sd15-inpainting"),
        "sdxl": save_tiny_sdxl_inpaint_model(root / "tiny-sdxl-inpainting"),
        "plain": save_tiny_inpaint_model(root / "tiny-sd15-plain", in_channels=4),
        "style": save_tiny_kohya_lora(sd, loras / "watercolor-style.safetensors", seed=1),
        "lcm": save_tiny_kohya_lora(sd, loras / "lcm-lora-sdv1-5.safetensors", seed=2),
        "xl": save_tiny_kohya_lora(
            build_tiny_sdxl_inpaint_pipeline(), loras / "xl-detail.safetensors", seed=3
        ),
    }
    return out


def grab(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    screen = widget.screen() or QGuiApplication.primaryScreen()
    shot = screen.grabWindow(widget.winId())
    path.parent.mkdir(parents=True, exist_ok=True)
    shot.save(str(path))
    print(f"saved {path} ({shot.width()}x{shot.height()})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Screenshots of the LoRA list and the model manager.")
    ap.add_argument("out_dir", type=Path)
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="inpaint-models-shot-"))
    models_root = tmp / "models"
    made = make_models(models_root)
    os.environ["INPAINT_STUDIO_MODELS"] = str(models_root)

    from tests.fake_hub import FakeHub, FakeRepo

    files = {
        p.relative_to(made["sd"]).as_posix(): p.read_bytes()
        for p in sorted(made["sd"].rglob("*"))
        if p.is_file()
    }
    hub = FakeHub(repos={"demo/tiny-inpaint": FakeRepo(files)}).start()
    os.environ["HF_ENDPOINT"] = hub.url
    os.environ["HF_HUB_OFFLINE"] = "0"

    from desktop.icons import app_icon
    from desktop.settings import open_settings
    from desktop.window.main_window import MainWindow
    from inpaint_core.models import manager

    real_download = manager.download

    def slowed(plan, *, on_progress=None, **kw):  # a demo: slow enough to see the bar move
        def progress(p):
            on_progress(p)
            time.sleep(0.05)

        return real_download(plan, on_progress=progress, **kw)

    manager.download = slowed

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Inpaint Studio")
    app.setWindowIcon(app_icon())
    window = MainWindow(open_settings(tmp / "settings"))
    window.setGeometry(0, 0, 1440, 900)
    window.show()
    window.opener.open_sample()
    panel = window.generation.panel

    def stage_panel() -> None:
        window.generation.rescan_models()
        panel.picker.choose_model(str(made["sd"]))
        panel.prompt_edit.setPlainText("a watercolor lemon on the saucer")
        panel.lora_list.add(str(made["style"]), 0.8)
        panel.lora_list.add(str(made["lcm"]))
        window.docks["parametersDock"].raise_()
        # the LoRA list and the few-step note under Strength in view
        scroll = panel.findChild(QScrollArea)
        QTimer.singleShot(300, lambda: scroll.ensureWidgetVisible(panel.preset_note, 0, 8))
        QTimer.singleShot(800, shot_panel)

    def shot_panel() -> None:
        grab(window, args.out_dir / "screenshot-loras.png")
        manager_window = window.models.show_manager()
        manager_window.setGeometry(120, 80, 900, 560)
        manager_window.tabs.setCurrentIndex(1)
        manager_window.source_edit.setText("demo/tiny-inpaint")
        manager_window.download_source_button.click()
        QTimer.singleShot(100, lambda: wait_half(manager_window, time.monotonic()))

    def wait_half(mw, started) -> None:
        report = mw.last_progress
        if report is not None and report.done > 0.4 * report.total and report.eta_s:
            names = [mw.catalog_table.item(r, 0).text() for r in range(mw.catalog_table.rowCount())]
            mw.catalog_table.selectRow(names.index("flux-fill-dev"))
            QTimer.singleShot(200, lambda: shot_manager(mw))
        elif mw.job is None or time.monotonic() - started > 60:
            print("the download ended before it could be caught half-way", file=sys.stderr)
            shot_manager(mw)
        else:
            QTimer.singleShot(50, lambda: wait_half(mw, started))

    def shot_manager(mw) -> None:
        grab(mw, args.out_dir / "screenshot-model-manager.png")
        if mw.job is not None:
            mw.job.finished.connect(lambda _p: QTimer.singleShot(300, lambda: installed(mw)))
        else:
            installed(mw)

    def installed(mw) -> None:
        mw.tabs.setCurrentIndex(0)
        mw.refresh()
        QTimer.singleShot(300, lambda: finish(mw))

    def finish(mw) -> None:
        grab(mw, args.out_dir / "screenshot-model-manager-installed.png")
        mw.close()
        window.unsaved.mark_saved()
        window.close()
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        app.quit()

    QTimer.singleShot(800, stage_panel)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
