"""Erase engine: a tiny TorchScript module with LaMa's call signature (image [0,1] (1,3,H,W),
mask {0,1} (1,1,H,W) -> image), built here, run through the CLI: pixels outside the mask
untouched, the masked area filled, the PNG names the engine and replays."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_core import cli
from inpaint_core.engines.registry import get_engine
from inpaint_core.errors import ModelError
from inpaint_core.imaging import load_image
from inpaint_core.inpaint import inpaint
from inpaint_core.metadata import request_from_png_text
from inpaint_core.resources import sample_mask, sample_photo


class TinyLama(torch.nn.Module):
    """LaMa's interface: fills the hole from its surroundings (a blur of the known pixels)."""

    def __init__(self) -> None:
        super().__init__()
        self.blur = torch.nn.AvgPool2d(9, stride=1, padding=4, count_include_pad=False)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        known = image * (1 - mask)
        weight = self.blur(1 - mask).clamp_min(1e-3)
        fill = self.blur(known) / weight
        for _ in range(6):  # grow the fill inwards
            fill = self.blur(fill * (1 - mask) + fill * mask)
        return known + fill * mask


@pytest.fixture(scope="module")
def lama(tmp_path_factory):
    path = tmp_path_factory.mktemp("erase") / "tiny-lama.pt"
    torch.jit.script(TinyLama()).save(str(path))
    return path


def test_erase_through_the_cli(lama, tmp_path, capsys):
    out = tmp_path / "erased.png"
    args = [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--engine",
        "erase",
    ]
    assert cli.main([*args, "--model", str(lama), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["engine"] == "erase" and len(report["outputs"]) == 1
    photo = load_image(sample_photo())
    mask = np.asarray(Image.open(sample_mask()).convert("L"))
    result = load_image(out)
    far = np.ones(mask.shape, bool)
    ys, xs = np.nonzero(mask)
    far[max(ys.min() - 60, 0) : ys.max() + 60, max(xs.min() - 60, 0) : xs.max() + 60] = False
    assert np.array_equal(result.rgb[far], photo.rgb[far])
    assert np.abs(result.rgb[mask > 0].astype(int) - photo.rgb[mask > 0]).mean() > 5
    req = request_from_png_text(result.text)
    assert req.engine == "erase" and req.model == str(lama)
    (again,) = inpaint(req, photo, mask, get_engine("erase", model=req.model))
    assert np.array_equal(again.composite(photo.rgb), result.rgb)


def test_erase_refuses_what_is_not_torchscript(tmp_path, capsys):
    bad = tmp_path / "big-lama.pt"
    bad.write_bytes(b"not a model")
    args = [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--engine",
        "erase",
    ]
    assert cli.main([*args, "--model", str(bad), "--out", str(tmp_path / "o.png")]) == 2
    assert "not a TorchScript model" in capsys.readouterr().err
    assert cli.main([*args, "--out", str(tmp_path / "o.png")]) == 2
    assert "--engine erase needs --model" in capsys.readouterr().err
    with pytest.raises(ModelError, match="not found"):
        get_engine("erase", model=str(tmp_path / "missing.pt")).load()


class TinyMiGan(torch.nn.Module):
    """MI-GAN's interface: one (1, 4, 512, 512) input = (0.5 - mask, image * (1 - mask)), image in
    [-1, 1] out. Fills the hole with the mean of the known pixels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        torch._assert(x.shape[1] == 4 and x.shape[2] == 512 and x.shape[3] == 512, "512x512x4")
        hole = 0.5 - x[:, :1]
        known = x[:, 1:]
        mean = known.sum(dim=(2, 3), keepdim=True) / (1 - hole).sum().clamp_min(1.0)
        return known + hole * mean


def test_migan_through_the_cli(tmp_path, capsys):
    path = tmp_path / "migan_traced.pt"
    torch.jit.script(TinyMiGan()).save(str(path))
    engine = get_engine("erase", model=str(path))
    engine.load()
    assert engine._kind == "migan"
    out = tmp_path / "erased.png"
    args = [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--engine",
        "erase",
    ]
    assert (
        cli.main([*args, "--model", str(path), "--out", str(out), "--json", "--padding", "400"])
        == 0
    )
    capsys.readouterr()
    photo = load_image(sample_photo())
    mask = np.asarray(Image.open(sample_mask()).convert("L"))
    result = load_image(out)
    far = np.ones(mask.shape, bool)
    ys, xs = np.nonzero(mask)
    far[max(ys.min() - 60, 0) : ys.max() + 60, max(xs.min() - 60, 0) : xs.max() + 60] = False
    assert np.array_equal(result.rgb[far], photo.rgb[far])
    inside = result.rgb[mask > 0].astype(int)
    assert np.abs(inside - photo.rgb[mask > 0]).mean() > 5
    assert inside.std(axis=0).max() < 30  # one flat colour, scaled back from 512 with the crop
