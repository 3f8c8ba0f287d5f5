"""The main window's ways in and out: open (file, URL, drop, paste, recent, sample) and export.

Two objects the main window makes: :class:`Opener` and :class:`Exporter`, each given what it
uses in its constructor.

Opening never blocks the window: the photo is read and decoded on a background thread
(:mod:`desktop.window.loader`) while the status bar shows "Opening photo.jpg…" with Cancel, and the open
document stays until the new one has loaded (a failure shows a message and keeps it). The newest
request wins: opening another photo while one loads forgets the first. Unsaved changes are asked
about before a load starts, and again when it lands if the picture changed in the meantime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QMimeData, QSettings
from PySide6.QtGui import QGuiApplication, QImage, QUndoStack
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from desktop import file_dialogs
from desktop.canvas.canvas import Canvas
from desktop.widgets import Banner
from desktop.window import opening
from desktop.window.loader import LoadControl, LoadOutcome, PhotoLoader
from desktop.window.status import StatusBar
from inpaint_core.candidates import Candidate
from inpaint_core.document import Document, export_mask
from inpaint_core.errors import InpaintError
from inpaint_core.imaging import load_image
from inpaint_core.project import is_project_path
from inpaint_core.resources import sample_photo
from inpaint_core.saving import open_document, save_document

IMAGE_FILTER = (
    "Photos and projects (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.ora);;"
    "Inpaint Studio projects (*.ora);;All files (*)"
)
EXPORT_FILTERS = {"PNG (*.png)": ".png", "JPEG (*.jpg *.jpeg)": ".jpg", "WebP (*.webp)": ".webp"}
LOAD_ERRORS = (InpaintError, OSError, ValueError)


def _is_url(source: object) -> bool:
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


@dataclass
class _Opened:
    """What the loading thread made: the new document (built there too) and the loader's notes."""

    doc: Document
    notes: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()  # a project's candidate history
    saved_path: str | None = None  # a project: File ▸ Save writes it back there


@dataclass
class _Opening:
    """What the window needs when the photo lands."""

    label: str
    recent: str | None  # what goes on the recent list
    history_mark: int  # the history's change count when unsaved work was settled


SetDocument = Callable[..., None]  # MainWindow.set_document(doc, *, candidates, saved_path)


class Opener:
    """File ▸ Open, Open URL, Open Recent, the sample, paste and drop: loads on ``loader``'s
    background thread and shows the result with ``set_document``.

    ``parent``: the dialogs' parent; ``settle_unsaved(action)``: may the picture be replaced (the
    unsaved-work question); ``stack``: the undo history (a change while loading is asked about
    again); ``canvas``: a load that lands mid-stroke waits for the stroke's end; ``status``,
    ``banner``, ``show_error``: what the user sees.
    """

    def __init__(
        self,
        parent: QWidget,
        settings: QSettings,
        loader: PhotoLoader,
        status: StatusBar,
        banner: Banner,
        stack: QUndoStack,
        canvas: Canvas,
        settle_unsaved: Callable[[str], bool],
        set_document: SetDocument,
        show_error: Callable[[str], None],
    ) -> None:
        self._parent, self.settings, self.loader = parent, settings, loader
        self.status, self.banner = status, banner
        self.settle_unsaved, self.set_document, self.show_error = (
            settle_unsaved,
            set_document,
            show_error,
        )
        self.loader.finished.connect(self._open_finished)
        self.loader.busy_changed.connect(self._loading_changed)
        self.loader.progress.connect(self.status.busy.set_progress)
        self.status.busy.cancel_requested.connect(self.cancel_open)
        self._history_mark = 0
        stack.indexChanged.connect(self._history_moved)
        self._stroke_hold = False
        canvas.stroke_active_changed.connect(self._hold_during_stroke)

    def _history_moved(self, _index: int) -> None:
        self._history_mark += 1

    def _hold_during_stroke(self, active: bool) -> None:
        """A photo that loads while the brush is down lands when the stroke ends (then the stroke
        is on the history, and asked about like any other change)."""
        if active and not self._stroke_hold:
            self.loader.hold()
        elif not active and self._stroke_hold:
            self.loader.release()
        self._stroke_hold = active

    @property
    def is_loading(self) -> bool:
        """A photo is being opened in the background."""
        return self.loader.busy

    def open_source(
        self, source: str | Path | bytes, name: str | None = None, *, wait: bool = False
    ) -> bool:
        """Open a path, URL or bytes.

        The photo loads on a background thread and replaces the open document only once it has
        loaded; a failure shows a message and keeps the open document. Unsaved changes are asked
        about first. Returns False when nothing was started (the user chose Cancel), else True;
        with ``wait=True`` (scripts, tests: blocks the caller) it returns whether the photo opened.
        """
        label = name or (Path(str(source)).name if not isinstance(source, bytes) else "image")
        if not self.settle_unsaved(f"opening {label}"):
            return False
        if _is_url(source):
            recent: str | None = str(source)
        elif isinstance(source, str | Path):
            try:
                recent = str(Path(source).expanduser().resolve())
            except (OSError, RuntimeError):  # a symlink loop: the load names the problem
                recent = None
        else:
            recent = None

        project = isinstance(source, str | Path) and is_project_path(str(source))

        def job(control: LoadControl) -> _Opened:  # on the loading thread: numpy/Pillow, no Qt
            if project and not _is_url(source):  # layers, mask and candidates
                p = open_document(source)
                saved = str(Path(source).expanduser().resolve()) if p.ours else None
                return _Opened(p.document, tuple(p.notes), tuple(p.candidates), saved)
            loaded = load_image(source, cancel=control.cancel, on_progress=control.report)
            return _Opened(Document.from_image(loaded, name), tuple(loaded.notes))

        busy = f"{'Downloading' if _is_url(source) else 'Opening'} {label}…"
        return self._start_open(job, _Opening(label, recent, self._history_mark), busy, wait)

    def open_image(self, image: QImage, name: str = "Pasted image", *, wait: bool = False) -> bool:
        """Open an image already decoded by Qt (clipboard, drop); converted off the GUI thread."""
        if image.isNull():
            self.show_error("The pasted image is empty.")
            return False
        if not self.settle_unsaved(f"opening the {name.lower()}"):
            return False

        def job(_control: LoadControl) -> _Opened:  # QImage is reentrant: fine on another thread
            rgb, alpha = opening.qimage_to_arrays(image)
            return _Opened(Document(rgb, alpha, name=name, source=name))

        ctx = _Opening(name, None, self._history_mark)
        return self._start_open(job, ctx, f"Opening the {name.lower()}…", wait)

    def _start_open(self, job, ctx: _Opening, busy_text: str, wait: bool) -> bool:
        if wait:
            return self._finish_open(self.loader.run_now(job, ctx.label, ctx))
        self.loader.start(job, ctx.label, ctx)
        self.status.busy.start(busy_text)
        return True

    def _loading_changed(self, busy: bool) -> None:
        if not busy:
            self.status.busy.stop()

    def _open_finished(self, outcome: LoadOutcome) -> None:
        self._finish_open(outcome)

    def _finish_open(self, outcome: LoadOutcome) -> bool:
        ctx: _Opening = outcome.context
        if not outcome.ok:
            self.show_error(f"Could not open {ctx.label}: {outcome.error}")
            return False
        # the user kept working while it loaded: the earlier answer does not cover that work
        if self._history_mark != ctx.history_mark and not self.settle_unsaved(
            f"opening {ctx.label}"
        ):
            self.status.showMessage(f"Kept the current picture; {ctx.label} was not opened.", 8000)
            return False
        opened: _Opened = outcome.value
        self.set_document(opened.doc, candidates=opened.candidates, saved_path=opened.saved_path)
        if ctx.recent:
            opening.add_recent(self.settings, ctx.recent)
            recent = Path(ctx.recent)
            # a photo dropped or from Open Recent: the dialogs start in its folder too (not the
            # bundled sample's, inside the installed package)
            if recent.is_file() and recent.parent != sample_photo().resolve().parent:
                file_dialogs.remember(self.settings, "open", recent)
        if opened.notes:
            self.status.showMessage("; ".join(opened.notes), 6000)
        self.banner.hide()
        return True

    def cancel_open(self) -> None:
        """Stop opening the photo (a download stops; a decode's result is dropped); the open
        document stays."""
        label = self.loader.label
        if self.loader.cancel():
            self.status.showMessage(f"Stopped opening {label}.", 6000)

    def open_mime(self, mime: QMimeData, what: str = "drop") -> bool:
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
        # the bundled sample is 600x400 (a few ms to decode): opened inline, so scripts and the
        # first start have a document at once
        return self.open_source(sample_photo(), "Sample photo", wait=True)

    def open_dialog(self) -> None:
        path = file_dialogs.open_file(
            self._parent, self.settings, "open", "Open photo", IMAGE_FILTER
        )
        if path:
            self.open_source(path)

    def open_url_dialog(self) -> None:
        url, ok = QInputDialog.getText(
            self._parent, "Open URL", "Address of a photo (http or https):"
        )
        if ok and url.strip():
            self.open_source(url.strip())

    def paste(self) -> bool:
        return self.open_mime(QGuiApplication.clipboard().mimeData(), "paste")

    def rebuild_recent_menu(self, menu: QMenu) -> None:
        """File ▸ Open Recent's entries (built each time the menu opens)."""
        menu.clear()
        files = opening.recent_files(self.settings)
        for path in files:
            act = menu.addAction(Path(path).name if "://" not in path else path)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _c=False, p=path: self._open_recent(p))
        if not files:
            menu.addAction("No recent photos").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear List", lambda: self.settings.setValue("recent/files", []))

    def _open_recent(self, path: str) -> None:
        if "://" not in path and not Path(path).exists():
            opening.remove_recent(self.settings, path)  # the message comes from the load
        self.open_source(path)


class Exporter:
    """File ▸ Export Picture and Export Mask (flattened files; not a save: the project keeps the
    layers). ``document``: the open document; ``canvas``: a stroke in progress lands first."""

    def __init__(
        self,
        parent: QWidget,
        settings: QSettings,
        document: Callable[[], Document | None],
        canvas: Canvas,
        status: StatusBar,
        show_error: Callable[[str], None],
    ) -> None:
        self._parent, self.settings, self._document = parent, settings, document
        self.canvas, self.status, self.show_error = canvas, status, show_error

    @property
    def doc(self) -> Document | None:
        return self._document()

    def _default_stem(self) -> str:
        return Path(self.doc.photo.name).stem if self.doc else "picture"

    def export_picture(self, path: str | Path) -> Path | None:
        if self.doc is None:
            return None
        self.canvas.finish_stroke()
        try:  # the one save path: alpha and the kept layers' parameters, atomically
            out = save_document(self.doc, path)
        except (ValueError, OSError, InpaintError) as exc:
            self.show_error(f"Could not export: {exc}")
            return None
        # not "saved": a flattened picture has lost the layers and the mask (File ▸ Save keeps them)
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
        path, chosen = file_dialogs.save_file(
            self._parent, self.settings, "export", title, suggested, ";;".join(filters)
        )
        if not path:
            return None
        if not Path(path).suffix:
            path += filters.get(chosen, ".png")
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
