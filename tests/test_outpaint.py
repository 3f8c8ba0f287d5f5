"""Outpainting (inpaint_core.outpaint): the canvas grows by exactly the asked amount and every photo
pixel beyond the overlap band stays bit-identical, with the classical engine and the tiny model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from skimage import data

from inpaint_core import cli, metadata
from inpaint_core.engines.classical import ClassicalEngine
from inpaint_core.engines.diffusion import DiffusionEngine, loaded_from_pipeline
from inpaint_core.errors import InpaintError
from inpaint_core.imaging import load_image
from inpaint_core.outpaint import Extension, extension_to_aspect, outpaint, prepare_outpaint
from inpaint_core.request import InpaintRequest
from inpaint_core.testing import build_tiny_inpaint_pipeline


@pytest.fixture(scope="module")
def photo():
    return np.ascontiguousarray(data.chelsea()[100:196, 150:270])  # 120x96, a real photo


def _untouched_zone(shape, ext: Extension, overlap: int) -> tuple[slice, slice]:
    """Photo pixels farther than ``overlap`` from every grown edge (photo coordinates)."""
    h, w = shape[:2]
    left, t, r, b = ext.as_tuple()
    return (
        slice(overlap if t else 0, h - (overlap if b else 0)),
        slice(overlap if left else 0, w - (overlap if r else 0)),
    )


def _check(photo, canvas, results, ext: Extension, overlap: int):
    h, w = photo.shape[:2]
    left, t, r, b = ext.as_tuple()
    assert canvas.image.shape == (h + t + b, w + left + r, 3)
    assert canvas.photo_box.slices == (slice(t, t + h), slice(left, left + w))
    assert results
    for res in results:
        out = res.composite(canvas.image)
        assert out.shape == canvas.image.shape
        inside = out[canvas.photo_box.slices]
        zone = _untouched_zone(photo.shape, ext, overlap)
        assert np.array_equal(inside[zone], photo[zone])
        # the photo's band along the grown edges was handed to the engine (and repainted)
        assert not np.array_equal(inside, photo)
        assert res.info["seam_score"] is not None


@pytest.mark.parametrize(
    "ext", [Extension(16, 8, 24, 0), Extension(right=40), Extension(0, 20, 0, 12)]
)
def test_classical_outpaint_grows_exactly_and_keeps_the_photo(photo, ext):
    req = InpaintRequest(engine="classical", options={"method": "telea"})
    canvas, results = outpaint(req, photo, ext, ClassicalEngine(), overlap=32)
    _check(photo, canvas, results, ext, 32)
    # the new area is filled with the photo's colours, not left black
    new = np.ones(canvas.image.shape[:2], bool)
    new[canvas.photo_box.slices] = False
    filled = results[0].composite(canvas.image)[new]
    assert filled.mean() > 40


def test_tiny_model_outpaint_grows_exactly_and_keeps_the_photo(photo):
    engine = DiffusionEngine(loaded=loaded_from_pipeline(build_tiny_inpaint_pipeline(), "tiny"))
    req = InpaintRequest(engine="diffusion", steps=2, seeds=(3, 4), target_size=64)
    ext = Extension(24, 0, 8, 16)
    canvas, results = outpaint(req, photo, ext, engine, overlap=40)
    assert [r.seed for r in results] == [3, 4]
    _check(photo, canvas, results, ext, 40)


def test_mask_band_and_overlap_rules(photo):
    req = InpaintRequest(mask_grow=0, mask_feather=0)
    canvas = prepare_outpaint(photo, Extension(right=10), overlap=6, request=req)
    h, w = photo.shape[:2]
    part = canvas.mask[canvas.photo_box.slices]
    assert (part[:, w - 6 :] == 255).all() and (part[:, : w - 6] == 0).all()
    assert (canvas.mask[:, w:] == 255).all()
    with pytest.raises(InpaintError, match="reach"):
        prepare_outpaint(
            photo,
            Extension(right=10),
            overlap=4,
            request=InpaintRequest(mask_grow=4, mask_feather=8),
        )
    with pytest.raises(InpaintError, match="nothing to extend"):
        prepare_outpaint(photo, Extension(), request=req)
    with pytest.raises(InpaintError, match="whole"):
        prepare_outpaint(photo, Extension(10, 0, 10, 0), overlap=70, request=req)
    with pytest.raises(InpaintError, match="MP limit"):
        prepare_outpaint(photo, Extension(right=100), request=req, max_pixels=96 * 200)
    alpha = np.full(photo.shape[:2], 100, np.uint8)
    c = prepare_outpaint(photo, Extension(top=5), overlap=0, request=req, alpha=alpha)
    assert (c.alpha[:5] == 255).all() and (c.alpha[5:] == 100).all()


def test_extension_parsing_and_aspect():
    assert Extension.parse("1,2,3,4").as_tuple() == (1, 2, 3, 4)
    assert Extension.parse("7").as_tuple() == (7, 7, 7, 7)
    for bad in ("1,2", "a,b,c,d", "-1,0,0,0"):
        with pytest.raises(InpaintError, match="extend"):
            Extension.parse(bad)
    assert extension_to_aspect(100, 100, "16:9").as_tuple() == (39, 0, 39, 0)
    assert extension_to_aspect(100, 100, "1:2").as_tuple() == (0, 50, 0, 50)
    assert extension_to_aspect(101, 100, 1.5).as_tuple() == (24, 0, 25, 0)
    with pytest.raises(InpaintError, match="16:9"):
        extension_to_aspect(100, 100, "wide")


def test_cli_extend_and_extend_to_aspect(tmp_path, photo, capsys):
    src = tmp_path / "cat.png"
    Image.fromarray(photo).save(src)
    out = tmp_path / "wide.png"
    args = ["run", "--image", str(src), "--out", str(out), "--json", "--method", "telea"]
    assert cli.main([*args, "--extend", "0,0,30,0", "--overlap", "30"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["outputs"][0]["seam_score"] is not None
    assert report["canvas"] == [150, 96] and report["extend"] == [0, 0, 30, 0]
    img = load_image(out)
    assert img.rgb.shape == (96, 150, 3)
    recorded = json.loads(img.text["inpaint_studio_outpaint"])
    assert recorded == {
        "extend": [0, 0, 30, 0],
        "overlap": 30,
        "prefill": "edge",
        "photo_box": [0, 0, 120, 96],
    }
    assert np.array_equal(img.rgb[:, :90], photo[:, :90])
    assert cli.main([*args, "--extend-to-aspect", "2:1"]) == 0
    capsys.readouterr()
    assert load_image(out).rgb.shape == (96, 192, 3)


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--extend", "1,2"], "--extend"),
        (["--extend", "0,0,10,0", "--overlap", "3", "--grow", "4", "--feather", "8"], "reach"),
        (["--extend", "4", "--extend-to-aspect", "2:1"], "not both"),
        ([], "--mask is required"),
        (["--overlap", "8", "--mask", "MASK"], "only applies"),
    ],
)
def test_cli_outpaint_bad_input_is_one_line(tmp_path, photo, capsys, extra, words):
    src = tmp_path / "cat.png"
    Image.fromarray(photo).save(src)
    mask = tmp_path / "m.png"
    m = np.zeros(photo.shape[:2], np.uint8)
    m[10:20, 10:20] = 255
    Image.fromarray(m).save(mask)
    extra = [str(mask) if a == "MASK" else a for a in extra]
    code = cli.main(["run", "--image", str(src), "--out", str(tmp_path / "o.png"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert words in err and "\n" not in err


def test_cli_diffusion_outpaint_with_classical_prefill(tmp_path, photo, capsys, tiny_model_dir):
    src = tmp_path / "cat.png"
    Image.fromarray(photo).save(src)
    out = tmp_path / "tall.png"
    code = cli.main(
        [
            "run",
            "--image",
            str(src),
            "--out",
            str(out),
            "--json",
            "--model",
            str(tiny_model_dir),
            "--steps",
            "2",
            "--target-size",
            "64",
            "--seed",
            "9",
            "--extend",
            "0,24,0,0",
            "--prefill",
            "classical",
            "--masked-content",
            "fill",
            "--no-safety-checker",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["outputs"][0]["seed"] == 9
    img = load_image(out)
    assert img.rgb.shape == (120, 120, 3)
    assert np.array_equal(img.rgb[24 + 32 :], photo[32:])
    req = metadata.request_from_png_text(img.text)
    assert req.masked_content == "fill" and req.seed == 9
