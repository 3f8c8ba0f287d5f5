"""16-bit photos keep their 16 bits: loading, the document's edits, .ora save/open, exports and the
CLI. The engine works in 8 bits; the 16-bit samples are kept beside it and lifted on every write
(inpaint_core.imaging.highbits): untouched pixels come back bit for bit."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import cv2
import httpx
import numpy as np
import pyora
import pytest
import replicate
from PIL import Image, PngImagePlugin
from skimage import data

from inpaint_core import cli
from inpaint_core.document import Document
from inpaint_core.imaging import load_image
from inpaint_core.imaging.decode import _ORIENTATION, _orient
from inpaint_core.imaging.highbits import HighBits, reduce16
from inpaint_core.imaging.png import metadata_chunks, srgb_profile
from inpaint_core.metadata import request_from_png_text
from inpaint_core.project import load_project, open_project, save_project
from inpaint_core.saving import save_document
from tests.service_helpers import start_server
from tests.test_imaging import ADOBE_D50, icc_profile


def deep_photo(seed: int = 0) -> np.ndarray:
    """A real photo at 16 bits: skimage's astronaut x257 plus random low bits (so a reduction to 8
    bits and back cannot give it back)."""
    rng = np.random.default_rng(seed)
    low = rng.integers(-128, 129, (512, 512, 3))
    return np.clip(data.astronaut().astype(np.int64) * 257 + low, 0, 65535).astype(np.uint16)


def deep_grey(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low = rng.integers(-128, 129, (512, 512))
    return np.clip(data.camera().astype(np.int64) * 257 + low, 0, 65535).astype(np.uint16)


def splice_chunks(png: bytes, chunks: bytes) -> bytes:
    """``png`` with whole ``chunks`` after its IHDR (signature 8 bytes + IHDR 25)."""
    return png[:33] + chunks + png[33:]


def png16(rgb16: np.ndarray, alpha16: np.ndarray | None = None, chunks: bytes = b"") -> bytes:
    """A 16-bit PNG as a scanner writes it (OpenCV: BGR order)."""
    pixels = rgb16[..., ::-1] if alpha16 is None else np.dstack([rgb16[..., ::-1], alpha16])
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(pixels))
    assert ok
    return splice_chunks(buf.tobytes(), chunks)


def read16(path: Path) -> np.ndarray:
    """An RGB(A) file's samples as stored (RGB order), read by OpenCV (not our loader)."""
    pixels = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert pixels is not None
    return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGBA if pixels.shape[2] == 4 else cv2.COLOR_BGR2RGB)


# -- reduction and lift -----------------------------------------------------------------------


def test_reduce16_rounds_every_value_to_nearest() -> None:
    v = np.arange(65536, dtype=np.uint16)
    assert np.array_equal(reduce16(v), np.rint(v.astype(np.int64) * 255 / 65535).astype(np.uint8))
    assert reduce16(np.array([0, 32768, 65535], np.uint16)).tolist() == [0, 128, 255]


def test_lift_keeps_untouched_samples_and_scales_changed_ones() -> None:
    deep = deep_photo()
    hb = HighBits(deep)
    rgb = reduce16(deep)
    assert np.array_equal(hb.lift(rgb), deep)  # nothing touched: every sample back
    rgb[100:200, 50:60] = (255, 0, 7)
    lifted = hb.lift(rgb)
    expected = deep.copy()
    expected[100:200, 50:60] = (65535, 0, 7 * 257)
    assert np.array_equal(lifted, expected)
    assert np.array_equal(reduce16(lifted), rgb)  # what is saved is what was shown


def test_lift_of_a_grown_canvas_keeps_the_photo_where_it_moved() -> None:
    deep = deep_photo()[:100, :80]
    canvas = np.full((130, 120, 3), 9, np.uint8)
    canvas[20:120, 30:110] = reduce16(deep)
    lifted = HighBits(deep).moved(30, 20).lift(canvas)
    assert np.array_equal(lifted[20:120, 30:110], deep)
    assert (lifted[:20] == 9 * 257).all() and (lifted[:, :30] == 9 * 257).all()
    # a canvas that crops the photo: only the overlap is looked up
    part = HighBits(deep, x=-10, y=-5).lift(reduce16(deep)[5:, 10:])
    assert np.array_equal(part, deep[5:, 10:])


def test_numpy_orientation_matches_pillows() -> None:
    a = data.astronaut()[:90, :60]
    for orientation, transpose in _ORIENTATION.items():
        want = np.asarray(Image.fromarray(a).transpose(transpose))
        assert np.array_equal(_orient(a, orientation), want), orientation


# -- loading -------------------------------------------------------------------------------------


def test_16_bit_files_load_with_their_samples(tmp_path: Path) -> None:
    deep = deep_photo()
    img = load_image(png16(deep))
    assert img.rgb16 is not None and np.array_equal(img.rgb16, deep)
    assert np.array_equal(img.rgb, reduce16(deep)) and img.alpha is None

    alpha16 = deep_grey()
    img = load_image(png16(deep, alpha16))
    assert np.array_equal(img.rgb16, deep) and np.array_equal(img.alpha, reduce16(alpha16))

    ok, tif = cv2.imencode(".tif", np.ascontiguousarray(deep[..., ::-1]))
    img = load_image(tif.tobytes())
    assert img.format == "TIFF" and np.array_equal(img.rgb16, deep)

    grey = deep_grey()
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="PNG")  # "I;16"
    img = load_image(buf.getvalue())
    assert np.array_equal(img.rgb16, np.dstack([grey] * 3))

    plain = io.BytesIO()
    Image.fromarray(data.astronaut()).save(plain, format="PNG")
    assert load_image(plain.getvalue()).rgb16 is None  # 8-bit stays 8-bit


def test_16_bit_exif_orientation_and_colour_profiles() -> None:
    grey = deep_grey()[:100, :60]
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="PNG", exif=exif.tobytes())
    img = load_image(buf.getvalue())
    assert img.rgb16 is not None and np.array_equal(img.rgb16[..., 0], np.rot90(grey, -1))
    assert np.array_equal(img.rgb, reduce16(img.rgb16))

    deep = deep_photo()
    srgb = metadata_chunks(None, srgb_profile())  # says sRGB: kept as it is
    assert np.array_equal(load_image(png16(deep, chunks=srgb)).rgb16, deep)
    # a profile that needs converting: LittleCMS converts the 8-bit picture, the 16 bits go
    adobe = metadata_chunks(None, icc_profile("RGB ", "Adobe-ish", colorants=ADOBE_D50))
    img = load_image(png16(deep, chunks=adobe))
    assert img.rgb16 is None
    assert any("converted from ICC" in n for n in img.notes)
    assert any("kept 8 bits" in n for n in img.notes)


# -- the document and its project file -------------------------------------------------------------


@pytest.mark.parametrize("which", ["rgb", "grey"])
def test_save_then_open_a_16_bit_photo_is_exact(tmp_path: Path, which: str) -> None:
    deep = deep_photo() if which == "rgb" else np.dstack([deep_grey()] * 3)
    source = tmp_path / "scan.png"
    source.write_bytes(png16(deep))
    doc = Document.open(source)
    doc.mask[100:200, 100:300] = 255
    back = open_project(save_project(doc, tmp_path / "scan.ora"))
    assert np.array_equal(back.photo.rgb16(), deep)
    assert np.array_equal(back.photo.rgb, doc.photo.rgb) and np.array_equal(back.mask, doc.mask)
    again = open_project(save_project(back, tmp_path / "again.ora"))  # and again
    assert np.array_equal(again.photo.rgb16(), deep)


def test_edits_keep_the_16_bits_they_do_not_touch_and_never_copy_them(tmp_path: Path) -> None:
    deep = deep_photo()
    doc = Document(reduce16(deep), rgb16=deep)
    samples = doc.photo.high_bits.samples
    # a layer over part of the photo: the merged picture is 16-bit, the layer 8-bit scaled
    doc.add_result_layer(np.full((40, 50, 3), 200, np.uint8), (10, 20, 60, 60), "fill")
    path = save_project(doc, tmp_path / "layered.ora")
    expected = deep.copy()
    box = expected[20:60, 10:60]
    box[reduce16(box) != 200] = 200 * 257  # a sample the layer left at its 8-bit value keeps it
    assert 0 < (box != 200 * 257).sum() < box.size // 10
    assert np.array_equal(merged16(path), expected)
    assert np.array_equal(open_project(path).photo.rgb16(), deep)  # the photo layer: untouched
    # merged into the photo, undone, redone: only the merged box changes, and changes back
    edit = doc.merge_down(1)
    assert np.array_equal(open_project(save_project(doc, path)).photo.rgb16(), expected)
    doc.apply_edit(edit, undo=True)
    assert np.array_equal(open_project(save_project(doc, path)).photo.rgb16(), deep)
    doc.apply_edit(edit, undo=False)
    assert np.array_equal(doc.photo.rgb16(), expected)
    doc.apply_edit(edit, undo=True)
    # the canvas grows around the photo: the photo keeps its 16 bits where it moved
    h, w = doc.height, doc.width
    canvas = np.full((h + 30, w + 40, 3), 77, np.uint8)
    canvas[30:, 40:] = doc.photo.rgb
    grow = doc.resize_canvas(canvas, np.zeros(canvas.shape[:2], np.uint8), (40, 30))
    grown = open_project(save_project(doc, path)).photo.rgb16()
    assert np.array_equal(grown[30:, 40:], deep) and (grown[:30] == 77 * 257).all()
    doc.apply_edit(grow, undo=True)
    assert doc.size == (w, h) and np.array_equal(doc.photo.rgb16(), deep)
    # Layer ▸ Flatten bakes a half-transparent layer in: blended pixels 8-bit scaled, others kept
    doc.add_result_layer(np.full((30, 30, 3), 10, np.uint8), (100, 100, 130, 130), "half")
    doc.set_layer_opacity(len(doc.layers) - 2, 0.5)  # over it and the "fill" layer (merge undone)
    flat = doc.flatten_layers()
    baked = open_project(save_project(doc, path)).photo.rgb16()
    outside = np.ones((h, w), bool)
    outside[100:130, 100:130] = outside[20:60, 10:60] = False
    assert np.array_equal(baked[outside], deep[outside])
    box8 = doc.photo.rgb[100:130, 100:130]
    assert np.array_equal(reduce16(baked[100:130, 100:130]), box8)
    doc.apply_edit(flat, undo=True)
    assert np.array_equal(doc.photo.rgb16(), deep)
    assert doc.photo.high_bits.samples is samples  # no edit copied the 16-bit photo


def merged16(path: Path) -> np.ndarray:
    """The ``mergedimage.png`` of an .ora, read by OpenCV at its full depth."""
    with zipfile.ZipFile(path) as zf:
        encoded = np.frombuffer(zf.read("mergedimage.png"), np.uint8)
    return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)


def test_an_independent_reader_opens_a_16_bit_project(tmp_path: Path) -> None:
    """pyora reads layers through Pillow, which brings a 16-bit PNG to 8 bits by its high byte."""
    deep = deep_photo()
    doc = Document(reduce16(deep), name="scan", rgb16=deep)
    doc.mask[:50, :50] = 255
    ora = pyora.Project.load(str(save_project(doc, tmp_path / "scan.ora")))
    layers = {lay.name: lay for lay in ora.iter_layers}
    assert list(layers) == ["scan", "Mask"]
    photo = np.asarray(layers["scan"].get_image_data(raw=True))
    assert np.array_equal(photo[..., :3], (deep >> 8).astype(np.uint8))
    assert np.array_equal(np.asarray(layers["Mask"].get_image_data(raw=True))[..., 3], doc.mask)


# -- exports ---------------------------------------------------------------------------------------


def test_png_export_is_16_bit_with_untouched_pixels_exact(tmp_path: Path) -> None:
    deep = deep_photo()
    alpha = np.full((512, 512), 255, np.uint8)
    alpha[:8] = 0
    doc = Document(reduce16(deep), alpha, rgb16=deep)
    info = {"request": {"engine": "classical", "prompt": "x"}, "seed": 3}
    doc.add_result_layer(np.zeros((30, 40, 3), np.uint8), (100, 200, 140, 230), "fill", info=info)
    out = read16(save_document(doc, tmp_path / "out.png"))
    expected = deep.copy()
    box = expected[200:230, 100:140]
    box[reduce16(box) != 0] = 0
    assert out.dtype == np.uint16
    assert np.array_equal(out[..., :3], expected)
    assert np.array_equal(out[..., 3], alpha.astype(np.uint16) * 257)
    with Image.open(tmp_path / "out.png") as im:  # the metadata is there, as in 8-bit exports
        assert im.info.get("icc_profile")
        assert request_from_png_text(dict(im.text)) is not None
    assert load_image(tmp_path / "out.png").rgb16 is not None
    jpg = load_image(save_document(doc, tmp_path / "out.jpg"))
    assert jpg.rgb16 is None  # JPEG and WebP stay 8-bit


def test_cli_run_on_a_16_bit_photo_keeps_every_untouched_sample(tmp_path: Path, capsys) -> None:
    deep = deep_photo()
    photo = tmp_path / "scan.png"
    photo.write_bytes(png16(deep))
    mask = np.zeros((512, 512), np.uint8)
    mask[200:260, 220:300] = 255
    mask_path = tmp_path / "mask.png"
    Image.fromarray(mask).save(mask_path)
    common = ["run", "--engine", "classical", "--json"]  # its defaults: no grow, no feather
    out = tmp_path / "out.png"
    assert (
        cli.main([*common, "--image", str(photo), "--mask", str(mask_path), "--out", str(out)]) == 0
    )
    capsys.readouterr()
    result = read16(out)
    assert result.dtype == np.uint16
    outside = mask == 0
    assert np.array_equal(result[outside], deep[outside])  # bit for bit
    # inside, the fill's 8-bit values scaled (x257); where the fill left a sample's 8-bit value
    # as it was, that sample keeps its 16 bits
    fill8, original8 = reduce16(result), reduce16(deep)
    changed = fill8 != original8
    assert changed[mask > 0].mean() > 0.5 and not changed[outside].any()
    assert np.array_equal(result[changed], fill8[changed].astype(np.uint16) * 257)
    assert np.array_equal(result[~changed], deep[~changed])

    # --out x.ora keeps the photo's 16 bits; --image x.ora feeds them on
    ora = tmp_path / "review.ora"
    args = ["--image", str(photo), "--mask", str(mask_path), "--out", str(ora)]
    assert cli.main([*common, *args]) == 0
    project = load_project(ora)
    assert np.array_equal(project.document.photo.rgb16(), deep)
    again = tmp_path / "again.png"
    assert cli.main([*common, "--image", str(ora), "--out", str(again)]) == 0
    capsys.readouterr()
    from_ora = read16(again)
    assert np.array_equal(from_ora[outside], deep[outside])
    assert np.array_equal(from_ora, result)


def test_cli_json_report_is_unchanged_by_16_bits(tmp_path: Path, capsys) -> None:
    photo = tmp_path / "scan.png"
    photo.write_bytes(png16(deep_photo()))
    mask = np.zeros((512, 512), np.uint8)
    mask[10:20, 10:20] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    args = ["run", "--engine", "classical", "--json", "--image", str(photo)]
    assert (
        cli.main([*args, "--mask", str(tmp_path / "m.png"), "--out", str(tmp_path / "o.jpg")]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["outputs"][0]["path"].endswith("o.jpg")
    assert load_image(tmp_path / "o.jpg").rgb16 is None


def test_metadata_chunks_are_pillows_own(tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a boat\nSteps: 3")
    data_ = png16(deep_photo()[:4, :5], chunks=metadata_chunks(info, None))
    with Image.open(io.BytesIO(data_)) as im:
        assert im.text == {"parameters": "a boat\nSteps: 3"}


def test_a_16_bit_file_opencv_cannot_decode_still_opens_in_8_bits(monkeypatch) -> None:
    deep = deep_photo()
    monkeypatch.setattr(cv2, "imdecode", lambda *a: None)
    img = load_image(png16(deep))
    assert img.rgb16 is None and img.rgb.shape == (512, 512, 3)
    assert np.abs(img.rgb.astype(int) - reduce16(deep)).max() <= 1  # Pillow's high bytes
    assert any("OpenCV could not decode" in n for n in img.notes)


def test_batch_keeps_a_16_bit_scan_16_bit(tmp_path: Path, capsys) -> None:
    deep = deep_photo()
    scans, masks = tmp_path / "scans", tmp_path / "masks"
    scans.mkdir()
    masks.mkdir()
    (scans / "scan.png").write_bytes(png16(deep))
    mask = np.zeros((512, 512), np.uint8)
    mask[300:340, 100:180] = 255
    Image.fromarray(mask).save(masks / "scan.png")
    out = tmp_path / "out"
    args = ["batch", "--images", str(scans), "--masks", str(masks), "--out", str(out), "--json"]
    assert cli.main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["done"] == 1
    result = read16(Path(report["outputs"][0]))
    assert result.dtype == np.uint16
    assert np.array_equal(result[mask == 0], deep[mask == 0])


def test_exporting_the_photo_layer_of_a_16_bit_photo_keeps_its_bits(tmp_path: Path) -> None:
    from inpaint_core.document import export_layers

    deep = deep_photo()
    doc = Document(reduce16(deep), rgb16=deep)
    doc.add_result_layer(np.zeros((8, 8, 3), np.uint8), (0, 0, 8, 8), "dot")
    photo, layer, _mask = export_layers(doc, tmp_path)
    assert np.array_equal(read16(photo), deep)
    assert read16(layer).dtype == np.uint8  # result layers are 8-bit pictures


def test_an_autosave_of_a_16_bit_photo_recovers_its_bits(tmp_path: Path) -> None:
    from inpaint_core.autosave import Autosaver, list_recoverable

    deep = deep_photo()
    doc = Document(reduce16(deep), name="scan", rgb16=deep)
    doc.mask[10:50, 10:50] = 255
    crashed = Autosaver(tmp_path / "autosave", interval_s=60)
    crashed.watch(doc, dirty=True)
    assert crashed.save_now(doc).result(60) is not None
    crashed.close(clean=False)  # as a crash leaves it
    (item,) = list_recoverable(tmp_path / "autosave")
    back = item.load().document
    assert np.array_equal(back.photo.rgb16(), deep) and np.array_equal(back.mask, doc.mask)


def test_compare_cells_of_a_16_bit_photo_are_16_bit(tmp_path: Path, capsys) -> None:
    deep = deep_photo()
    photo = tmp_path / "scan.png"
    photo.write_bytes(png16(deep))
    mask = np.zeros((512, 512), np.uint8)
    mask[200:240, 300:360] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    out = tmp_path / "cells"
    args = ["compare", "--image", str(photo), "--mask", str(tmp_path / "m.png"), "--out", str(out)]
    assert cli.main([*args, "--seeds", "1,2", "--json", "--method", "telea"]) == 0
    report = json.loads(capsys.readouterr().out)
    for cell in report["cells"]:
        result = read16(Path(cell["path"]))
        assert result.dtype == np.uint16
        assert np.array_equal(result[mask == 0], deep[mask == 0])


def test_the_predictions_api_answers_a_16_bit_upload_with_a_16_bit_output(tmp_path: Path) -> None:
    deep = deep_photo()[:96, :96].copy()
    photo, mask_path = tmp_path / "scan.png", tmp_path / "m.png"
    photo.write_bytes(png16(deep))
    mask = np.zeros((96, 96), np.uint8)
    mask[30:50, 30:60] = 255
    Image.fromarray(mask).save(mask_path)
    server = start_server()
    try:
        client = replicate.Client(api_token="unused", base_url=server.url)
        client.poll_interval = 0.05
        with photo.open("rb") as p, mask_path.open("rb") as m:
            output = client.run("inpaint-studio/classical", input={"image": p, "mask": m})
        out = tmp_path / "out.png"
        out.write_bytes(httpx.get(str(output[0]), timeout=30).content)
    finally:
        server.stop()
    result = read16(out)
    assert result.dtype == np.uint16 and np.array_equal(result[mask == 0], deep[mask == 0])
