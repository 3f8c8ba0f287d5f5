"""The batch command's Ray executor: the same outputs, byte for byte, as the local executor.

Needs the ``ray`` extra (``pip install 'inpaint-studio[ray]'``); skipped with the reason otherwise.
Ray is started once for the module on 2 CPUs with a small object store (FIELD_NOTES: 2-core CI).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from inpaint_core import batch, batch_ray, cli
from inpaint_core.errors import InpaintError
from inpaint_core.request import InpaintRequest

from .test_batch import make_folder

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    # the workers import inpaint_core from this checkout
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), old) if p)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024**2,
        logging_level="ERROR",
    )
    try:
        yield ray
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.png"))}


def both_executors(tmp_path: Path, request: InpaintRequest, **kw) -> tuple[dict, dict]:
    scans, masks = make_folder(tmp_path, **kw)
    items = batch.discover(str(scans), str(masks))
    results = []
    for executor in ("local", "ray"):
        settings = batch.BatchSettings(
            request=request, out=tmp_path / executor, executor=executor, device="cpu"
        )
        summary = batch.run_batch(items, settings)
        assert summary.ok and summary.done == len(items), summary.failed
        results.append(outputs(tmp_path / executor))
    return results[0], results[1]


def test_ray_outputs_are_the_local_outputs_byte_for_byte_classical(ray_local, tmp_path):
    local, on_ray = both_executors(tmp_path, InpaintRequest())
    assert len(local) == 3 and local == on_ray


def test_ray_outputs_are_the_local_outputs_byte_for_byte_tiny_model(
    ray_local, tmp_path, tiny_model_dir
):
    request = InpaintRequest(engine="diffusion", model=str(tiny_model_dir), prompt="old paper",
                             steps=2, target_size=64, mask_padding=8,
                             safety_checker=False)  # fmt: skip
    local, on_ray = both_executors(tmp_path, request, size=(96, 64), names=["coffee", "chelsea"])
    assert len(local) == 2 and local == on_ray


def test_ray_rerun_uses_the_same_journal(ray_local, tmp_path, capsys):
    scans, masks = make_folder(tmp_path, names=["coffee", "chelsea"])
    args = ["batch", "--images", str(scans), "--masks", str(masks), "--out", str(tmp_path / "o"),
            "--executor", "ray", "--quiet"]  # fmt: skip
    assert cli.main(args) == 0
    assert cli.main([*args[:-1], "--executor", "local", "--quiet"]) == 0
    assert "0 done, 2 already done" in capsys.readouterr().out


def test_without_ray_the_executor_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets when it is absent
    scans, masks = make_folder(tmp_path, names=["coffee"])
    code = cli.main(["batch", "--images", str(scans), "--masks", str(masks),
                     "--out", str(tmp_path / "o"), "--executor", "ray", "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "pip install 'inpaint-studio[ray]'" in err[0]


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound to learn a free one, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_ray_address_fails_fast_with_one_line(tmp_path):
    """Ray alone retries a dead address for minutes: the subprocess's timeout is the hang bound."""
    pytest.importorskip("ray", reason="the ray extra is not installed")
    scans, masks = make_folder(tmp_path, names=["coffee"])
    address = f"127.0.0.1:{closed_loopback_port()}"
    cmd = [sys.executable, "-m", "inpaint_core.cli", "batch", "--images", str(scans),
           "--masks", str(masks), "--out", str(tmp_path / "o"), "--executor", "ray",
           "--ray-address", address, "--quiet"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90,
                          env=dict(env, PYTHONPATH=str(REPO)))  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: --ray-address {address}: nothing answers at {address}")
    assert "ray status" in lines[0] and "6379" in lines[0]
    assert not list((tmp_path / "o").glob("*.png"))


class NeverConnects:
    """Stands in for the ``ray`` module: a dead address must be refused before ``ray.init``."""

    def is_initialized(self) -> bool:
        return False

    def init(self, **kwargs):
        raise AssertionError(f"ray.init was called for an unreachable address: {kwargs}")


def test_ray_address_env_is_probed_too_and_named(monkeypatch):
    address = f"ray://127.0.0.1:{closed_loopback_port()}"
    monkeypatch.setenv("RAY_ADDRESS", address)
    with pytest.raises(InpaintError, match=r"^RAY_ADDRESS ray://127\.0\.0\.1:\d+: nothing answers"):
        batch_ray._init(NeverConnects(), None)
    monkeypatch.delenv("RAY_ADDRESS")
    with pytest.raises(InpaintError, match=r"^--ray-address 127\.0\.0\.1:\d+: nothing answers"):
        batch_ray._init(NeverConnects(), f"127.0.0.1:{closed_loopback_port()}")


@pytest.mark.parametrize(
    ("address", "target"),
    [
        ("head.example:6380", ("head.example", 6380)),
        ("head.example", ("head.example", 6379)),
        ("ray://head.example", ("head.example", 10001)),
        ("RAY://10.1.2.3:10002", ("10.1.2.3", 10002)),
        ("[::1]:7000", ("::1", 7000)),
        ("auto", None),
        ("local", None),
    ],
)
def test_probe_target_reads_the_addresses_ray_takes(address, target):
    assert batch_ray.probe_target(address) == target


@pytest.mark.parametrize("address", ["head:port", "ray://:10001", "head:99999"])
def test_a_malformed_ray_address_is_named(address):
    with pytest.raises(InpaintError, match="not an address"):
        batch_ray.probe_target(address)
