"""Hardening of metadata reading: linear-time, size-capped parsers; typed request fields; the one
entry point (read_parameters) and its CLI (``inpaint-studio-cli params``)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from inpaint_core import cli
from inpaint_core.errors import ImageLoadError, RequestValidationError
from inpaint_core.imaging import save_png
from inpaint_core.jsonsafe import JsonLimitError, loads_limited
from inpaint_core.metadata import (
    MAX_PARAMETERS_CHARS,
    MetadataError,
    parse_parameters,
    read_parameters,
    request_from_parameters,
    request_from_png_text,
)
from inpaint_core.request import InpaintRequest

ROOT = Path(__file__).resolve().parent.parent
A1111 = (
    "a cat in a hat\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 6.5, Seed: 42, Size: 512x512, Model: sd15"
)


def _run_python(code: str, seconds: float) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with a hard time limit (a regex stuck in C holds the
    GIL, so a thread could not be timed out)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=seconds,
    )


# -- linear time, size caps -------------------------------------------------------------------


@pytest.mark.parametrize(
    "line_expr",
    [
        "'a' * 200_000",  # one long word: A1111's regex retried it at every position
        "'ab -/' * 40_000",
        "'Steps: 20, ' + 'x y' * 60_000",
    ],
)
def test_parameters_parser_is_linear_on_one_long_line(line_expr):
    code = f"""
        from inpaint_core.metadata import parse_parameters
        text = "prompt\\n" + {line_expr}
        print(len(parse_parameters(text)))
    """
    try:
        done = _run_python(code, 30.0)
    except subprocess.TimeoutExpired:
        pytest.fail("parse_parameters took over 30 s on a 200 kB line (quadratic)")
    assert done.returncode == 0, done.stderr


def test_a_png_whose_text_inflates_to_a_megabyte_is_refused_quickly(tmp_path):
    """~1 kB on disk, 1 MB of parameters text once inflated: a typed error within the bound."""
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "p\n" + "a" * 1_000_000, zip=True)
    path = tmp_path / "bomb.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    assert path.stat().st_size < 4096
    code = f"""
        from inpaint_core.metadata import read_parameters, MetadataError
        try:
            read_parameters({str(path)!r})
        except MetadataError as exc:
            print("refused:", exc)
    """
    try:
        done = _run_python(code, 30.0)
    except subprocess.TimeoutExpired:
        pytest.fail("reading the parameters of a 1 kB PNG took over 30 s")
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "over the limit" in done.stdout


def test_parameters_over_the_cap_are_a_metadata_error():
    with pytest.raises(MetadataError, match="over the limit"):
        parse_parameters("x" * (MAX_PARAMETERS_CHARS + 1))


def test_parser_still_reads_a1111_text():
    p = parse_parameters(A1111)
    assert p["prompt"] == "a cat in a hat" and p["Sampler"] == "Euler a" and p["Seed"] == "42"
    quoted = parse_parameters('x\nSteps: 5, Model: "a, b: c", Seed: 3, Size: 64x64')
    assert quoted["Model"] == "a, b: c" and quoted["Seed"] == "3"


# -- JSON: size and depth -----------------------------------------------------------------------


def test_deeply_nested_json_chunk_is_a_metadata_error_not_recursion():
    deep = "[" * 200_000 + "]" * 200_000
    with pytest.raises(MetadataError, match="nested too deeply|over the limit"):
        request_from_png_text({"inpaint_studio": deep})
    deep_small = "[" * 5000 + "]" * 5000  # under the size cap, over Python's recursion limit
    with pytest.raises(MetadataError, match="nested too deeply"):
        request_from_png_text({"inpaint_studio": deep_small})
    nested_obj = '{"a":' * 40 + "1" + "}" * 40
    with pytest.raises(MetadataError, match="nested too deeply"):
        request_from_png_text({"inpaint_studio": nested_obj})


def test_deep_options_in_a1111_text_are_skipped_or_refused():
    text = "p\nSteps: 5, Seed: 1, Size: 64x64, Options: " + json.dumps("[" * 5000 + "]" * 5000)
    with pytest.raises(MetadataError, match="Options"):
        request_from_parameters(text, strict=True)
    assert request_from_parameters(text, strict=False).options.to_dict() == {}


def test_loads_limited():
    assert loads_limited('{"a": [1, 2]}') == {"a": [1, 2]}
    with pytest.raises(JsonLimitError, match="over the limit"):
        loads_limited("[]" * 10, max_chars=5)
    with pytest.raises(JsonLimitError, match="nested"):
        loads_limited("[[[[1]]]]", max_depth=3)
    with pytest.raises(JsonLimitError, match="not valid JSON"):
        loads_limited("{")


# -- typed fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("safety_checker", "no"),
        ("safety_checker", 0),
        ("color_match", "yes"),
        ("scheduler", 5),
        ("scheduler", ["DDIM"]),
        ("model", 3),
        ("options", ["method", "telea"]),
        ("seeds", 7),
        ("engine", ["classical"]),
    ],
)
def test_from_dict_refuses_wrong_types(field, value):
    for engine in ("classical", "diffusion"):
        data = {"engine": engine, field: value} if field != "engine" else {field: value}
        with pytest.raises(RequestValidationError) as info:
            InpaintRequest.from_dict(data)
        assert info.value.field == field


def test_safety_checker_no_in_metadata_is_never_true():
    bad = json.dumps({"engine": "diffusion", "safety_checker": "no"})
    with pytest.raises(MetadataError, match="safety_checker"):
        request_from_png_text({"inpaint_studio": bad})
    # with A1111 text beside it, the text is used instead (and it says False)
    text = "p\nSteps: 5, Seed: 1, Size: 64x64, Safety checker: no"
    req = request_from_png_text({"inpaint_studio": bad, "parameters": text})
    assert req.safety_checker is False
    assert (
        request_from_parameters("p\nSteps: 5, Seed: 1, Safety checker: off").safety_checker is False
    )
    with pytest.raises(MetadataError, match="Safety checker"):
        request_from_parameters("p\nSteps: 5, Seed: 1, Safety checker: perhaps")


def test_scheduler_of_the_wrong_type_fails_validation_not_later():
    bad = json.dumps({"engine": "classical", "scheduler": {"x": 1}})
    with pytest.raises(MetadataError, match="scheduler"):
        request_from_png_text({"inpaint_studio": bad})


# -- read_parameters, the one entry point, and `params` ----------------------------------------


def test_read_parameters_from_path_bytes_loaded_image_and_text(tmp_path):
    import numpy as np

    from inpaint_core.imaging import load_image

    req = InpaintRequest(engine="diffusion", prompt="a saucer", seed=7, scheduler="DDIM")
    path = save_png(tmp_path / "ours.png", np.zeros((16, 16, 3), np.uint8), request=req)
    for source in (path, str(path), path.read_bytes(), load_image(path), load_image(path).text):
        found = read_parameters(source)
        assert found.chunk == "inpaint_studio" and found.request.prompt == "a saucer"
    with pytest.raises(MetadataError, match="no generation parameters"):
        read_parameters({})
    with pytest.raises(ImageLoadError):
        read_parameters(b"not an image")


def _jpeg_with_a1111_comment(path: Path, text: str) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + text.encode("utf-16-be")
    Image.new("RGB", (16, 16), (10, 20, 30)).save(path, "JPEG", exif=exif.tobytes())
    return path


def test_params_command_prints_json(tmp_path, capsys):
    import numpy as np

    req = InpaintRequest(engine="diffusion", prompt="a saucer", seed=7, scheduler="DDIM")
    png = save_png(tmp_path / "ours.png", np.zeros((16, 16, 3), np.uint8), request=req)
    assert cli.main(["params", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chunk"] == "inpaint_studio" and out["request"]["seed"] == 7
    assert out["request"]["scheduler"] == "DDIM"

    jpg = _jpeg_with_a1111_comment(tmp_path / "a1111.jpg", A1111)
    assert cli.main(["params", str(jpg)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["chunk"] == "parameters"
    assert out["request"]["prompt"] == "a cat in a hat" and out["request"]["seed"] == 42
    assert out["a1111"]["Sampler"] == "Euler a"

    webp = tmp_path / "a1111.webp"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + A1111.encode("utf-16-be")
    Image.new("RGB", (16, 16)).save(webp, "WEBP", exif=exif.tobytes())
    assert cli.main(["params", str(webp)]) == 0
    assert json.loads(capsys.readouterr().out)["request"]["steps"] == 20


def test_params_command_without_parameters_exits_2_with_one_line(tmp_path, capsys):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    assert cli.main(["params", str(plain)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error:") and "no generation parameters" in err
    assert cli.main(["params", str(tmp_path / "missing.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "missing.png" in err


def test_params_reads_bytes_buffers_too():
    buf = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111)
    Image.new("RGB", (8, 8)).save(buf, "PNG", pnginfo=info)
    assert read_parameters(buf.getvalue()).request.guidance_scale == 6.5
