"""QA: the file dialogs (open photo, load mask, import layer, export, save as) did not start
in the folder last used. They go through desktop.file_dialogs: each kind starts in its own last
folder, else the last folder of any dialog; kept in the settings, so a new window (a restart)
starts there too."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from desktop.settings import open_settings
from desktop.window.main_window import MainWindow
from tests.desktop.conftest import open_and_wait


class Dialogs:
    """Stands in for QFileDialog's static functions: records where each one started and
    answers what the test queued (cancel by default)."""

    def __init__(self, monkeypatch):
        self.starts: list[tuple[str, str]] = []
        self.answers: list[str] = []
        for name in ("getOpenFileName", "getSaveFileName"):
            monkeypatch.setattr(QFileDialog, name, self._file(name))
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", self._folder)

    def _file(self, name):
        def ask(parent, title, start="", filters="", *rest):
            self.starts.append((title, start))
            answer = self.answers.pop(0) if self.answers else ""
            return answer, (filters.split(";;")[0] if answer else "")

        return ask

    def _folder(self, parent, title, start="", *rest):
        self.starts.append((title, start))
        return self.answers.pop(0) if self.answers else ""

    def last_start(self) -> Path:
        return Path(self.starts[-1][1])


@pytest.fixture
def dialogs(monkeypatch):
    return Dialogs(monkeypatch)


def test_every_dialog_starts_in_the_last_folder(window, dialogs, tmp_path, qtbot, settings_dir):
    photos, exports = tmp_path / "photos", tmp_path / "exports"
    photos.mkdir()
    exports.mkdir()
    photo = photos / "cup.png"
    Image.new("RGB", (64, 48), (120, 90, 60)).save(photo)

    dialogs.answers.append(str(photo))
    with qtbot.waitSignal(window.loader.finished, timeout=20000):
        window.opener.open_dialog()
    assert window.doc.size == (64, 48)

    window.edits.load_mask_dialog()  # cancelled: only where it started matters
    assert dialogs.last_start() == photos
    window.import_layer_dialog()
    assert dialogs.last_start() == photos
    window.exporter.export_picture_dialog()  # no export yet: the photo's folder
    assert dialogs.last_start() == photos / "cup-edited.png"
    assert window.ask_project_path("Save As") is None  # Save As, no project yet: same
    assert dialogs.last_start() == photos / "cup.ora"

    dialogs.answers.append(str(exports / "cup-edited.png"))
    window.exporter.export_picture_dialog()
    assert (exports / "cup-edited.png").is_file()
    window.exporter.export_mask_dialog()  # exports start where the last export went
    assert dialogs.last_start() == exports / "cup-mask.png"
    window.edits.load_mask_dialog()  # opening still starts among the photos
    assert dialogs.last_start() == photos

    # after a restart: the same folders (kept in the settings)
    window.settings.sync()
    again = MainWindow(open_settings(settings_dir))
    qtbot.addWidget(again)
    assert open_and_wait(qtbot, again, str(photo))
    dialogs.answers.clear()
    again.opener.open_dialog()
    assert dialogs.last_start() == photos
    again.exporter.export_picture_dialog()
    assert dialogs.last_start() == exports / "cup-edited.png"


def test_a_folder_gone_since_falls_back(window, dialogs, tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    dialogs.answers.append(str(gone / "a.png"))
    window.edits.load_mask_dialog()  # (no such file: an error message, the folder is kept)
    gone.rmdir()
    window.edits.load_mask_dialog()
    assert dialogs.last_start() == Path.home()


def test_a_photo_opened_without_the_dialog_moves_the_start_too(window, dialogs, tmp_path, qtbot):
    folder = tmp_path / "dropped"
    folder.mkdir()
    photo = folder / "drop.png"
    Image.new("RGB", (32, 32), (10, 20, 30)).save(photo)
    assert open_and_wait(qtbot, window, str(photo))  # a drop, or File ▸ Open Recent
    window.opener.open_dialog()
    assert dialogs.last_start() == folder


def test_the_bundled_sample_does_not_move_the_start(window, dialogs):
    # the window fixture opened the sample photo (a file inside the package)
    window.opener.open_dialog()
    assert dialogs.last_start() == Path.home()
