"""Shared by the service tests: small real photos and masks as files, a server on a thread."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from inpaint_core.service.config import ServiceConfig
from inpaint_core.service.server import BackgroundServer

SIZE = 96


def photo_and_mask(folder: Path, size: int = SIZE) -> tuple[Path, Path]:
    """The astronaut at ``size``² (PNG) and a rectangle mask over part of it."""
    photo = Image.fromarray(data.astronaut()).resize((size, size), Image.LANCZOS)
    mask = np.zeros((size, size), np.uint8)
    mask[size // 4 : size // 2, size // 3 : 2 * size // 3] = 255
    p, m = folder / "photo.png", folder / "mask.png"
    photo.save(p)
    Image.fromarray(mask).save(m)
    return p, m


def png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def read_png(blob: bytes) -> tuple[np.ndarray, dict[str, str]]:
    im = Image.open(io.BytesIO(blob))
    im.load()
    return np.asarray(im.convert("RGB")), dict(im.text)


def start_server(**config) -> BackgroundServer:
    engine_factory = config.pop("engine_factory", None)
    config.setdefault("port", 0)
    config.setdefault("discover_models", False)
    return BackgroundServer(ServiceConfig(**config), engine_factory=engine_factory).start()
