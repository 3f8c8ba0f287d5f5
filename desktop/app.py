"""Entry point of the ``inpaint-studio`` GUI script: ``inpaint-studio [photo-or-url]``."""

from __future__ import annotations

import argparse
import multiprocessing
import sys

from PySide6.QtGui import QImageReader
from PySide6.QtWidgets import QApplication

from desktop import testhooks
from desktop.icons import app_icon
from desktop.settings import open_settings
from desktop.window.autosave import AutosaveService
from desktop.window.main_window import APP_NAME, MainWindow
from inpaint_core.files import clean_stale_temp_files


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="inpaint-studio", description="Inpaint Studio: paint a mask, fill it."
    )
    parser.add_argument(
        "photo", nargs="?", help="a photo to open (path or http(s) URL); default: the sample photo"
    )
    parser.add_argument("--settings-dir", help="keep the window's settings in this folder")
    return parser.parse_args(argv)


def create_window(argv: list[str]) -> MainWindow:
    """The application object (if none yet) and a shown main window with the photo (or sample) open."""
    args = parse_args(argv)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "inpaint-studio"])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("Inpaint Studio")
    app.setWindowIcon(app_icon())
    # photos are decoded by inpaint_core (Pillow); this only matters for clipboard/drop images
    QImageReader.setAllocationLimit(2048)
    # one autosave per app: its session lock tells a crashed studio from a running one
    autosave = AutosaveService(parent=app)
    window = MainWindow(open_settings(args.settings_dir), autosave)
    app.aboutToQuit.connect(lambda: autosave.close(clean=True))  # a clean exit: nothing to recover
    window.show()
    export_dir = window.settings.value("paths/export_dir", "", type=str)
    if export_dir:  # leftovers of a save killed mid-write (our temp files only, a day old)
        clean_stale_temp_files(export_dir)
    if args.photo:
        window.opener.open_source(
            args.photo
        )  # a bad file: a message in the window, which stays open
    else:
        window.opener.open_sample()
    hooks = testhooks.from_env()  # tests only: none unless an INPAINT_STUDIO_TEST_* is set
    ask = hooks.answer_recovery if hooks is not None else None
    window.offer_recovery(ask)  # after an unclean exit: the Recover dialog
    if hooks is not None:
        hooks.install(window)
    return window


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    window = create_window(sys.argv[1:] if argv is None else list(argv))
    code = QApplication.instance().exec()
    del window
    return code


if __name__ == "__main__":
    raise SystemExit(main())
