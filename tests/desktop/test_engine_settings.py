"""Generate ▸ Engine…: the studio generates on a remote ``serve`` through the predictions API —
same progress, cancel and Candidates — and the choice is kept in the settings."""

from __future__ import annotations

import pytest
import replicate
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog

from desktop import engine_settings
from desktop.engine_settings import EngineDialog, EngineLocation, load_location
from desktop.settings import open_settings
from inpaint_core.service.remote import RemoteEngine
from tests.desktop.conftest import drag
from tests.service_helpers import photo_and_mask, start_server


@pytest.fixture
def studio(window):
    from desktop.generation import install

    ctl = getattr(window, "generation", None) or install(window)
    yield ctl
    ctl.shutdown()


@pytest.fixture
def server(tiny_model_dir):
    s = start_server(model=str(tiny_model_dir), token="tok")
    yield s
    s.stop()


def choose(monkeypatch, location: EngineLocation) -> None:
    """Answer the Engine dialog with ``location`` (a modal would hang offscreen)."""

    def exec_(dialog: EngineDialog) -> int:
        dialog.remote_radio.setChecked(location.remote)
        dialog.local_radio.setChecked(not location.remote)
        dialog.url_edit.setText(location.url)
        dialog.token_edit.setText(location.token)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(EngineDialog, "exec", exec_)


def test_engine_choice_is_saved_and_applied(studio, window, monkeypatch, settings_dir):
    action = window.findChild(QAction, "engineSettingsAction")
    assert action is not None
    choose(monkeypatch, EngineLocation(True, "http://gpu-box:5123", "t"))
    action.trigger()
    assert studio.engine_cache.remote == ("http://gpu-box:5123", "t")
    assert isinstance(studio.engine_cache(studio.panel.validate()), RemoteEngine)
    assert load_location(open_settings(settings_dir)) == EngineLocation(
        True, "http://gpu-box:5123", "t"
    )
    choose(monkeypatch, EngineLocation(False, "http://gpu-box:5123", "t"))
    action.trigger()
    assert studio.engine_cache.remote is None


def test_dialog_refuses_a_url_without_http(qtbot):
    dialog = EngineDialog(EngineLocation())
    qtbot.addWidget(dialog)
    dialog.remote_radio.setChecked(True)
    dialog.url_edit.setText("gpu-box:5123")
    dialog.accept()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "http://" in dialog.error_label.text()


def test_generate_and_cancel_on_a_remote_server(studio, window, qtbot, server, tiny_model_dir):
    ctl = studio
    engine_settings.apply_location(ctl.engine_cache, EngineLocation(True, server.url, "tok"))
    drag(qtbot, window.canvas, [(250, 180), (330, 200), (300, 240)])
    p = ctl.panel
    p.choose_model(str(tiny_model_dir))
    p.steps_spin.setValue(2)
    p.outputs_spin.setValue(2)
    p.target_spin.setValue(64)
    p.random_seed_check.setChecked(False)
    p.seed_edit.setText("31")
    progress = []
    ctl.bridge.progress_changed.connect(lambda *a: progress.append(a))
    failed = []
    ctl.bridge.job_failed.connect(lambda j, m: failed.append(m))
    ctl.generate()
    qtbot.waitUntil(lambda: ctl.tray.count() == 2 or bool(failed), timeout=120000)
    assert not failed
    assert [c.seed for c in ctl.tray.candidates()] == [31, 32]
    assert progress
    assert len(server.service.predictions) == 1  # it ran there
    # a long one, cancelled from the window: the server's prediction stops
    p.steps_spin.setValue(400)
    cancelled = []
    ctl.bridge.job_cancelled.connect(cancelled.append)
    ctl.generate()
    qtbot.waitUntil(
        lambda: any(q.status == "processing" for q in server.service.predictions.values()),
        timeout=60000,
    )
    ctl.cancel_action.trigger()
    qtbot.waitUntil(lambda: bool(cancelled), timeout=30000)
    statuses = sorted(q.status for q in server.service.predictions.values())
    assert statuses == ["canceled", "succeeded"]


def test_serve_this_window_runs_scripts_on_the_windows_worker(
    studio, window, monkeypatch, tmp_path, qtbot
):
    choose(monkeypatch, EngineLocation(serve=True, serve_port=0, serve_token="w"))
    # the dialog helper sets only the remote fields: set the serving ones too
    original = EngineDialog.exec

    def exec_(dialog):
        original(dialog)
        dialog.serve_check.setChecked(True)
        dialog.serve_port_spin.setValue(0)
        dialog.serve_token_edit.setText("w")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(EngineDialog, "exec", exec_)
    window.findChild(QAction, "engineSettingsAction").trigger()
    serving = studio.window_server
    assert serving.url is not None
    assert serving.server.service.jobs is studio.bridge.queue  # ONE worker for both
    started = []
    studio.bridge.job_started.connect(lambda j, label: started.append(label))
    client = replicate.Client(api_token="w", base_url=serving.url)
    client.poll_interval = 0.05
    photo, mask = photo_and_mask(tmp_path)
    with photo.open("rb") as p, mask.open("rb") as m:
        output = client.run("inpaint-studio/classical", input={"image": p, "mask": m})
    assert len(output) == 1
    # it ran on the window's queue (the signal arrives once the GUI thread runs its events)
    qtbot.waitUntil(lambda: any(label.startswith("prediction ") for label in started))
    studio.shutdown()
    assert serving.url is None  # closing the window stops serving
