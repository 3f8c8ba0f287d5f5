"""Engines declare what they can do (class-level capabilities, read by name without creating
one); RunOptions are typed and keep the old JSON/A1111 shape of saved parameters."""

import json

import numpy as np
import pytest

from inpaint_core.engines import registry
from inpaint_core.engines.base import Engine, LoadableEngine
from inpaint_core.engines.classical import ClassicalEngine
from inpaint_core.errors import RequestValidationError
from inpaint_core.inpaint import inpaint, plan_for
from inpaint_core.metadata import format_parameters, request_from_png_text
from inpaint_core.options import RunOptions
from inpaint_core.request import ENGINES, InpaintRequest


def test_every_request_engine_is_registered_and_its_class_agrees():
    assert registry.names() == list(ENGINES)
    for name in registry.names():
        entry = registry.entry(name)
        cls = entry.engine_class()
        assert cls.name == name
        assert cls.capabilities == entry.capabilities
        assert cls.native_resolution is entry.capabilities.native_resolution


def test_engines_implement_the_protocol():
    assert isinstance(ClassicalEngine(), Engine)
    assert not isinstance(ClassicalEngine(), LoadableEngine)
    diffusion = registry.entry("diffusion").engine_class()
    for method in ("load", "unload", "run"):
        assert callable(getattr(diffusion, method))
    assert registry.capabilities("diffusion").loadable
    assert registry.capabilities("diffusion").previews
    assert not registry.capabilities("classical").needs_model


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown engine 'warp'"):
        registry.get_engine("warp")


def test_plan_for_needs_no_engine_instance():
    mask = np.zeros((300, 400), np.uint8)
    mask[100:140, 150:230] = 255
    req = InpaintRequest(target_size=256)
    for name in registry.names():
        cls = registry.entry(name).engine_class()
        by_name = plan_for(req, mask, name)
        assert by_name == plan_for(req, mask, cls)
        assert by_name.native is registry.capabilities(name).native_resolution


def test_old_options_dicts_load_as_run_options_and_write_back_unchanged():
    old = {"method": "telea", "batch_seeds": [11, 12], "radius": 3}
    req = InpaintRequest.from_dict(InpaintRequest().to_dict() | {"options": old})
    assert req.options == RunOptions(method="telea", batch_seeds=(11, 12), extra={"radius": 3})
    assert req.to_dict()["options"] == old
    assert InpaintRequest().to_dict()["options"] == {}
    assert InpaintRequest.from_json(req.to_json()) == req


def test_a1111_options_text_round_trips():
    req = InpaintRequest(options=RunOptions(method="ns", batch_seeds=(1, 2)))
    text = format_parameters(req)
    assert "Options: " in text and "batch_seeds" in text
    assert request_from_png_text({"parameters": text}) == req


def test_an_old_png_options_json_still_reproduces():
    photo = np.full((40, 40, 3), 90, np.uint8)
    photo[:, :20] = 200
    mask = np.zeros((40, 40), np.uint8)
    mask[15:25, 15:25] = 255
    payload = InpaintRequest(engine="classical").to_dict() | {"options": {"method": "biharmonic"}}
    old = InpaintRequest.from_json(json.dumps(payload))  # what an older version wrote
    new = InpaintRequest(options=RunOptions(method="biharmonic"))
    (a,) = inpaint(old, photo, mask, ClassicalEngine())
    (b,) = inpaint(new, photo, mask, ClassicalEngine())
    assert a.info["method"] == "biharmonic"
    assert np.array_equal(a.patch, b.patch)


def test_bad_option_values_name_the_field():
    with pytest.raises(RequestValidationError) as err:
        InpaintRequest(options={"batch_seeds": "11,12"})
    assert err.value.field == "options.batch_seeds"
    with pytest.raises(RequestValidationError) as err:
        InpaintRequest(options=["method"])  # type: ignore[arg-type]
    assert err.value.field == "options"
