"""What a restorer gets by default: ``inpaint-studio-cli run`` with only --image/--mask/--out.

The request's seam defaults follow the engine (``request.SEAM_DEFAULTS``): the classical engine
takes the damage mask as exact (no grow, no feather). These tests fail if the CLI's defaults change
a pixel outside the damage, or score below OpenCV Telea or below the engine called alone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from inpaint_core import imaging
from inpaint_core.engines.classical import ClassicalEngine
from inpaint_core.events import CancelToken, ignore_events
from inpaint_core.request import SEAM_DEFAULTS, InpaintRequest
from inpaint_core.synthetic_damage import damage, psnr_inside, scratches

REPO = Path(__file__).resolve().parents[1]


def cli(*args: str) -> subprocess.CompletedProcess:
    """The console script's code path (``inpaint_core.cli:main``) in a fresh process."""
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "inpaint_core.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_defaults_follow_the_engine():
    c = InpaintRequest()
    d = InpaintRequest(engine="diffusion")
    assert (c.mask_grow, c.mask_feather) == SEAM_DEFAULTS["classical"] == (0, 0)
    assert (d.mask_grow, d.mask_feather) == SEAM_DEFAULTS["diffusion"] == (4, 8)
    # an explicit choice wins, and a saved request keeps its numbers
    e = InpaintRequest(mask_grow=2, mask_feather=0, engine="diffusion")
    assert (e.mask_grow, e.mask_feather) == (2, 0)
    assert InpaintRequest.from_json(d.to_json()) == d


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """coffee() (600x400) with thin synthetic scratches painted in the scan's dust colour."""
    folder = tmp_path_factory.mktemp("scan")
    photo = data.coffee()
    mask = scratches(*photo.shape[:2], np.random.default_rng(7))
    broken = damage(photo, mask)
    Image.fromarray(broken).save(folder / "scan.png")
    Image.fromarray(mask).save(folder / "damage.png")
    return folder, photo, broken, mask


def test_cli_defaults_touch_nothing_outside_the_damage_and_beat_telea(scan):
    folder, photo, broken, mask = scan
    out = folder / "fixed.png"
    proc = cli("run", "--image", str(folder / "scan.png"), "--mask", str(folder / "damage.png"),
               "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    fixed = imaging.load_image(out).rgb
    outside = mask == 0
    assert np.array_equal(fixed[outside], broken[outside]), (
        f"{int((fixed[outside] != broken[outside]).any(axis=-1).sum())} pixels changed outside"
    )
    ours = psnr_inside(fixed, photo, mask)
    telea = psnr_inside(cv2.inpaint(broken, mask, 3, cv2.INPAINT_TELEA), photo, mask)
    alone = ClassicalEngine().run(InpaintRequest(), broken, mask, ignore_events, CancelToken())
    engine_alone = psnr_inside(alone[0].image, photo, mask)
    assert ours > telea + 1.0, (ours, telea)
    assert ours >= engine_alone - 0.05, (ours, engine_alone)


def test_cli_grow_and_feather_still_apply_when_asked(scan):
    folder, _photo, broken, mask = scan
    out = folder / "grown.png"
    proc = cli("run", "--image", str(folder / "scan.png"), "--mask", str(folder / "damage.png"),
               "--out", str(out), "--grow", "2", "--feather", "2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    fixed = imaging.load_image(out).rgb
    assert (fixed[mask == 0] != broken[mask == 0]).any()  # the seam reaches outside the damage
