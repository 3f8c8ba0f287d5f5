"""Where the window keeps its settings (geometry, docks, recent files, brush, overlay).

An INI file under the platform's config dir, or under ``$INPAINT_STUDIO_SETTINGS_DIR`` (tests point
it at a temp dir so nothing leaks between runs). INI values come back as ``str`` in a new process:
read them with :func:`read` (``type=`` always).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QSettings

SETTINGS_DIR_ENV = "INPAINT_STUDIO_SETTINGS_DIR"
T = TypeVar("T")


def settings_dir() -> Path:
    override = os.environ.get(SETTINGS_DIR_ENV, "").strip()
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("inpaint-studio", appauthor=False))


def open_settings(directory: str | os.PathLike[str] | None = None) -> QSettings:
    path = Path(directory) if directory is not None else settings_dir()
    path.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path / "studio.ini"), QSettings.Format.IniFormat)


def read(settings: QSettings, key: str, default: T, kind: type | None = None) -> T:
    """``settings.value`` with ``type=`` always given; a malformed value gives ``default``."""
    kind = kind or type(default)
    try:
        value: Any = settings.value(key, default, type=kind)
    except (TypeError, ValueError):
        return default
    return default if value is None else value
