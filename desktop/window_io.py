"""The main window's ways in and out: open (file, URL, drop, paste, recent, sample) and export.

A mixin of :class:`desktop.main_window.MainWindow` (it uses the window's document, settings,
banner and status bar).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from inpaint_core.document import Document, export_mask, export_picture
from inpaint_core.errors import InpaintError
from inpaint_core.resources import sample_photo

from . import opening
from .settings import read

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff);;All files (*)"
EXPORT_FILTERS = {"PNG (*.png)": ".png", "JPEG (*.jpg *.jpeg)": ".jpg", "WebP (*.webp)": ".webp"}
LOAD_ERRORS = (InpaintError, OSError, ValueError)


class OpenExportMixin:
    # -- opening ------------------------------------------------------------------------------------

    def open_source(self, source: str | Path | bytes, name: str | None = None) -> bool:
        """Open a path, URL or bytes. A failure shows a message and keeps the open document."""
        from inpaint_core.imaging import load_image

        label = name or (Path(str(source)).name if not isinstance(source, bytes) else "image")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            loaded = load_image(source)
        except LOAD_ERRORS as exc:
            QApplication.restoreOverrideCursor()
            self.show_error(f"Could not open {label}: {exc}")
            return False
        QApplication.restoreOverrideCursor()
        self.set_document(Document.from_image(loaded, name))
        if isinstance(source, str | Path) and not str(source).lower().startswith(
            ("http://", "https://")
        ):
            opening.add_recent(self.settings, str(Path(source).resolve()))
        elif isinstance(source, str):
            opening.add_recent(self.settings, str(source))
        if loaded.notes:
            self.status.showMessage("; ".join(loaded.notes), 6000)
        self.banner.hide()
        return True

    def open_image(self, image: QImage, name: str = "Pasted image") -> bool:
        if image.isNull():
            self.show_error("The pasted image is empty.")
            return False
        rgb, alpha = opening.qimage_to_arrays(image)
        self.set_document(Document(rgb, alpha, name=name, source=name))
        self.banner.hide()
        return True

    def open_mime(self, mime, what: str = "drop") -> bool:
        payload = opening.payload_from_mime(mime)
        if payload.source:
            return self.open_source(payload.source)
        if payload.image is not None:
            return self.open_image(
                payload.image, "Pasted image" if what == "paste" else "Dropped image"
            )
        self.show_error(f"Nothing to open: {payload.problem}.")
        return False

    def open_sample(self) -> bool:
        return self.open_source(sample_photo(), "Sample photo")

    def open_dialog(self) -> None:
        start = read(self.settings, "paths/open_dir", str(Path.home()), str)
        path, _ = QFileDialog.getOpenFileName(self, "Open photo", start, IMAGE_FILTER)
        if path:
            self.settings.setValue("paths/open_dir", str(Path(path).parent))
            self.open_source(path)

    def open_url_dialog(self) -> None:
        url, ok = QInputDialog.getText(self, "Open URL", "Address of a photo (http or https):")
        if ok and url.strip():
            self.open_source(url.strip())

    def paste(self) -> bool:
        return self.open_mime(QGuiApplication.clipboard().mimeData(), "paste")

    def rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = opening.recent_files(self.settings)
        for path in files:
            act = self.recent_menu.addAction(Path(path).name if "://" not in path else path)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _c=False, p=path: self._open_recent(p))
        if not files:
            self.recent_menu.addAction("No recent photos").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction(
                "Clear List", lambda: self.settings.setValue("recent/files", [])
            )

    def _open_recent(self, path: str) -> None:
        if not self.open_source(path) and "://" not in path and not Path(path).exists():
            opening.remove_recent(self.settings, path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        event.acceptProposedAction()
        self.open_mime(event.mimeData(), "drop")

    # -- export -------------------------------------------------------------------------------------

    def _default_stem(self) -> str:
        return Path(self.doc.photo.name).stem if self.doc else "picture"

    def export_picture(self, path: str | Path) -> Path | None:
        if self.doc is None:
            return None
        try:
            out = export_picture(path, self.doc.flatten(), alpha=self.doc.photo.alpha)
        except (ValueError, OSError, InpaintError) as exc:
            self.show_error(f"Could not export: {exc}")
            return None
        self.status.showMessage(f"Exported {out}", 6000)
        return out

    def export_mask(self, path: str | Path) -> Path | None:
        if self.doc is None:
            return None
        try:
            out = export_mask(path, self.doc.mask)
        except (ValueError, OSError) as exc:
            self.show_error(f"Could not export the mask: {exc}")
            return None
        self.status.showMessage(f"Exported mask {out}", 6000)
        return out

    def _save_dialog(self, title: str, suggested: str, filters: dict[str, str]) -> str | None:
        start = read(self.settings, "paths/export_dir", str(Path.home()), str)
        path, chosen = QFileDialog.getSaveFileName(
            self, title, str(Path(start) / suggested), ";;".join(filters)
        )
        if not path:
            return None
        if not Path(path).suffix:
            path += filters.get(chosen, ".png")
        self.settings.setValue("paths/export_dir", str(Path(path).parent))
        return path

    def export_picture_dialog(self) -> None:
        if self.doc is not None:
            path = self._save_dialog(
                "Export picture", f"{self._default_stem()}-edited.png", EXPORT_FILTERS
            )
            if path:
                self.export_picture(path)

    def export_mask_dialog(self) -> None:
        if self.doc is not None:
            path = self._save_dialog(
                "Export mask", f"{self._default_stem()}-mask.png", {"PNG (*.png)": ".png"}
            )
            if path:
                self.export_mask(path)
