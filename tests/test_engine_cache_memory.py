"""The engine cache passes the memory-ladder rung to a diffusion engine, as the CLI's --memory
does (the studio's Generate ▸ GPU memory sets it); a change of rung loads the model again."""

from __future__ import annotations

from inpaint_core.jobs import EngineCache
from inpaint_core.request import InpaintRequest

REQ = InpaintRequest(engine="diffusion", model="/models/x")


def test_the_rung_reaches_the_engine_and_a_change_reloads():
    cache = EngineCache(device="cpu")
    auto = cache(REQ)
    assert auto.memory is None  # from the VRAM
    assert cache(REQ) is auto  # kept between jobs
    cache.memory = "offload"
    forced = cache(REQ)
    assert forced is not auto and forced.memory == "offload"
    assert cache(REQ) is forced


def test_other_engines_ignore_the_rung():
    cache = EngineCache(memory="sequential")
    classical = cache(InpaintRequest(engine="classical"))
    cache.memory = None
    assert cache(InpaintRequest(engine="classical")) is classical
