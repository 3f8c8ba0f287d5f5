"""Property-based tests (hypothesis) of every reader of untrusted bytes: the parameters text, the
metadata JSON, the image loader and the safetensors header. On random and mutated input each
call ends within the deadline and raises nothing but our typed errors."""

from __future__ import annotations

import io
import json
import re
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from inpaint_core.errors import ImageLoadError, ModelError
from inpaint_core.imaging import load_image
from inpaint_core.jsonsafe import JsonLimitError, loads_limited
from inpaint_core.metadata import (
    MetadataError,
    _scan_pairs,
    parameters_from_text,
    parse_parameters,
    request_from_parameters,
)
from inpaint_core.models.safe_files import read_safetensors_header
from inpaint_core.options import RunOptions

# generous per-call deadlines: the machine is shared; a hang or a quadratic case is far beyond
FAST = settings(
    deadline=3000,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(
    deadline=5000,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

A1111 = (
    "a cat in a hat, (masterpiece:1.2)\nNegative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 42, Size: 512x512, "
    'Model: sd15, Denoising strength: 0.75, Mask blur: 4, Options: {"method": "telea"}, '
    'Lora hashes: "a: 1, b: 2", Safety checker: False'
)
OURS = json.dumps(
    {"engine": "diffusion", "prompt": "x", "seed": 3, "scheduler": "DDIM", "options": {"a": [1]}}
)

# A1111's own regex (modules/infotext_utils.py), the reference the linear scanner must agree with
A1111_RE = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
PAIR_ALPHABET = st.sampled_from(list('ab Z9_:,"\\-/\t\u00e9{}[]x '))


def mutations(seed: str | bytes) -> st.SearchStrategy:
    """``seed`` with random bytes/characters replaced, inserted, deleted, or cut short."""
    is_text = isinstance(seed, str)
    piece = st.text(max_size=8) if is_text else st.binary(max_size=8)

    @st.composite
    def mutate(draw):
        data = seed
        for _ in range(draw(st.integers(0, 6))):
            n = len(data)
            at = draw(st.integers(0, max(0, n)))
            kind = draw(st.sampled_from(["replace", "insert", "delete", "cut", "repeat"]))
            if kind == "replace" and n:
                at = min(at, n - 1)
                data = data[:at] + draw(piece) + data[at + 1 :]
            elif kind == "insert":
                data = data[:at] + draw(piece) + data[at:]
            elif kind == "delete" and n:
                end = draw(st.integers(at, min(n, at + 64)))
                data = data[:at] + data[end:]
            elif kind == "cut":
                data = data[:at]
            elif kind == "repeat" and n:
                end = draw(st.integers(at, min(n, at + 16)))
                data = data[:at] + data[at:end] * draw(st.integers(1, 200)) + data[end:]
        return data

    return mutate()


# -- parameters text ------------------------------------------------------------------------------


@FAST
@given(st.text(alphabet=PAIR_ALPHABET, max_size=60))
def test_linear_scanner_finds_the_pairs_a1111s_regex_finds(line):
    assert _scan_pairs(line) == A1111_RE.findall(line)


@FAST
@given(st.one_of(st.text(max_size=3000), mutations(A1111)))
@example("a" * 100_000)
@example("x\n" + "Steps: 1, " * 5000)
@example('x\nk: "' + '\\"' * 20_000)
def test_parameters_readers_raise_only_metadata_errors(text):
    try:
        out = parse_parameters(text)
        assert isinstance(out["prompt"], str)
    except MetadataError:
        pass
    for strict in (True, False):
        try:
            request_from_parameters(text, strict=strict)
        except MetadataError:
            pass


# -- metadata JSON ----------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)
FIELD_NAMES = st.sampled_from(
    ["prompt", "seed", "seeds", "steps", "scheduler", "safety_checker", "options", "engine",
     "width", "guidance_scale", "strength", "model", "color_match", "mask_grow", "target_size"]
)  # fmt: skip


@FAST
@given(
    st.one_of(
        st.text(max_size=500),
        mutations(OURS),
        st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=6).map(json.dumps),
        JSON_VALUES.map(json.dumps),
    ),
    st.one_of(st.none(), st.text(max_size=300), mutations(A1111)),
)
@example("[" * 50_000 + "]" * 50_000, None)
@example('{"engine": "diffusion", "safety_checker": "no"}', None)
def test_metadata_readers_raise_only_metadata_errors(raw_json, params):
    text = {"inpaint_studio": raw_json}
    if params is not None:
        text["parameters"] = params
    try:
        found = parameters_from_text(text, strict=False)
    except MetadataError:
        return
    req = found.request
    assert isinstance(req.safety_checker, bool) and isinstance(req.scheduler, str)
    assert isinstance(req.options, RunOptions)


@FAST
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400), JSON_VALUES.map(json.dumps)))
@example("[" * 100_000)
@example(b"\xff\xfe\x00")
def test_loads_limited_raises_only_its_error(raw):
    try:
        loads_limited(raw, max_depth=8, max_chars=50_000)
    except JsonLimitError:
        pass


# -- the image loader -----------------------------------------------------------------------------


def _encoded() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    im = Image.fromarray(rgb)
    out: dict[str, bytes] = {}
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111)
    info.add_text("inpaint_studio", OURS, zip=True)
    for fmt, kwargs in [
        ("PNG", {"pnginfo": info}),
        ("JPEG", {"quality": 80}),
        ("WEBP", {"quality": 80}),
        ("GIF", {}),
        ("BMP", {}),
        ("TIFF", {}),
    ]:
        buf = io.BytesIO()
        im.save(buf, fmt, **kwargs)
        out[fmt] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(np.dstack([rgb, rgb[..., 0]])).save(buf, "PNG")
    out["RGBA"] = buf.getvalue()
    return out


ENCODED = _encoded()


def _load(data: bytes) -> None:
    try:
        img = load_image(data, max_pixels=2_000_000)
    except ImageLoadError:
        return
    assert img.rgb.dtype == np.uint8 and img.rgb.ndim == 3 and img.rgb.shape[2] == 3
    try:
        parameters_from_text(img.text, strict=False)
    except MetadataError:
        pass


@SLOW
@given(st.sampled_from(sorted(ENCODED)).flatmap(lambda k: mutations(ENCODED[k])))
def test_image_loader_on_mutated_files_raises_only_load_errors(data):
    _load(data)


@SLOW
@given(st.binary(max_size=2000))
@example(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
@example(b"GIF89a" + b"\xff" * 20)
def test_image_loader_on_random_bytes_raises_only_load_errors(data):
    _load(data)


# -- safetensors headers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def st_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("safetensors")


GOOD_HEADER = json.dumps(
    {
        "__metadata__": {"format": "pt"},
        "model.diffusion_model.input_blocks.0.0.weight": {
            "dtype": "F16",
            "shape": [2, 9, 1, 1],
            "data_offsets": [0, 36],
        },
    }
).encode()


@FAST
@given(data=st.one_of(st.binary(max_size=300), mutations(GOOD_HEADER)), pad=st.integers(0, 64))
def test_safetensors_header_reader_raises_only_model_errors(st_dir, data, pad):
    path = st_dir / "x.safetensors"
    length = len(data) if isinstance(data, bytes) else 0
    path.write_bytes(struct.pack("<Q", length) + data + b"\0" * pad)
    try:
        read_safetensors_header(path)
    except ModelError:
        pass
    path.write_bytes(data)  # no length prefix at all
    try:
        read_safetensors_header(path)
    except ModelError:
        pass
