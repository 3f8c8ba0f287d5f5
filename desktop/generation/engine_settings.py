"""Generate ▸ Engine…: run generation and Compare on this machine or on a remote server, and
optionally serve this window's engine to scripts.

A remote server is another machine's ``inpaint-studio-cli serve`` (its GPU), reached through the
predictions API by :class:`inpaint_core.service.remote.RemoteEngine`. The choice only swaps what
the window's engine cache hands out: a remote generation is a job on the window's one worker queue
like a local one, so its states and progress go through the core GenerationModel, and Compare,
cancel (within one step on the server) and the Candidates tray work the same. Kept in the window's
settings (``engine/*``).

"Serve this window" starts the predictions API (``inpaint_core.service``) on a loopback port,
sharing the window's ONE worker queue and loaded model: a script's predictions queue behind the
window's own generations instead of running a second torch beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.generation.host import StudioEngineCache
from desktop.settings import read
from inpaint_core.jobs import JobQueue
from inpaint_core.service.config import DEFAULT_PORT, ServiceConfig
from inpaint_core.service.server import BackgroundServer

DEFAULT_URL = "http://127.0.0.1:5123"


@dataclass
class EngineLocation:
    remote: bool = False
    url: str = DEFAULT_URL
    token: str = ""
    #: serve this window's engine on 127.0.0.1:serve_port (0: any free port)
    serve: bool = False
    serve_port: int = DEFAULT_PORT
    serve_token: str = ""


def load_location(settings: QSettings) -> EngineLocation:
    return EngineLocation(
        remote=read(settings, "engine/remote", False, bool),
        url=read(settings, "engine/url", DEFAULT_URL, str) or DEFAULT_URL,
        token=read(settings, "engine/token", "", str),
        serve=read(settings, "engine/serve", False, bool),
        serve_port=read(settings, "engine/serve_port", DEFAULT_PORT, int),
        serve_token=read(settings, "engine/serve_token", "", str),
    )


def save_location(settings: QSettings, location: EngineLocation) -> None:
    settings.setValue("engine/remote", location.remote)
    settings.setValue("engine/url", location.url)
    settings.setValue("engine/token", location.token)
    settings.setValue("engine/serve", location.serve)
    settings.setValue("engine/serve_port", location.serve_port)
    settings.setValue("engine/serve_token", location.serve_token)


def apply_location(engine_cache: StudioEngineCache, location: EngineLocation) -> None:
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
        self.serve_check = QCheckBox(
            "Serve this window to scripts (predictions API on 127.0.0.1)", objectName="engineServe"
        )
        self.serve_check.setChecked(location.serve)
        self.serve_port_spin = QSpinBox(objectName="engineServePort")
        self.serve_port_spin.setRange(0, 65535)
        self.serve_port_spin.setValue(location.serve_port)
        self.serve_token_edit = QLineEdit(location.serve_token, objectName="engineServeToken")
        self.serve_token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.serve_token_edit.setPlaceholderText("none (loopback only)")
        serve_form = QFormLayout()
        serve_form.addRow("Port", self.serve_port_spin)
        serve_form.addRow("Token", self.serve_token_edit)
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
        layout.addWidget(self.serve_check)
        layout.addLayout(serve_form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.remote_radio.toggled.connect(self._enable)
        self.serve_check.toggled.connect(self._enable)
        self._enable()

    def _enable(self) -> None:
        on = self.remote_radio.isChecked()
        self.url_edit.setEnabled(on)
        self.token_edit.setEnabled(on)
        serving = self.serve_check.isChecked()
        self.serve_port_spin.setEnabled(serving)
        self.serve_token_edit.setEnabled(serving)

    def location(self) -> EngineLocation:
        return EngineLocation(
            remote=self.remote_radio.isChecked(),
            url=self.url_edit.text().strip().rstrip("/") or DEFAULT_URL,
            token=self.token_edit.text().strip(),
            serve=self.serve_check.isChecked(),
            serve_port=self.serve_port_spin.value(),
            serve_token=self.serve_token_edit.text().strip(),
        )

    def accept(self) -> None:
        loc = self.location()
        if loc.remote and not loc.url.lower().startswith(("http://", "https://")):
            self.error_label.setText("The server URL must start with http:// or https://")
            return
        super().accept()


class WindowServer:
    """The predictions API serving the window's engine (its ONE worker queue), on loopback.

    ``model_source()`` is the model behind ``inpaint-studio/stable-diffusion-inpainting`` (the
    model chosen in the window when serving starts)."""

    def __init__(self, queue: JobQueue, model_source: Callable[[], str | None]) -> None:
        self.queue = queue
        self.model_source = model_source
        self.server: BackgroundServer | None = None
        self._key: tuple[int, str] | None = None

    @property
    def url(self) -> str | None:
        return self.server.url if self.server is not None else None

    def apply(self, location: EngineLocation) -> str | None:
        """Start, restart or stop serving as ``location`` says; returns a problem, or None."""
        key = (location.serve_port, location.serve_token)
        if self.server is not None and (not location.serve or key != self._key):
            self.stop()
        if not location.serve or self.server is not None:
            return None
        config = ServiceConfig(
            host="127.0.0.1",
            port=location.serve_port,
            model=self.model_source() or None,
            token=location.serve_token or None,
        )
        try:
            self.server = BackgroundServer(config, jobs=self.queue).start()
        except (RuntimeError, OSError, SystemExit) as exc:
            self.server = None
            return f"could not serve this window on port {location.serve_port}: {exc}"
        self._key = key
        return None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class EngineSettings:
    """Generate ▸ Engine…: the saved choice applied to the window's engine cache and server.

    ``engine_cache`` is None when the window runs on an engine factory of its own (a test's): then
    only serving is offered. ``report(text)`` shows a problem; ``changed(location, served_url)``
    tells the window what now runs where. ``dialog_parent`` centres the dialog."""

    def __init__(
        self,
        settings: QSettings,
        engine_cache: StudioEngineCache | None,
        queue: JobQueue,
        model_source: Callable[[], str | None],
        report: Callable[[str], None],
        changed: Callable[[EngineLocation, str | None], None],
        dialog_parent: QWidget | None = None,
    ) -> None:
        self.settings = settings
        self.engine_cache = engine_cache
        self.server = WindowServer(queue, model_source)
        self._report = report
        self._changed = changed
        self._parent = dialog_parent
        self.location = load_location(settings)

    def apply(self, location: EngineLocation) -> None:
        """Use ``location`` now (engine cache, serving) and tell the window."""
        if location.remote and self.engine_cache is None:
            self._report("this window's engine cannot run on a remote server")
            location = replace(location, remote=False)
        if self.engine_cache is not None:
            apply_location(self.engine_cache, location)
        self.location = location
        problem = self.server.apply(location)
        if problem:
            self._report(problem)
        self._changed(location, self.server.url)

    def edit(self) -> None:
        """Ask (the Engine dialog); on OK save the choice and use it."""
        dialog = EngineDialog(load_location(self.settings), self._parent)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            location = dialog.location()
            save_location(self.settings, location)
            self.apply(location)

    def stop(self) -> None:
        """Stop serving (the window closes)."""
        self.server.stop()
