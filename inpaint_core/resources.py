"""Where bundled files live: the repository's ``resources/`` or, frozen, PyInstaller's bundle dir."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource(name: str) -> Path:
    path = resources_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"bundled resource missing: {path}")
    return path


def sample_photo() -> Path:
    return resource("sample.jpg")


def sample_mask() -> Path:
    return resource("sample_mask.png")
