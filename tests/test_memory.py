"""The memory ladder: the rung chosen from the VRAM per family, applied to a pipeline, chosen by
the user, and one rung down after an out-of-memory (see also test_diffusion_engine's OOM test)."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from inpaint_core import cli
from inpaint_core.models import load_pipeline
from inpaint_core.models.memory import RUNGS, apply_rung, choose_rung, next_rung
from inpaint_core.testing import build_tiny_inpaint_pipeline


@pytest.mark.parametrize(
    ("vram", "family", "rung"),
    [
        (None, "flux", "full"),  # CPU: nothing to ladder
        (139.0, "flux", "full"),  # H200: FLUX.1 Fill whole
        (80.0, "sdxl", "full"),
        (23.6, "flux", "offload"),  # a 24 GB card: the transformer alone fits
        (12.0, "flux", "sequential"),
        (11.7, "sdxl", "full"),
        (8.5, "sdxl", "sliced"),
        (7.8, "sdxl", "tiled"),
        (6.0, "sdxl", "offload"),
        (3.0, "sdxl", "sequential"),
        (3.8, "sd1", "full"),
        (2.6, "sd1", "tiled"),
        (2.3, "sd1", "offload"),
    ],
)
def test_rung_from_vram(vram, family, rung):
    assert choose_rung(vram, family).rung == rung


def test_float32_weights_need_twice_the_memory():
    assert choose_rung(11.7, "sdxl", 2).rung == "full"
    assert choose_rung(11.7, "sdxl", 4).rung == "offload"


def test_ladder_order_and_apply():
    assert [next_rung(r) for r in RUNGS] == [*RUNGS[1:], None]
    pipe = build_tiny_inpaint_pipeline()
    apply_rung(pipe, "tiled", "cpu")
    assert pipe.vae.use_tiling and pipe.vae.use_slicing
    fake = MagicMock()
    apply_rung(fake, "offload", "cuda:1")
    fake.enable_attention_slicing.assert_called_once()
    fake.enable_model_cpu_offload.assert_called_once_with(device="cuda:1")
    fake.enable_sequential_cpu_offload.assert_not_called()
    apply_rung(fake, "sequential", "cuda")
    fake.enable_sequential_cpu_offload.assert_called_once_with(device="cuda")
    with pytest.raises(ValueError, match="unknown memory setting"):
        apply_rung(fake, "huge", "cuda")


def test_loader_applies_the_users_choice(tiny_model_dir):
    auto = load_pipeline(tiny_model_dir, device="cpu")
    assert auto.memory == "full" and "not on a GPU" in auto.memory_reason
    tiled = load_pipeline(tiny_model_dir, device="cpu", memory="tiled")
    assert tiled.memory == "tiled" and tiled.pipe.vae.use_tiling


def test_cli_memory_flag_is_validated(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(
            ["run", "--image", "a", "--mask", "b", "--out", "c", "--memory", "huge"]
        )
    assert "invalid choice" in capsys.readouterr().err
