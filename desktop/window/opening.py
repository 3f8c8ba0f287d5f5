"""Getting pictures in: QImage ↔ numpy, drag-and-drop / clipboard payloads, the recent-files list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QSettings, QUrl
from PySide6.QtGui import QImage

from desktop.settings import read

MAX_RECENT = 10


def qimage_to_arrays(image: QImage) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB (HxWx3 uint8) and alpha (HxW uint8, or None when opaque) copies of a QImage."""
    img = image.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    buf = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
    rgba = buf.reshape(h, img.bytesPerLine())[:, : w * 4].reshape(h, w, 4)
    rgb = np.ascontiguousarray(rgba[..., :3])
    alpha = rgba[..., 3]
    return rgb, (None if int(alpha.min()) == 255 else np.ascontiguousarray(alpha))


@dataclass
class Payload:
    """What a drop or the clipboard offers: a path/URL to load, or an image already decoded."""

    source: str | None = None
    image: QImage | None = None
    problem: str = ""


def payload_from_mime(mime: QMimeData) -> Payload:
    if mime.hasUrls():
        for url in mime.urls():
            if url.isLocalFile():
                return Payload(source=url.toLocalFile())
            if url.scheme().lower() in ("http", "https"):
                return Payload(source=url.toString())
        return Payload(problem="only files and http(s) links can be opened")
    if mime.hasImage():
        image = mime.imageData()
        if isinstance(image, QImage) and not image.isNull():
            return Payload(image=image)
    if mime.hasText():
        text = mime.text().strip().splitlines()[0].strip() if mime.text().strip() else ""
        url = QUrl(text)
        if text.lower().startswith(("http://", "https://")):
            return Payload(source=text)
        if url.isLocalFile():
            return Payload(source=url.toLocalFile())
        if text and Path(text).expanduser().is_file():
            return Payload(source=str(Path(text).expanduser()))
    return Payload(problem="the clipboard or drop holds no image, file or link")


def recent_files(settings: QSettings) -> list[str]:
    value = read(settings, "recent/files", [], list)
    return [str(v) for v in value if str(v)][:MAX_RECENT]


def add_recent(settings: QSettings, path: str) -> list[str]:
    files = [path] + [p for p in recent_files(settings) if p != path]
    files = files[:MAX_RECENT]
    settings.setValue("recent/files", files)
    return files


def remove_recent(settings: QSettings, path: str) -> None:
    settings.setValue("recent/files", [p for p in recent_files(settings) if p != path])
