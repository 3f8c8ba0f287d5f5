"""The check of a Ray address before ``ray.init``: nothing answering, or something that is not Ray,
is refused in seconds with one line; a real Ray head passes.

Ray alone retries such an address for minutes, so the CLI tests run the command in a subprocess
whose timeout is the hang bound. The real-head tests start ``ray start --head --block`` in a
private temp dir (so no other ``ray.init`` on this machine finds it) and are skipped without Ray.
"""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inpaint_core import batch_ray
from inpaint_core.errors import InpaintError
from inpaint_core.ray_address import RayTarget, check_reachable, probe_target

from .test_batch import make_folder

REPO = Path(__file__).resolve().parents[1]
#: a hang shows as a failed test, not a stuck suite (the check itself takes a few seconds)
CLI_TIMEOUT_S = 90


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound to learn a free one, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request lines in the test output
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    """A plain HTTP/1.1 server on loopback (what the dashboard's port, 8265, looks like)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener that accepts every connection and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:  # the 0.1 s poll of `stop`, or the listener closed
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def run_batch_cli(tmp_path: Path, address: str) -> subprocess.CompletedProcess:
    scans, masks = make_folder(tmp_path, names=["coffee"])
    cmd = [sys.executable, "-m", "inpaint_core.cli", "batch", "--images", str(scans),
           "--masks", str(masks), "--out", str(tmp_path / "o"), "--executor", "ray",
           "--ray-address", address, "--quiet"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
                          env=dict(env, PYTHONPATH=str(REPO)))  # fmt: skip


def test_an_unreachable_ray_address_fails_fast_with_one_line(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    address = f"127.0.0.1:{closed_loopback_port()}"
    proc = run_batch_cli(tmp_path, address)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: --ray-address {address}: nothing answers at {address}")
    assert "ray status" in lines[0] and "6379" in lines[0]
    assert not list((tmp_path / "o").glob("*.png"))


@pytest.mark.parametrize(
    ("listener", "why"),
    [("http_port", "it does not speak gRPC"), ("silent_port", "no gRPC answer within 5 s")],
)
def test_a_listener_that_is_not_ray_fails_fast_with_one_line(tmp_path, request, listener, why):
    """TCP connects there, so only the gRPC check stands between this and minutes of retries."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    pytest.importorskip("grpc", reason="grpc (Ray Client's dependency) is not installed")
    address = f"127.0.0.1:{request.getfixturevalue(listener)}"
    proc = run_batch_cli(tmp_path, address)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(
        f"error: --ray-address {address}: what answers at {address} is not a Ray head node "
        f"(GCS) ({why}); check the address: "
    ), lines[0]
    assert "6379" in lines[0] and "ray://HOST:PORT" in lines[0] and "8265" in lines[0]
    assert not list((tmp_path / "o").glob("*.png"))


class NeverConnects:
    """Stands in for the ``ray`` module: a bad address must be refused before ``ray.init``."""

    def is_initialized(self) -> bool:
        return False

    def init(self, **kwargs):
        raise AssertionError(f"ray.init was called for a bad address: {kwargs}")


def test_ray_address_env_is_probed_too_and_named(monkeypatch):
    address = f"ray://127.0.0.1:{closed_loopback_port()}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    with pytest.raises(InpaintError, match=r"^RAY_ADDRESS ray://127\.0\.0\.1:\d+: nothing answers"):
        batch_ray._init(NeverConnects(), None)
    monkeypatch.delenv("RAY_ADDRESS")
    with pytest.raises(InpaintError, match=r"^--ray-address 127\.0\.0\.1:\d+: nothing answers"):
        batch_ray._init(NeverConnects(), f"127.0.0.1:{closed_loopback_port()}")


def test_ray_client_form_and_ray_address_env_meet_the_grpc_check(monkeypatch, http_port):
    pytest.importorskip("grpc", reason="grpc (Ray Client's dependency) is not installed")
    address = f"ray://127.0.0.1:{http_port}"
    not_client = rf"what answers at 127\.0\.0\.1:{http_port} is not a Ray Client server "
    monkeypatch.setenv("RAY_ADDRESS", address)
    with pytest.raises(InpaintError, match=rf"^RAY_ADDRESS {address}: {not_client}"):
        batch_ray._init(NeverConnects(), None)
    monkeypatch.delenv("RAY_ADDRESS")
    with pytest.raises(InpaintError, match=rf"^--ray-address {address}: {not_client}"):
        batch_ray._init(NeverConnects(), address)


def test_without_grpc_only_the_tcp_answer_is_checked(monkeypatch, http_port):
    """Ray core does not require grpc: the check must not fail for want of it."""
    monkeypatch.setitem(sys.modules, "grpc", None)  # what `import grpc` meets when it is absent
    check_reachable(f"127.0.0.1:{http_port}")
    with pytest.raises(InpaintError, match="nothing answers"):
        check_reachable(f"127.0.0.1:{closed_loopback_port()}")


def test_with_ray_tls_only_the_tcp_answer_is_checked(monkeypatch, http_port):
    """A TLS cluster cannot be spoken to without Ray's certificates: no false refusal."""
    monkeypatch.setenv("RAY_USE_TLS", "1")
    check_reachable(f"ray://127.0.0.1:{http_port}")


@pytest.mark.parametrize(
    ("address", "target"),
    [
        ("head.example:6380", RayTarget("head.example", 6380, client=False)),
        ("head.example", RayTarget("head.example", 6379, client=False)),
        ("ray://head.example", RayTarget("head.example", 10001, client=True)),
        ("RAY://10.1.2.3:10002", RayTarget("10.1.2.3", 10002, client=True)),
        ("[::1]:7000", RayTarget("::1", 7000, client=False)),
        ("auto", None),
        ("local", None),
    ],
)
def test_probe_target_reads_the_addresses_ray_takes(address, target):
    assert probe_target(address) == target


@pytest.mark.parametrize("address", ["head:port", "ray://:10001", "head:99999"])
def test_a_malformed_ray_address_is_named(address):
    with pytest.raises(InpaintError, match="not an address"):
        probe_target(address)


# --- a real Ray head: the check lets it through, and names the other port of it ----------------


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def ray_head() -> Iterator[tuple[int, int]]:
    """(GCS port, Ray Client port) of a `ray start --head --block` on loopback."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    pytest.importorskip("grpc", reason="grpc (Ray Client's dependency) is not installed")
    ray_cli = shutil.which("ray", path=str(Path(sys.executable).parent))
    if ray_cli is None:
        pytest.skip("the `ray` command is not installed beside this Python")
    gcs, client = closed_loopback_port(), closed_loopback_port()
    # short: Ray's Unix sockets live under it (108-byte limit); private: no ray.init finds it
    temp_dir = tempfile.mkdtemp(prefix="rh", dir="/tmp")
    cmd = [ray_cli, "start", "--head", "--block", f"--port={gcs}",
           f"--ray-client-server-port={client}", "--node-ip-address=127.0.0.1", "--num-cpus=1",
           "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp_dir}",
           f"--object-store-memory={100 * 1024**2}"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    head = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (_accepts(gcs) and _accepts(client)):
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`ray start --head` did not come up (exit {head.poll()})")
            time.sleep(0.2)
        yield gcs, client
    finally:
        head.send_signal(signal.SIGTERM)  # --block stops every process of the head on SIGTERM
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(10)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.mark.slow
def test_a_real_ray_head_passes_the_check(ray_head):
    gcs, client = ray_head
    started = time.monotonic()
    check_reachable(f"127.0.0.1:{gcs}")
    check_reachable(f"ray://127.0.0.1:{client}")
    check_reachable(f"localhost:{gcs}")
    assert time.monotonic() - started < 10  # answers come in milliseconds; deadlines are 5 s


@pytest.mark.slow
def test_the_other_port_of_a_ray_head_is_named(ray_head):
    gcs, client = ray_head
    with pytest.raises(InpaintError) as caught:
        check_reachable(f"127.0.0.1:{client}")
    assert f"is not a Ray head node (GCS) (it is a Ray Client server: use ray://127.0.0.1:{client})" in str(caught.value)  # fmt: skip
    with pytest.raises(InpaintError) as caught:
        check_reachable(f"ray://127.0.0.1:{gcs}", source="RAY_ADDRESS")
    message = str(caught.value)
    assert message.startswith(f"RAY_ADDRESS ray://127.0.0.1:{gcs}: what answers at 127.0.0.1:")
    assert f"is not a Ray Client server (it is the head node's GCS: use 127.0.0.1:{gcs} without ray://" in message  # fmt: skip
