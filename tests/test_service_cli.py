"""``inpaint-studio-cli serve``: refuses to listen beyond loopback without a token; a real
process serves, wants its token, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from inpaint_core.cli import main
from inpaint_core.service.config import ServiceConfig
from inpaint_core.service.server import BackgroundServer

ROOT = Path(__file__).resolve().parents[1]


def test_non_loopback_host_without_token_exits_2(capsys, monkeypatch):
    monkeypatch.delenv("INPAINT_STUDIO_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--token" in err[0] and "0.0.0.0" in err[0]


def test_bad_port_exits_2(capsys):
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_busy_port_exits_2(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"127.0.0.1:{port}" in err[0]


def test_background_server_on_a_busy_port_raises_and_cleans_up():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        server = BackgroundServer(ServiceConfig(port=s.getsockname()[1], discover_models=False))
        with pytest.raises(RuntimeError, match="did not start"):
            server.start()
    assert not server.service.data_dir.exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_process_answers_wants_its_token_and_stops(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "INPAINT_STUDIO_MODELS": str(tmp_path)}
    env["HF_HUB_CACHE"] = str(tmp_path / "hf")
    proc = subprocess.Popen(
        [sys.executable, "-m", "inpaint_core.cli", "serve", "--port", str(port), "--token", "T0k"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"{url}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.2)
        assert r.status_code == 200 and "/v1/predictions" in r.json()["paths"]
        assert httpx.get(f"{url}/v1/models").status_code == 401
        models = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer T0k"}).json()
        assert "classical" in [m["name"] for m in models["results"]]
        # no --model: the SD slug is not offered
        r = httpx.get(
            f"{url}/v1/models/inpaint-studio/stable-diffusion-inpainting",
            headers={"Authorization": "Bearer T0k"},
        )
        assert r.status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    log = proc.stdout.read().decode()
    # uvicorn shuts down cleanly, then re-raises the signal so the exit status tells it
    assert code in (0, -signal.SIGTERM), log
    assert "Application shutdown complete" in log
