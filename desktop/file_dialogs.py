"""The file dialogs' starting folder, in one place.

Every open / save / folder dialog of the studio goes through here: it starts in the folder the
user last used for that kind of file (:data:`KINDS`), else in the last folder of any dialog, else
in the home folder. The folders are kept in the settings (QSettings), so they are the same for the
whole session and after a restart. Models get kinds of their own: they live apart from photos
(often one folder per kind of model), and picking one must not move where photos open.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from desktop.settings import read

#: the last folder of any dialog
LAST_KEY = "paths/last_dir"
#: the kinds of dialog, each with its own last folder
KINDS = (
    "open",  # photos, masks, layers to open
    "export",  # pictures, masks, layers written out
    "project",  # .ora projects
    "model",  # Stable Diffusion checkpoints and diffusers model folders (the model picker)
    "lora",  # LoRA weights
    "erase_model",  # LaMa / MI-GAN TorchScript files
    "smart_mask_model",  # Segment Anything model folders
    "compare",  # Compare's contact sheets and exported cells
)


def _key(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind of file dialog {kind!r} (one of {', '.join(KINDS)})")
    return f"paths/{kind}_dir"


def start_folder(settings: QSettings, kind: str) -> Path:
    """Where a ``kind`` dialog starts: its last folder, the last of any dialog, or home (a
    remembered folder that is gone since is skipped)."""
    for key in (_key(kind), LAST_KEY):
        folder = read(settings, key, "", str)
        if folder and Path(folder).is_dir():
            return Path(folder)
    return Path.home()


def remember(settings: QSettings, kind: str, path: str | Path, *, is_folder: bool = False) -> None:
    """``path`` was chosen in a ``kind`` dialog: its folder is where the next one starts."""
    folder = str(Path(path) if is_folder else Path(path).parent)
    settings.setValue(_key(kind), folder)
    settings.setValue(LAST_KEY, folder)


def open_file(
    parent: QWidget | None, settings: QSettings, kind: str, title: str, filters: str
) -> str:
    """An existing file to open ("" when cancelled)."""
    path, _ = QFileDialog.getOpenFileName(parent, title, str(start_folder(settings, kind)), filters)
    if path:
        remember(settings, kind, path)
    return path


def save_file(
    parent: QWidget | None,
    settings: QSettings,
    kind: str,
    title: str,
    suggested: str,
    filters: str,
) -> tuple[str, str]:
    """A file to write, suggested as ``suggested`` in the start folder: (path, chosen filter);
    ("", "") when cancelled."""
    start = start_folder(settings, kind) / suggested
    path, chosen = QFileDialog.getSaveFileName(parent, title, str(start), filters)
    if not path:
        return "", ""
    remember(settings, kind, path)
    return path, chosen


def choose_folder(
    parent: QWidget | None, settings: QSettings, kind: str, title: str, *, item: bool = False
) -> str:
    """An existing folder ("" when cancelled). ``item``: the folder is itself the thing picked
    (a diffusers model folder), so the next dialog starts in the folder that holds it, beside
    its siblings, rather than inside it."""
    folder = QFileDialog.getExistingDirectory(parent, title, str(start_folder(settings, kind)))
    if folder:
        remember(settings, kind, folder, is_folder=not item)
    return folder
