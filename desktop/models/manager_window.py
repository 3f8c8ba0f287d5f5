"""The Model manager window (Models ▸ Manage models…): what is installed, and downloads.

* **Installed**: every model and LoRA the core finds (:func:`inpaint_core.models.list_models`,
  :func:`inpaint_core.lora.list_loras`) with its family, size, precision and location; Remove
  deletes one from the models folder (the core refuses anything outside it).
* **Download**: the core's curated catalogue (:data:`inpaint_core.models.manager.CATALOG`), or
  any repo id / URL; a token field for gated repos and, for an entry under a licence (FLUX.1 Fill
  dev), an "I accept" box that must be ticked first. One download at a time, on a worker thread
  (:class:`~desktop.models.downloads.DownloadJob`): a progress bar with bytes and the time left,
  Cancel (the part is kept and a later download resumes it).
* **Offline** (``HF_HUB_OFFLINE=1``): the window says so and offers no download: nothing is
  requested.

``models_changed()`` tells the window to rescan its model picker after a download or a removal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.models.downloads import DownloadJob, DownloadRequest, ProgressReport
from inpaint_core.lora import list_loras
from inpaint_core.models import list_models
from inpaint_core.models.discovery import ModelInfo, models_dir
from inpaint_core.models.families import FAMILIES
from inpaint_core.models.manager import CATALOG, DownloadError, offline, remove_model
from inpaint_core.sweep import format_duration

OFFLINE_TEXT = (
    "Offline mode is on (HF_HUB_OFFLINE=1): downloads are off and nothing is requested from "
    "the network. Unset HF_HUB_OFFLINE and reopen this window to download."
)
INSTALLED_COLUMNS = ("Name", "Family", "Size", "Precision", "Location")
CATALOG_COLUMNS = ("Name", "What", "Download", "VRAM")


def size_text(n: float) -> str:
    """Decimal units, as download sizes are shown everywhere (1.2 GB, 350 MB, 12 kB)."""
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n:.0f} B"


def progress_text(report: ProgressReport) -> str:
    """ "12.3 MB of 34.5 MB · 5 s left" (the time once it can be told)."""
    text = f"{size_text(report.done)} of {size_text(report.total)}"
    if report.eta_s is not None and report.done < report.total:
        text += f"  ·  {format_duration(report.eta_s)} left"
    return text


def ask_yes_no(parent: QWidget, title: str, text: str) -> bool:
    return QMessageBox.question(parent, title, text) == QMessageBox.StandardButton.Yes


def _family_label(info: ModelInfo) -> str:
    fam = FAMILIES.get(info.family)
    label = fam.label if fam else "unknown"
    if info.kind == "lora":
        label = f"LoRA · {label}"
    elif info.is_inpainting is False:
        label += " (not inpainting)"
    if info.few_step:
        label += f" · {info.few_step}"
    return label


class ModelManagerWindow(QDialog):
    """See the module docstring. ``confirm(parent, title, text)`` asks before a removal (tests
    pass their own)."""

    models_changed = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        confirm: Callable[[QWidget, str, str], bool] = ask_yes_no,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("modelManager")
        self.setWindowTitle("Model manager")
        self.confirm = confirm
        self.job: DownloadJob | None = None
        self.installed: list[ModelInfo] = []
        self.last_progress: ProgressReport | None = None
        col = QVBoxLayout(self)
        self.offline_label = QLabel(OFFLINE_TEXT, objectName="offlineLabel", wordWrap=True)
        self.offline_label.setStyleSheet(
            "QLabel { background: #FFF4CE; border: 1px solid #E0C060; border-radius: 4px;"
            " padding: 6px; color: #5C4400; }"
        )
        col.addWidget(self.offline_label)
        self.tabs = QTabWidget(objectName="modelTabs")
        self.tabs.addTab(self._build_installed(), "Installed")
        self.tabs.addTab(self._build_download(), "Download")
        col.addWidget(self.tabs, 1)
        col.addWidget(self._build_progress())
        self.resize(820, 520)
        self.refresh()

    # -- construction ---------------------------------------------------------------------------
    def _build_installed(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        self.folder_label = QLabel("", objectName="modelsFolderLabel", wordWrap=True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(self.folder_label)
        self.installed_table = self._table("installedTable", INSTALLED_COLUMNS)
        self.installed_table.itemSelectionChanged.connect(self._update_buttons)
        v.addWidget(self.installed_table, 1)
        row = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh", objectName="refreshModelsButton")
        self.refresh_button.clicked.connect(self.refresh)
        self.remove_button = QPushButton("Remove…", objectName="removeModelButton")
        self.remove_button.clicked.connect(self.remove_selected)
        row.addStretch(1)
        row.addWidget(self.refresh_button)
        row.addWidget(self.remove_button)
        v.addLayout(row)
        return page

    def _build_download(self) -> QWidget:
        page = QWidget()
        v = QVBoxLayout(page)
        self.catalog_table = self._table("catalogTable", CATALOG_COLUMNS)
        self.catalog_table.setRowCount(len(CATALOG))
        for r, entry in enumerate(CATALOG.values()):
            cells = (
                entry.name,
                entry.description,
                f"~{entry.approx_gb:g} GB" if entry.approx_gb else "",
                f"{entry.vram_gb:g} GB" if entry.vram_gb else "",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, entry.name)
                item.setToolTip(entry.repo_id)
                self.catalog_table.setItem(r, c, item)
        self.catalog_table.itemSelectionChanged.connect(self._catalog_selected)
        self.catalog_table.itemDoubleClicked.connect(lambda _i: self.download_selected())
        v.addWidget(self.catalog_table, 1)
        self.license_check = QCheckBox("", objectName="licenseCheck")
        self.license_check.setVisible(False)
        self.license_check.toggled.connect(self._update_buttons)
        v.addWidget(self.license_check)
        form = QFormLayout()
        self.source_edit = QLineEdit(objectName="sourceEdit")
        self.source_edit.setPlaceholderText("org/name (a Hugging Face repo id) or https://… URL")
        self.source_edit.textChanged.connect(self._update_buttons)
        self.source_edit.returnPressed.connect(self.download_source)
        src_row = QHBoxLayout()
        src_row.addWidget(self.source_edit, 1)
        self.download_source_button = QPushButton("Download", objectName="downloadSourceButton")
        self.download_source_button.clicked.connect(self.download_source)
        src_row.addWidget(self.download_source_button)
        form.addRow("Repo id or URL", self._wrap(src_row))
        self.token_edit = QLineEdit(objectName="tokenEdit")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("hf_… (gated repos; or set HF_TOKEN)")
        form.addRow("Token", self.token_edit)
        v.addLayout(form)
        row = QHBoxLayout()
        row.addStretch(1)
        self.download_button = QPushButton("Download selected", objectName="downloadButton")
        self.download_button.clicked.connect(self.download_selected)
        row.addWidget(self.download_button)
        v.addLayout(row)
        return page

    def _build_progress(self) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 0, 0, 0)
        self.message_label = QLabel("", objectName="managerMessage", wordWrap=True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()
        v.addWidget(self.message_label)
        row = QHBoxLayout()
        self.progress_bar = QProgressBar(objectName="downloadProgress", textVisible=True)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setFormat("")
        self.cancel_button = QPushButton("Cancel", objectName="cancelDownloadButton")
        self.cancel_button.clicked.connect(self.cancel_download)
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.cancel_button)
        v.addLayout(row)
        self.progress_bar.hide()
        self.cancel_button.hide()
        return box

    @staticmethod
    def _table(name: str, columns: tuple[str, ...]) -> QTableWidget:
        t = QTableWidget(0, len(columns), objectName=name)
        t.setHorizontalHeaderLabels(list(columns))
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.verticalHeader().setVisible(False)
        header = t.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        return t

    @staticmethod
    def _wrap(layout: QHBoxLayout) -> QWidget:
        w = QWidget()
        layout.setContentsMargins(0, 0, 0, 0)
        w.setLayout(layout)
        return w

    # -- installed -------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the models folder(s) (files only: no network) and the offline state."""
        self.folder_label.setText(f"Models folder: {models_dir()}")
        try:
            self.installed = [*list_models(), *list_loras()]
        except OSError as exc:
            self.installed = []
            self.show_message(f"Could not list the models: {exc}")
        t = self.installed_table
        t.setRowCount(len(self.installed))
        for r, info in enumerate(self.installed):
            cells = (
                info.name,
                _family_label(info),
                size_text(info.size_bytes),
                info.precision or "?",
                info.path or info.source,
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, r)
                if info.note:
                    item.setToolTip(info.note)
                t.setItem(r, c, item)
        self.offline_label.setVisible(offline())
        self._update_buttons()

    def selected_installed(self) -> ModelInfo | None:
        rows = self.installed_table.selectionModel().selectedRows()
        return self.installed[rows[0].row()] if rows else None

    def remove_selected(self) -> None:
        info = self.selected_installed()
        if info is None:
            return
        where = info.path or info.source
        if not self.confirm(self, "Remove model", f"Delete {info.name} ({where}) from disk?"):
            return
        try:
            remove_model(where)
        except DownloadError as exc:
            self.show_message(str(exc))
            return
        self.show_message(f"Removed {info.name}", error=False)
        self.refresh()
        self.models_changed.emit()

    # -- downloads ---------------------------------------------------------------------------------
    def selected_entry(self) -> Any:
        rows = self.catalog_table.selectionModel().selectedRows()
        if not rows:
            return None
        name = self.catalog_table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        return CATALOG[name]

    def _catalog_selected(self) -> None:
        entry = self.selected_entry()
        gated = entry is not None and bool(entry.license)
        self.license_check.setVisible(gated)
        if gated:
            self.license_check.setText(f"I have read and accept the {entry.license}")
            self.license_check.setChecked(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.job is not None
        online = not offline()
        self.download_button.setEnabled(online and not busy and self.selected_entry() is not None)
        self.download_source_button.setEnabled(
            online and not busy and bool(self.source_edit.text().strip())
        )
        self.remove_button.setEnabled(not busy and self.selected_installed() is not None)
        self.cancel_button.setEnabled(busy)

    def download_selected(self) -> bool:
        """Download the selected catalogue entry (the licence must be accepted first)."""
        entry = self.selected_entry()
        if entry is None:
            return False
        if entry.license and not self.license_check.isChecked():
            self.show_message(
                f"{entry.name} is under the {entry.license}. Read it, tick “I accept”, and enter "
                "a token of a Hugging Face account that accepted it on the model's page."
            )
            return False
        return self.start_download(
            DownloadRequest(entry.name, self._token(), accept_license=bool(entry.license))
        )

    def download_source(self) -> bool:
        source = self.source_edit.text().strip()
        if not source:
            return False
        return self.start_download(DownloadRequest(source, self._token()))

    def _token(self) -> str | None:
        return self.token_edit.text().strip() or None

    def start_download(self, request: DownloadRequest) -> bool:
        """Start ``request`` on a worker thread (one at a time; never in offline mode)."""
        if self.job is not None:
            self.show_message("A download is already running: wait for it or cancel it")
            return False
        if offline():
            self.offline_label.show()
            self.show_message("Offline mode is on: nothing was downloaded")
            return False
        job = DownloadJob(request, self)
        job.progress.connect(self._progress)
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        self.job = job
        self.progress_bar.setRange(0, 0)  # listing the repo: size not known yet
        self.progress_bar.setFormat(f"Preparing {request.source}…")
        self.progress_bar.show()
        self.cancel_button.show()
        self.show_message("")
        self._update_buttons()
        job.start()
        return True

    def cancel_download(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress_bar.setFormat("Cancelling…")

    def _progress(self, report: ProgressReport) -> None:
        if self.job is None or self.job.token.cancelled:
            return
        bar = self.progress_bar
        if report.total > 0:
            bar.setRange(0, 1000)
            bar.setValue(int(1000 * min(1.0, report.done / report.total)))
        bar.setFormat(f"{self.job.request.source}: {progress_text(report)}")
        self.last_progress = report

    def _end(self) -> None:
        self.job = None
        self.progress_bar.hide()
        self.cancel_button.hide()
        self._update_buttons()

    def _finished(self, path: str) -> None:
        source = self.job.request.source if self.job else ""
        self._end()
        self.show_message(f"Downloaded {source} to {path}", error=False)
        self.refresh()
        self.models_changed.emit()

    def _failed(self, message: str) -> None:
        self._end()
        self.show_message(message)

    def _cancelled(self, kept: int) -> None:
        self._end()
        self.show_message(
            f"Download cancelled: {size_text(kept)} kept; download it again to resume", error=False
        )

    def show_message(self, text: str, *, error: bool = True) -> None:
        if not text:
            self.message_label.hide()
            return
        color = "#e5484d" if error else "palette(text)"
        self.message_label.setStyleSheet(f"QLabel {{ color: {color}; }}")
        self.message_label.setText(text)
        self.message_label.show()

    @property
    def message(self) -> str:
        """The message line ('' when hidden) — for tests and accessibility."""
        return self.message_label.text() if not self.message_label.isHidden() else ""
