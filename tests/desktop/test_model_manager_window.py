"""The Model manager window against the loopback fake hub (tests/fake_hub.py): never a real
download. Download with progress to completion (on a worker thread), cancel keeps the part and a
re-download resumes it with a Range request, gated without a token and the licence gate give clear
messages, offline mode says so and makes no request, installed models listed and removed."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from desktop.models import downloads
from desktop.models.manager_window import OFFLINE_TEXT, ModelManagerWindow
from inpaint_core.models import manager
from tests.fake_hub import FakeHub, FakeRepo

UNET = "unet/diffusion_pytorch_model.safetensors"


def _folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def hub(tiny_model_dir, tmp_path, monkeypatch):
    hub = FakeHub(
        repos={
            "org/tiny-inpaint": FakeRepo(_folder_files(tiny_model_dir)),
            # the catalogue's SD 1.5 entry, served by the loopback hub with the tiny model's files
            "stable-diffusion-v1-5/stable-diffusion-inpainting": FakeRepo(
                _folder_files(tiny_model_dir)
            ),
            "gated/fill": FakeRepo({"model_index.json": b"{}"}, gated=True),
        }
    ).start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setenv("INPAINT_STUDIO_MODELS", str(tmp_path / "models"))
    yield hub
    hub.stop()
    from huggingface_hub import constants

    constants.HF_HUB_OFFLINE = True  # as the test session started (conftest)


@pytest.fixture
def win(qtbot, hub):
    w = ModelManagerWindow(confirm=lambda *_: True)
    qtbot.addWidget(w)
    w.show()
    yield w
    if w.job is not None:
        w.job.cancel()
        w.job.thread.join(10)


def _finish(qtbot, win, timeout=60000):
    qtbot.waitUntil(lambda: win.job is None, timeout=timeout)


def test_download_with_progress_on_a_worker_thread_then_listed(win, qtbot, hub, tmp_path):
    threads: list[threading.Thread] = []
    real = manager.download

    def spy(plan, **kw):
        threads.append(threading.current_thread())
        return real(plan, **kw)

    reports = []
    win.source_edit.setText("org/tiny-inpaint")
    assert win.download_source_button.isEnabled()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(downloads.manager, "download", spy)
        win.download_source_button.click()
        assert win.job is not None and win.progress_bar.isVisible()
        assert not win.download_source_button.isEnabled()  # one at a time
        win.job.progress.connect(reports.append)
        _finish(qtbot, win)
    assert threads and threads[0] is not threading.main_thread()
    dest = tmp_path / "models" / "tiny-inpaint"
    assert (dest / ".inpaint-studio-download.json").is_file()
    assert "Downloaded org/tiny-inpaint" in win.message
    last = win.last_progress
    assert last is not None and last.done == last.total > 0
    assert all(a.done <= b.done for a, b in zip(reports, reports[1:], strict=False))
    assert "of" in win.progress_bar.format() or not win.progress_bar.isVisible()
    # listed as installed, with its family
    names = [win.installed_table.item(r, 0).text() for r in range(win.installed_table.rowCount())]
    row = names.index("tiny-inpaint")
    assert win.installed_table.item(row, 1).text().startswith("SD 1.x")
    assert str(dest) in win.installed_table.item(row, 4).text()
    # removed from the list and the disk
    changed = []
    win.models_changed.connect(lambda: changed.append(1))
    win.installed_table.selectRow(row)
    win.remove_button.click()
    assert not dest.exists() and changed
    assert "tiny-inpaint" not in [
        win.installed_table.item(r, 0).text() for r in range(win.installed_table.rowCount())
    ]


def test_cancel_keeps_the_part_and_a_redownload_resumes(win, qtbot, hub, tmp_path):
    gate = threading.Event()
    real = manager.download

    def slow(plan, *, on_progress=None, **kw):
        def progress(p):
            on_progress(p)
            if p.file == UNET and not gate.is_set():
                gate.wait(10)  # hold the transfer mid-file until the test has clicked Cancel

        return real(plan, on_progress=progress, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(downloads.manager, "download", slow)
        win.source_edit.setText("org/tiny-inpaint")
        win.download_source_button.click()
        qtbot.waitUntil(
            lambda: win.last_progress is not None and win.last_progress.file == UNET,
            timeout=30000,
        )
        assert win.cancel_button.isEnabled()
        win.cancel_button.click()
        gate.set()
        _finish(qtbot, win)
    assert "cancelled" in win.message and "resume" in win.message
    dest = tmp_path / "models" / "tiny-inpaint"
    part = dest / ".partial" / (UNET.replace("/", "__") + ".part")
    assert part.is_file() and 0 < part.stat().st_size < len(
        hub.repos["org/tiny-inpaint"].files[UNET]
    )
    kept = part.stat().st_size
    assert not (dest / ".inpaint-studio-download.json").exists()
    win.download_source_button.click()
    _finish(qtbot, win)
    assert "Downloaded" in win.message
    gets = hub.file_gets(UNET)
    assert gets[-1].get("Range", gets[-1].get("range")) == f"bytes={kept}-"
    assert (dest / UNET).read_bytes() == hub.repos["org/tiny-inpaint"].files[UNET]


def test_a_catalogue_entry_downloads_by_name(win, qtbot, tmp_path):
    win.tabs.setCurrentIndex(1)
    names = [win.catalog_table.item(r, 0).text() for r in range(win.catalog_table.rowCount())]
    win.catalog_table.selectRow(names.index("sd15-inpainting"))
    assert win.download_button.isEnabled()
    win.download_button.click()
    _finish(qtbot, win)
    assert "Downloaded sd15-inpainting" in win.message
    assert (tmp_path / "models" / "sd15-inpainting" / "model_index.json").is_file()


def test_gated_repo_without_a_token_says_what_to_do(win, qtbot):
    win.source_edit.setText("gated/fill")
    win.download_source_button.click()
    _finish(qtbot, win)
    assert "gated repository" in win.message and "token" in win.message.lower()


def test_flux_fill_dev_needs_the_licence_accepted_first(win, qtbot, hub):
    win.tabs.setCurrentIndex(1)  # Download
    names = [win.catalog_table.item(r, 0).text() for r in range(win.catalog_table.rowCount())]
    assert {"sd15-inpainting", "sdxl-inpainting", "flux-fill-dev", "lcm-lora-sdxl"} <= set(names)
    win.catalog_table.selectRow(names.index("flux-fill-dev"))
    assert win.license_check.isVisibleTo(win) and "Non-Commercial" in win.license_check.text()
    assert not win.download_selected()
    assert "licence" in win.message.lower() or "license" in win.message.lower()
    assert "token" in win.message and hub.requests == []  # refused before any request
    win.catalog_table.selectRow(names.index("sd15-inpainting"))
    assert not win.license_check.isVisibleTo(win)


def test_offline_mode_says_so_and_makes_no_request(qtbot, hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    connects = []
    real = socket.socket.connect
    monkeypatch.setattr(
        socket.socket, "connect", lambda self, addr: (connects.append(addr), real(self, addr))[1]
    )
    w = ModelManagerWindow()
    qtbot.addWidget(w)
    w.show()
    assert w.offline_label.isVisible() and w.offline_label.text() == OFFLINE_TEXT
    w.source_edit.setText("org/tiny-inpaint")
    w.catalog_table.selectRow(0)
    assert not w.download_source_button.isEnabled() and not w.download_button.isEnabled()
    assert not w.start_download(downloads.DownloadRequest("org/tiny-inpaint"))
    assert "Offline" in w.message and w.job is None
    assert hub.requests == [] and connects == []


def test_models_menu_opens_the_manager_and_a_download_rescans_the_picker(qtbot, hub, monkeypatch):
    from PySide6.QtWidgets import QMainWindow

    from desktop.models.install import ModelsMenu

    window = QMainWindow()
    qtbot.addWidget(window)
    rescans = []
    menu = ModelsMenu(window, lambda: rescans.append(1))
    assert menu.menu.title() == "&Models"
    menu.manage_action.trigger()
    assert menu.manager is not None and menu.manager.isVisible()
    menu.manager.models_changed.emit()
    assert rescans == [1]


def test_the_studio_window_has_the_models_menu(window, qtbot, tiny_model_dir, monkeypatch):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Models") < titles.index("&Generate")
    models = tiny_model_dir.parent
    monkeypatch.setenv("INPAINT_STUDIO_MODELS", str(models))
    manager_window = window.models.show_manager()
    assert manager_window.isVisible() and manager_window.parent() is window
    manager_window.models_changed.emit()  # as after a download: the picker is rescanned
    assert str(tiny_model_dir) in window.generation.panel.picker.installed_models()
    manager_window.close()
