import pytest

from inpaint_core.errors import RequestValidationError
from inpaint_core.request import InpaintRequest


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("steps", 0, "between 1 and 500"),
        ("steps", 501, "between 1 and 500"),
        ("steps", 2.5, "whole number"),
        ("guidance_scale", -1, "between"),
        ("strength", 1.5, "between 0.0 and 1.0"),
        ("strength", 0.0, "above 0"),
        ("num_outputs", 0, "between"),
        ("seed", -3, "between"),
        ("width", 500, "multiple of 8"),
        ("height", 32, "between 64"),
        ("engine", "magic", "classical, diffusion"),
        ("mask_feather", -1, "between"),
        ("seeds", (), "at least one"),
    ],
)
def test_validation_names_the_field_and_range(field, value, words):
    with pytest.raises(RequestValidationError) as info:
        InpaintRequest(**{field: value})
    assert info.value.field == field
    assert field in str(info.value) and words in str(info.value)


def test_unknown_scheduler_for_diffusion_is_rejected():
    with pytest.raises(RequestValidationError, match="scheduler"):
        InpaintRequest(engine="diffusion", scheduler="Nonsense")


def test_a1111_scheduler_names_are_accepted():
    assert InpaintRequest(engine="diffusion", scheduler="Euler a").scheduler == "Euler a"


def test_resolved_random_seed_is_concrete_and_consecutive():
    r = InpaintRequest(num_outputs=3).resolved()
    assert r.seed is not None and r.seeds == (r.seed, r.seed + 1, r.seed + 2)
    assert InpaintRequest(seed=7, num_outputs=2).resolved().seeds == (7, 8)


def test_explicit_seeds_override_num_outputs():
    r = InpaintRequest(seeds=[4, 1, 9]).resolved()
    assert r.seeds == (4, 1, 9) and r.num_outputs == 3 and r.seed == 4


def test_json_round_trip():
    r = InpaintRequest(
        prompt="a cat\non a mat", seeds=(1, 2), options={"method": "telea"}, width=512, height=384
    )
    assert InpaintRequest.from_json(r.to_json()) == r


def test_from_dict_rejects_unknown_fields():
    with pytest.raises(RequestValidationError, match="not a request field"):
        InpaintRequest.from_dict({"prompt": "x", "cfg": 3})
