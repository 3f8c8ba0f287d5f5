"""Parameters loaded into the studio's panel (from a PNG, or a candidate's "Use these settings")
are the request that runs: grow/feather included, even when they equal the other engine's
defaults (a diffusion run with no grow/feather looks like the classical defaults, 0/0)."""

from __future__ import annotations

import pytest

from inpaint_core.request import InpaintRequest


@pytest.fixture
def panel(qtbot):
    from desktop.generation.panel import ParametersPanel

    p = ParametersPanel()
    qtbot.addWidget(p)
    p.show()
    return p


@pytest.mark.parametrize("start_engine", ["classical", "diffusion"])
@pytest.mark.parametrize(
    "grow, feather, engine",
    [(0, 0, "diffusion"), (0, 3, "diffusion"), (7, 3, "diffusion"), (4, 8, "classical")],
)
def test_loaded_parameters_run_as_they_were_saved(
    panel, tiny_model_dir, start_engine, grow, feather, engine
):
    start = InpaintRequest(
        engine=start_engine, model=str(tiny_model_dir) if start_engine == "diffusion" else None
    )
    panel.set_request(start)
    saved = InpaintRequest(
        engine=engine,
        model=str(tiny_model_dir) if engine == "diffusion" else None,
        prompt="a brick wall",
        steps=3,
        seed=5,
        mask_grow=grow,
        mask_feather=feather,
        mask_padding=13,
    )
    panel.set_request(saved)
    got = panel.request()
    assert (got.mask_grow, got.mask_feather) == (grow, feather)
    assert got == saved
    assert (panel.grow_spin.value(), panel.feather_spin.value()) == (grow, feather)
