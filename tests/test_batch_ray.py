"""The batch command's Ray executor: the same outputs, byte for byte, as the local executor.

Needs the ``ray`` extra (``pip install 'inpaint-studio[ray]'``); skipped with the reason otherwise.
Ray is started once for the module on 2 CPUs with a small object store (FIELD_NOTES: 2-core CI).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from inpaint_core import batch, cli
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
