"""Property-based fuzzing of the API from its own OpenAPI document: no input gives a 5xx.

Bodies are drawn from the model version's input schema (right types, wrong types, out-of-range
numbers, unknown names, every kind of image reference) and from arbitrary JSON; path parameters
of every route in ``/openapi.json`` are drawn as arbitrary text.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import quote

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service_helpers import png_bytes, start_server

CLASSICAL = "inpaint-studio/classical"
SIZE = 32


@pytest.fixture(scope="module")
def server():
    s = start_server(queue_size=1000)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def schema(http):
    model = http.get(f"/v1/models/{CLASSICAL}").json()
    return model["latest_version"]["openapi_schema"]["components"]["schemas"]["Input"]


def _data_uri(array: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(array)).decode()


rng = np.random.default_rng(0)
PHOTO = _data_uri(rng.integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8))
MASK_PX = np.zeros((SIZE, SIZE), np.uint8)
MASK_PX[8:20, 10:22] = 255
MASK = _data_uri(MASK_PX)
IMAGE_REFS = st.sampled_from(
    [
        PHOTO,
        MASK,
        _data_uri(np.zeros((SIZE + 8, SIZE), np.uint8)),  # wrong size
        _data_uri(np.zeros((SIZE, SIZE), np.uint8)),  # empty mask
        "data:,x",
        "data:image/png;base64,!!!",
        "data:",
        "file:///etc/passwd",
        "http://127.0.0.1:1/x.png",
        "http://[::1]:1/x.png",
        "https://",
        "",
    ]
) | st.text(max_size=30)

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def from_property(prop: dict) -> st.SearchStrategy:
    """Valid-looking values from one JSON-schema property, or junk."""
    options = prop.get("anyOf", [prop])
    strategies = [JUNK]
    for opt in options:
        kind = opt.get("type")
        if "enum" in opt:
            strategies.append(st.sampled_from(opt["enum"]))
        elif kind == "integer":
            lo, hi = opt.get("minimum", -100), opt.get("maximum", 10_000)
            strategies.append(st.integers(min_value=lo - 2, max_value=min(hi, 600) + 2))
        elif kind == "number":
            lo, hi = opt.get("minimum", -1.0), opt.get("maximum", 100.0)
            strategies.append(st.floats(min_value=lo - 1, max_value=hi + 1, allow_nan=False))
        elif kind == "boolean":
            strategies.append(st.booleans())
        elif kind == "string":
            strategies.append(st.text(max_size=40))
    return st.one_of(*strategies)


def inputs(schema: dict) -> st.SearchStrategy:
    props = schema["properties"]
    fields = {name: from_property(p) for name, p in props.items() if name not in ("image", "mask")}
    fields["image"] = IMAGE_REFS
    fields["mask"] = IMAGE_REFS
    # keep generated work small: few steps, small sizes (big values are still drawn as junk)
    base = st.fixed_dictionaries({"image": st.just(PHOTO), "mask": st.just(MASK)})
    optional = st.fixed_dictionaries({}, optional=fields)
    extra = st.dictionaries(st.text(min_size=1, max_size=8), JUNK, max_size=1)
    return st.builds(lambda b, o, e: {**b, **o, **e}, base, optional, extra)


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_fuzz_prediction_inputs_never_5xx(http, schema):
    seen: dict[int, int] = {}

    @FUZZ
    @given(inputs(schema))
    def check(input_):
        r = http.post(f"/v1/models/{CLASSICAL}/predictions", json={"input": input_})
        seen[r.status_code] = seen.get(r.status_code, 0) + 1
        assert r.status_code < 500, (input_, r.text)
        if r.status_code == 201:
            done = http.get(r.json()["urls"]["get"], headers={"Prefer": "wait=30"})
            assert done.status_code == 200
            body = done.json()
            assert body["status"] in ("succeeded", "failed"), body
            if body["status"] == "failed":
                assert body["error"] and "Traceback" not in body["error"]
        else:
            assert r.json()["detail"]

    check()
    assert 201 in seen and 422 in seen  # both paths were exercised


def test_fuzz_any_json_body_never_5xx(http):
    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(
                st.sampled_from(["version", "input", "image", "x"]), children, max_size=3
            )
        ),
        max_leaves=8,
    )

    @FUZZ
    @given(json_values, st.sampled_from(["/v1/predictions", f"/v1/models/{CLASSICAL}/predictions"]))
    def check(body, path):
        r = http.post(path, json=body)
        assert r.status_code < 500, (body, r.text)

    check()


def test_fuzz_every_route_path_parameters_never_5xx(http):
    spec = http.get("/openapi.json").json()
    routes = [
        (path, method)
        for path, ops in spec["paths"].items()
        for method in ops
        if method in ("get", "post", "delete") and "{" in path
    ]
    assert len(routes) >= 8

    prefer = st.sampled_from(["wait", "wait=0", "wait=1", "wait=999999999", "wait=-1", "x"]) | (
        st.from_regex(r"\A[!-~]{1,12}\Z")
    )

    @FUZZ
    @given(st.sampled_from(routes), st.text(min_size=1, max_size=30), prefer)
    def check(route, param, header):
        path, method = route
        url = re.sub(r"\{[^}]+\}", quote(param, safe=""), path)
        headers = {"Prefer": header}
        r = http.request(method.upper(), url, headers=headers)
        assert r.status_code < 500, (method, url, r.text)

    check()
