"""The import-linter contracts in pyproject.toml hold the shape of the code: they pass on the tree
and fail when an upward import, a cycle or a cross-feature import is added (checked on a copy)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def _copy_tree(dst: Path) -> None:
    for package in ("inpaint_core", "desktop"):
        shutil.copytree(
            ROOT / package,
            dst / package,
            ignore=lambda _d, names: [
                n for n in names if n in ("configs", "data", "__pycache__") or n.endswith(".pyc")
            ],
        )
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")


def test_the_contracts_fail_on_upward_imports_cycles_and_cross_feature_imports(tmp_path):
    _copy_tree(tmp_path)
    assert _lint(tmp_path).returncode == 0, "the untouched copy must pass"
    # an engine reaching up into the job queue
    (tmp_path / "inpaint_core" / "engines" / "upward.py").write_text(
        "from inpaint_core import jobs\n"
    )
    # a cycle: the request importing the pipeline that imports it
    request = tmp_path / "inpaint_core" / "request.py"
    request.write_text(request.read_text() + "\nfrom . import inpaint  # noqa\n")
    # one desktop feature importing another
    (tmp_path / "desktop" / "canvas" / "cross.py").write_text(
        "from desktop.generation import panel\n"
    )
    out = _lint(tmp_path)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "core layers" in text and "BROKEN" in text
    assert "inpaint_core.engines.upward -> inpaint_core.jobs" in text
    assert "inpaint_core.request -> inpaint_core.inpaint" in text
    assert "desktop.canvas.cross -> desktop.generation.panel" in text
    assert "desktop features are independent" in text
