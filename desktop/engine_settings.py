"""Generate ▸ Engine…: run generation and Compare on this machine or on a remote server.

A remote server is another machine's ``inpaint-studio-cli serve`` (its GPU), reached through the
predictions API by :class:`inpaint_core.service.remote.RemoteEngine`. The choice only swaps what
the window's engine cache hands out, so generation, Compare, progress, cancel (within one step on
the server) and the Candidates tray work the same; step previews are not sent over the API.
Kept in the window's settings (``engine/*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from .settings import read

DEFAULT_URL = "http://127.0.0.1:5123"


@dataclass
class EngineLocation:
    remote: bool = False
    url: str = DEFAULT_URL
    token: str = ""


def load_location(settings: QSettings) -> EngineLocation:
    return EngineLocation(
        remote=read(settings, "engine/remote", False, bool),
        url=read(settings, "engine/url", DEFAULT_URL, str) or DEFAULT_URL,
        token=read(settings, "engine/token", "", str),
    )


def save_location(settings: QSettings, location: EngineLocation) -> None:
    settings.setValue("engine/remote", location.remote)
    settings.setValue("engine/url", location.url)
    settings.setValue("engine/token", location.token)


def apply_location(engine_cache: Any, location: EngineLocation) -> None:
    """Point the window's engine cache at this machine or at the server."""
    engine_cache.remote = (location.url, location.token or None) if location.remote else None


class EngineDialog(QDialog):
    def __init__(self, location: EngineLocation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Engine")
        self.setObjectName("engineDialog")
        self.local_radio = QRadioButton("This machine", objectName="engineLocal")
        self.remote_radio = QRadioButton("Remote server", objectName="engineRemote")
        group = QButtonGroup(self)
        group.addButton(self.local_radio)
        group.addButton(self.remote_radio)
        self.url_edit = QLineEdit(location.url, objectName="engineUrl")
        self.url_edit.setPlaceholderText(DEFAULT_URL)
        self.token_edit = QLineEdit(location.token, objectName="engineToken")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.error_label = QLabel("", objectName="engineError")
        self.error_label.setStyleSheet("color: #c0392b")
        (self.remote_radio if location.remote else self.local_radio).setChecked(True)
        form = QFormLayout()
        form.addRow("Server URL", self.url_edit)
        form.addRow("Token", self.token_edit)
        hint = QLabel(
            "A machine running  inpaint-studio-cli serve  (its --model runs the diffusion engine)."
        )
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.local_radio, self.remote_radio):
            layout.addWidget(w)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.remote_radio.toggled.connect(self._enable)
        self._enable()

    def _enable(self) -> None:
        on = self.remote_radio.isChecked()
        self.url_edit.setEnabled(on)
        self.token_edit.setEnabled(on)

    def location(self) -> EngineLocation:
        return EngineLocation(
            remote=self.remote_radio.isChecked(),
            url=self.url_edit.text().strip().rstrip("/") or DEFAULT_URL,
            token=self.token_edit.text().strip(),
        )

    def accept(self) -> None:
        loc = self.location()
        if loc.remote and not loc.url.lower().startswith(("http://", "https://")):
            self.error_label.setText("The server URL must start with http:// or https://")
            return
        super().accept()


def install(window: QMainWindow, ctl: Any, settings: QSettings, menu: QMenu) -> QAction:
    """Add Generate ▸ Engine… and apply the saved choice to ``ctl``'s engine cache."""
    apply_location(ctl.engine_cache, load_location(settings))
    action = QAction("&Engine…", window, objectName="engineSettingsAction")
    action.setStatusTip("Run generation on this machine or on a remote server")

    def edit() -> None:
        dialog = EngineDialog(load_location(settings), window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            location = dialog.location()
            save_location(settings, location)
            apply_location(ctl.engine_cache, location)
            where = location.url if location.remote else "this machine"
            ctl.model_label.setText(f"Engine: {where}")

    action.triggered.connect(edit)
    menu.addSeparator()
    menu.addAction(action)
    return action
