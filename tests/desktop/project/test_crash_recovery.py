"""The crash test: the REAL app (``python -m desktop.app``, offscreen) with a 1 s autosave paints a
stroke through the test hooks (:mod:`desktop.testhooks`), autosaves, is SIGKILLed; the next start
shows the Recover dialog, and restoring gives back the strokes. A clean exit leaves nothing to
recover. Every wait is bounded (a hang fails, it never blocks the suite)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
STARTUP_S = 120  # a cold start under load (torch imports) is slow on shared CI machines


def _env(tmp_path, report, **extra):
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        INPAINT_STUDIO_AUTOSAVE_SECONDS="1",
        INPAINT_STUDIO_TEST_DIR=str(report),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.update(extra)
    return env


def _start(tmp_path, report, **extra):
    return subprocess.Popen(
        [sys.executable, "-m", "desktop.app", "--settings-dir", str(tmp_path / "settings")],
        cwd=ROOT,
        env=_env(tmp_path, report, **extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _events(report):
    path = report / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait_for(proc, report, event, timeout=STARTUP_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in _events(report) if e["event"] == event]
        if found:
            return found[0]
        if proc.poll() is not None:
            pytest.fail(f"the app ended ({proc.returncode}) before {event}: {proc.stderr.read()}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"no {event} within {timeout} s; events: {_events(report)}")


def _wait_exit(proc, timeout=60):
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the app did not exit")


def test_sigkill_then_restart_offers_recovery_and_restores_the_strokes(tmp_path):
    first = tmp_path / "first"
    proc = _start(tmp_path, first, INPAINT_STUDIO_TEST_STROKE="100,100,400,250,30")
    try:
        painted = _wait_for(proc, first, "painted")
        _wait_for(proc, first, "autosaved", timeout=60)
    finally:
        proc.send_signal(signal.SIGKILL)  # a crash: no clean exit, nothing tidied
        proc.wait(30)
    mask = np.load(first / painted["mask"])
    assert mask.any()
    autosaves = list((tmp_path / "xdg-data" / "inpaint-studio" / "autosave").glob("*.ora"))
    assert len(autosaves) == 1

    second = tmp_path / "second"
    proc = _start(tmp_path, second, INPAINT_STUDIO_TEST_RECOVER="restore")
    try:
        dialog = _wait_for(proc, second, "recover_dialog")
        restored = _wait_for(proc, second, "restored")
        _wait_for(proc, second, "started")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert dialog["title"].startswith("Recover")
    assert [i["name"] for i in dialog["items"]] == ["Sample photo"]
    assert dialog["items"][0]["thumbnail"]
    assert np.array_equal(np.load(second / restored["mask"]), mask)


def test_a_clean_exit_leaves_nothing_to_recover(tmp_path):
    first = tmp_path / "first"
    proc = _start(
        tmp_path,
        first,
        INPAINT_STUDIO_TEST_STROKE="100,100,400,250,30",
        INPAINT_STUDIO_TEST_QUIT="after-autosave",
    )
    _wait_for(proc, first, "autosaved")
    assert _wait_exit(proc) == 0
    assert not list((tmp_path / "xdg-data" / "inpaint-studio" / "autosave").glob("*.ora"))

    second = tmp_path / "second"
    proc = _start(tmp_path, second, INPAINT_STUDIO_TEST_QUIT="now")
    _wait_for(proc, second, "started")
    assert _wait_exit(proc) == 0
    assert not [e for e in _events(second) if e["event"] == "recover_dialog"]
