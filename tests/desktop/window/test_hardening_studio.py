"""Hardening of the studio: metadata is read on the loading thread (never the GUI thread), a
symlink loop on the command line does not crash the start, the document stays on a bad file."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
from PIL import Image, PngImagePlugin

from inpaint_core import metadata
from tests.desktop.conftest import open_and_wait

A1111 = "a teapot\nSteps: 12, Sampler: Euler a, CFG scale: 5, Seed: 9, Size: 512x512"


def test_metadata_is_parsed_off_the_gui_thread(window, qtbot, tmp_path, monkeypatch):
    threads: list[threading.Thread] = []
    real = metadata.parameters_from_text

    def spy(text, *args, **kwargs):
        threads.append(threading.current_thread())
        return real(text, *args, **kwargs)

    monkeypatch.setattr(metadata, "parameters_from_text", spy)
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111)
    path = tmp_path / "a1111.png"
    Image.fromarray(np.full((64, 96, 3), 120, np.uint8)).save(path, pnginfo=info)

    assert open_and_wait(qtbot, window, str(path))
    assert threads, "the parameters were not read at all"
    assert threading.main_thread() not in threads, "parameters parsed on the GUI thread"
    ctl = window.generation
    assert ctl.panel.offer_frame.isVisibleTo(ctl.panel)
    assert ctl.files._offered.seed == 9 and ctl.files._offered.steps == 12


def test_a_deeply_nested_metadata_chunk_is_no_error_in_the_window(window, qtbot, tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("inpaint_studio", "[" * 50_000 + "]" * 50_000, zip=True)
    path = tmp_path / "deep.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(path, pnginfo=info)
    assert open_and_wait(qtbot, window, str(path))
    assert window.doc.parameters is None
    assert not window.generation.panel.offer_frame.isVisibleTo(window.generation.panel)


def test_a_symlink_loop_on_the_command_line_does_not_crash_the_start(
    qtbot, settings_dir, tmp_path, monkeypatch
):
    from desktop import app

    loop = tmp_path / "loop.png"
    os.symlink(loop, loop)
    window = app.create_window([str(loop), "--settings-dir", str(settings_dir)])
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=20000)
    assert window.isVisible()
    assert "loop.png" in window.banner.label.text()  # a message in the window, which stays


def test_a_fifo_opened_in_the_studio_is_a_message_not_a_hang(window, qtbot, tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    before = window.doc
    try:
        assert not open_and_wait(qtbot, window, str(fifo), timeout=10000)
    finally:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert window.doc is before


def test_the_studio_cleans_stale_temp_files_of_its_export_folder_at_start(
    qtbot, settings_dir, tmp_path
):
    from desktop import app
    from desktop.settings import open_settings
    from inpaint_core.files import STALE_AFTER_S, TEMP_MARK

    exports = tmp_path / "exports"
    exports.mkdir()
    stale = exports / f".picture.png{TEMP_MARK}x1.tmp"
    stale.write_bytes(b"half")
    old = time.time() - 2 * STALE_AFTER_S
    os.utime(stale, (old, old))
    keep = exports / "picture.png"
    keep.write_bytes(b"png")
    settings = open_settings(str(settings_dir))
    settings.setValue("paths/export_dir", str(exports))
    settings.sync()
    window = app.create_window(["--settings-dir", str(settings_dir)])
    qtbot.addWidget(window)
    assert not stale.exists() and keep.exists()
