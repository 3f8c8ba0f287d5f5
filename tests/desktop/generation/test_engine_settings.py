"""Generate ▸ Engine…: the studio generates (and compares) on a remote ``serve`` through the
predictions API — same job states and progress in the core GenerationModel, cancel, Candidates —
the choice is kept in the settings, and "Serve this window" puts the window's own worker queue
behind the API for scripts."""

from __future__ import annotations

from dataclasses import replace

import pytest
import replicate
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog

from desktop.generation.engine_settings import (
    EngineDialog,
    EngineLocation,
    apply_location,
    load_location,
    save_location,
)
from desktop.settings import open_settings
from desktop.window.main_window import MainWindow
from inpaint_core.generation_model import JobKind, JobStatus
from inpaint_core.service.remote import RemoteEngine
from inpaint_core.sweep import plan_sweep
from tests.desktop.conftest import drag
from tests.service_helpers import photo_and_mask, start_server


@pytest.fixture
def studio(window):
    ctl = window.generation
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
        dialog.serve_check.setChecked(location.serve)
        dialog.serve_port_spin.setValue(location.serve_port)
        dialog.serve_token_edit.setText(location.serve_token)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(EngineDialog, "exec", exec_)


def engine_action(window) -> QAction:
    action = window.findChild(QAction, "engineSettingsAction")
    assert action is not None
    assert action in window.generate_menu.actions()  # Generate ▸ Engine…
    return action


def set_up(ctl, qtbot, window, model_dir, steps: int) -> None:
    drag(qtbot, window.canvas, [(250, 180), (330, 200), (300, 240)])
    p = ctl.panel
    p.picker.choose_model(str(model_dir))
    p.steps_spin.setValue(steps)
    p.outputs_spin.setValue(2)
    p.target_spin.setValue(64)
    p.random_seed_check.setChecked(False)
    p.seed_edit.setText("31")
    assert p.validate() is not None


def test_engine_choice_is_saved_and_applied(studio, window, monkeypatch, settings_dir):
    action = engine_action(window)
    choose(monkeypatch, EngineLocation(True, "http://127.0.0.1:9", "t"))
    action.trigger()
    assert studio.engine_cache.remote == ("http://127.0.0.1:9", "t")
    assert isinstance(studio.engine_cache(studio.model.effective_request()), RemoteEngine)
    assert load_location(open_settings(settings_dir)) == EngineLocation(
        True, "http://127.0.0.1:9", "t"
    )
    assert studio.device_label.text() == "Device: remote server http://127.0.0.1:9"
    choose(monkeypatch, EngineLocation(False, "http://127.0.0.1:9", "t"))
    action.trigger()
    assert studio.engine_cache.remote is None
    assert not isinstance(studio.engine_cache(studio.model.effective_request()), RemoteEngine)


def test_the_saved_choice_is_used_by_the_next_window(qtbot, settings_dir):
    settings = open_settings(settings_dir)
    saved = EngineLocation(True, "http://127.0.0.1:9", "t", serve=True, serve_port=0)
    save_location(settings, saved)
    settings.sync()
    other = MainWindow(open_settings(settings_dir))
    qtbot.addWidget(other)
    try:
        assert other.generation.engine_cache.remote == ("http://127.0.0.1:9", "t")
        serving = other.generation.engine.server
        assert serving.url is not None  # served again from the start
    finally:
        other.generation.shutdown()
    assert serving.url is None


def test_dialog_refuses_a_url_without_http(qtbot):
    dialog = EngineDialog(EngineLocation())
    qtbot.addWidget(dialog)
    dialog.remote_radio.setChecked(True)
    dialog.url_edit.setText("gpu-box:5123")
    dialog.accept()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "http://" in dialog.error_label.text()
    dialog.url_edit.setText("http://gpu-box:5123/")
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.location().url == "http://gpu-box:5123"


def test_generate_and_cancel_on_a_remote_server(studio, window, qtbot, server, tiny_model_dir):
    ctl = studio
    apply_location(ctl.engine_cache, EngineLocation(True, server.url, "tok"))
    set_up(ctl, qtbot, window, tiny_model_dir, steps=2)
    states, progress, messages = [], [], []
    ctl.model.events.job_state_changed.connect(states.append)
    ctl.model.events.progress.connect(progress.append)
    ctl.model.events.message.connect(messages.append)
    first = ctl.generate()
    qtbot.waitUntil(lambda: ctl.tray.count() == 2 or bool(messages), timeout=120000)
    assert not messages
    assert [c.seed for c in ctl.tray.candidates()] == [31, 32]
    # the remote job went through the core model like a local one: queued, running, stepped, done
    mine = [s.status for s in states if s.id == first]
    assert mine[0] is JobStatus.QUEUED and JobStatus.RUNNING in mine and JobStatus.DONE in mine
    assert any(p.id == first and p.total == 2 and p.step >= 1 for p in progress)
    assert len(server.service.predictions) == 1  # it ran there
    qtbot.waitUntil(lambda: not ctl.model.busy, timeout=10000)
    # a long one, cancelled from the window: the server's prediction stops
    ctl.panel.steps_spin.setValue(400)
    second = ctl.generate()
    qtbot.waitUntil(
        lambda: any(q.status == "processing" for q in server.service.predictions.values()),
        timeout=60000,
    )
    # step previews come over the API too, placed on the photo by the core like local ones
    previews = []
    ctl.model.events.preview.connect(previews.append)
    qtbot.waitUntil(lambda: any(p.job_id == second for p in previews), timeout=60000)
    assert window.canvas._preview is not None
    assert ctl.actions.cancel.isEnabled()
    ctl.actions.cancel.trigger()
    qtbot.waitUntil(
        lambda: any(s.id == second and s.status is JobStatus.CANCELLED for s in states),
        timeout=30000,
    )
    qtbot.waitUntil(
        lambda: (
            sorted(q.status for q in server.service.predictions.values())
            == ["canceled", "succeeded"]
        ),
        timeout=10000,
    )
    assert ctl.tray.count() == 2


def test_serve_this_window_runs_scripts_on_the_windows_worker(
    studio, window, monkeypatch, tmp_path, qtbot
):
    choose(monkeypatch, EngineLocation(serve=True, serve_port=0, serve_token="w"))
    engine_action(window).trigger()
    serving = studio.engine.server
    assert serving.url is not None and serving.url.startswith("http://127.0.0.1:")
    assert serving.server.service.jobs is studio.bridge.queue  # ONE worker for both
    assert serving.url in studio.device_label.toolTip()
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
    # a wrong token is refused: serving is not open to anyone on the machine
    with pytest.raises(replicate.exceptions.ReplicateError):
        replicate.Client(api_token="nope", base_url=serving.url).models.get(
            "inpaint-studio/classical"
        )
    # turned off in the dialog: stopped
    choose(monkeypatch, EngineLocation(serve=False))
    engine_action(window).trigger()
    assert serving.url is None
    choose(monkeypatch, EngineLocation(serve=True, serve_port=0, serve_token="w"))
    engine_action(window).trigger()
    assert serving.url is not None
    studio.shutdown()
    assert serving.url is None  # closing the window stops serving


def test_compare_runs_on_the_remote_server(studio, window, qtbot, server, tiny_model_dir):
    """Compare side by side goes through the same engine cache: its sweep runs on the server."""
    ctl = studio
    apply_location(ctl.engine_cache, EngineLocation(True, server.url, "tok"))
    set_up(ctl, qtbot, window, tiny_model_dir, steps=2)
    base = replace(ctl.model.effective_request(), seeds=None, num_outputs=1)
    plan = plan_sweep(base, seeds=[3, 8], schedulers=["DDIM", "K_EULER"])
    view = window.compare.open(plan=plan, exec_dialog=False)
    assert view is not None
    qtbot.waitUntil(lambda: not view.running, timeout=120000)
    assert len(view.results) == 4, view.status_label.text()
    assert sorted(c.result.seed for c in view.results.values()) == [3, 3, 8, 8]
    assert {c.result.request.scheduler for c in view.results.values()} == {"DDIM", "K_EULER"}
    # 2 schedulers x (one prediction for the seeds 3, and one for 8): all on the server
    assert len(server.service.predictions) == 4
    assert all(q.status == "succeeded" for q in server.service.predictions.values())
    assert not [s for s in ctl.model.jobs.values() if s.kind is JobKind.GENERATE]
    view.close()


def test_the_servers_models_join_the_picker_and_run_there(
    studio, window, qtbot, monkeypatch, server
):
    """No model on this machine: the server's model is listed (asked on the worker), chosen,
    and a generation runs it there; back on this machine it is gone and was never remembered."""
    ctl = studio
    slug = "inpaint-studio/stable-diffusion-inpainting"
    combo = ctl.panel.model_combo
    choose(monkeypatch, EngineLocation(True, server.url, "tok"))
    engine_action(window).trigger()
    qtbot.waitUntil(lambda: combo.findData(slug) >= 0, timeout=20000)
    assert "(server)" in combo.itemText(combo.findData(slug))
    assert combo.findData("inpaint-studio/classical") < 0  # the engine box says classical
    drag(qtbot, window.canvas, [(250, 180), (330, 200), (300, 240)])
    ctl.panel.picker.choose_model(slug)
    p = ctl.panel
    p.steps_spin.setValue(2)
    p.outputs_spin.setValue(1)
    p.target_spin.setValue(64)
    qtbot.waitUntil(lambda: ctl.model.model_state.name is not None, timeout=20000)
    assert ctl.model.model_state.name.startswith(slug)  # "loaded": on the server
    messages = []
    ctl.model.events.message.connect(messages.append)
    ctl.generate()
    qtbot.waitUntil(lambda: ctl.tray.count() == 1 or bool(messages), timeout=120000)
    assert not messages
    assert [q.entry.slug for q in server.service.predictions.values()] == [slug]
    assert slug not in ctl.model.opened_models
    choose(monkeypatch, EngineLocation(False, server.url, "tok"))
    engine_action(window).trigger()
    assert combo.findData(slug) < 0
    assert ctl.panel.picker.current is None
