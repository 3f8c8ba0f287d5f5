"""OpenRaster projects: exact round trips, an independent reader/writer (pyora), safe opening,
and a failed save that leaves the old file byte-identical."""

from __future__ import annotations

import errno
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pyora
import pytest
from PIL import Image
from skimage import data

from inpaint_core.candidates import CandidateHistory
from inpaint_core.document import Document
from inpaint_core.errors import ImageTooLargeError
from inpaint_core.files import FileWriteError
from inpaint_core.inpaint import InpaintResult
from inpaint_core.masks import BBox
from inpaint_core.project import (
    MIMETYPE,
    ProjectError,
    load_project,
    open_project,
    save_project,
)
from inpaint_core.request import InpaintRequest


def _stroke(doc: Document, points, radius=20.0, hardness=0.4) -> None:
    doc.begin_stroke()
    doc.paint_dab(*points[0], radius, hardness)
    for a, b in zip(points, points[1:], strict=False):
        doc.paint_segment(a, b, radius, hardness)
    doc.end_stroke()


def _result(box: BBox, seed: int, scheduler: str = "DDIM") -> InpaintResult:
    rng = np.random.default_rng(seed)
    patch = rng.integers(0, 256, (box.height, box.width, 3), np.uint8)
    req = InpaintRequest(
        engine="diffusion", prompt="a red boat", scheduler=scheduler, steps=17, seed=seed
    )
    return InpaintResult(box=box, patch=patch, seed=seed, request=req, info={"seconds": 1.5})


@pytest.fixture
def layered():
    """A real photo with transparency, a soft mask, three result layers (alpha, hidden, opacity,
    moved), and a history of candidates, one of them kept as a layer."""
    rgb = data.astronaut()
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:40, :] = np.arange(512, dtype=np.uint16)[None, :] // 2
    doc = Document(rgb, alpha, name="astronaut.png", source="/photos/astronaut.png")
    doc.text["parameters"] = "old params"
    _stroke(doc, [(100, 100), (300, 180)])
    history = CandidateHistory()
    box = BBox(50, 60, 178, 188)
    cands = history.add_results(
        [_result(box, 5), _result(box, 6, "K_EULER_ANCESTRAL")], "job-1", "tiny", doc
    )
    history.set_kept(cands[1])
    info = {"request": cands[1].result.request.to_dict(), "seed": 6, "candidate_id": cands[1].id}
    doc.add_result_layer(cands[1].result.patch, box, "seed 6 · K_EULER_ANCESTRAL", info=info)
    la = np.random.default_rng(1).integers(0, 256, (30, 40), np.uint8)
    doc.add_result_layer(
        np.full((30, 40, 3), (10, 200, 30), np.uint8), (300, 20, 340, 50), "green", alpha=la
    )
    doc.add_result_layer(np.full((20, 20, 3), 250, np.uint8), (0, 0, 20, 20), "white")
    doc.set_layer_visible(3, False)
    doc.set_layer_opacity(2, 0.25)
    doc.move_layer(3, 1)  # "white" now just above the photo
    doc.mask_layer.colour = (0, 90, 255)
    doc.set_layer_props(len(doc.layers) - 1, opacity=0.7)
    return doc, history


def _layers(doc: Document):
    return [(lay.kind, lay.name, lay.visible, round(lay.opacity, 6)) for lay in doc.layers]


def test_round_trip_is_exact(tmp_path: Path, layered) -> None:
    doc, history = layered
    path = save_project(doc, tmp_path / "work.ora", history)
    project = load_project(path)
    back = project.document
    assert project.ours and project.notes == []
    assert _layers(back) == _layers(doc)
    assert np.array_equal(back.photo.rgb, doc.photo.rgb)
    assert np.array_equal(back.photo.alpha, doc.photo.alpha)
    assert np.array_equal(back.mask, doc.mask) and 0 < len(np.unique(doc.mask)) > 2  # soft edge
    assert np.array_equal(back.flatten(), doc.flatten())
    for a, b in zip(back.result_layers, doc.result_layers, strict=True):
        assert a.box == b.box and np.array_equal(a.rgb, b.rgb)
        assert (a.alpha is None) == (b.alpha is None)
        assert a.alpha is None or np.array_equal(a.alpha, b.alpha)
    assert back.mask_layer.colour == (0, 90, 255) and back.mask_layer.opacity == pytest.approx(0.7)
    assert back.photo.name == "astronaut.png" and back.source == "/photos/astronaut.png"
    assert back.text == {"parameters": "old params"}
    # candidates: every one, kept or not, with its full parameters and patch
    assert [c.kept for c in project.candidates] == [False, True]
    for a, b in zip(project.candidates, history, strict=True):
        assert a.result.request == b.result.request and a.seed == b.seed
        assert a.result.box == b.result.box and np.array_equal(a.result.patch, b.result.patch)
        assert a.model_name == "tiny" and a.job_id == "job-1" and a.document is back
        assert a.result.info == {"seconds": 1.5}
    # the kept layer points at the reopened candidate (ids are per process)
    kept_layer = next(lay for lay in back.result_layers if lay.name.startswith("seed 6"))
    assert kept_layer.info["candidate_id"] == project.candidates[1].id
    assert kept_layer.info["request"] == history[1].result.request.to_dict()


def test_layout_follows_openraster(tmp_path: Path, layered) -> None:
    doc, history = layered
    path = save_project(doc, tmp_path / "work.ora", history)
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == MIMETYPE
        names = zf.namelist()
        assert {"stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png"} <= set(names)
        thumb = Image.open(io.BytesIO(zf.read("Thumbnails/thumbnail.png")))
        assert max(thumb.size) <= 256
        merged = np.asarray(Image.open(io.BytesIO(zf.read("mergedimage.png"))))
    assert np.array_equal(merged[..., :3], doc.flatten())  # the picture, without the mask overlay
    assert np.array_equal(merged[..., 3], doc.photo.alpha)
    with open(path, "rb") as f:  # the "magic" at offset 30: mimetype right after the header
        assert f.read(54)[30:54] == b"mimetypeimage/openraster"


def test_an_independent_reader_sees_our_layers(tmp_path: Path, layered) -> None:
    doc, history = layered
    path = save_project(doc, tmp_path / "work.ora", history)
    ora = pyora.Project.load(str(path))
    layers = list(ora.iter_layers)  # pyora lists them bottom first
    assert [lay.name for lay in layers] == [lay.name for lay in doc.layers]
    assert ora.dimensions == (512, 512)
    by_name = {lay.name: lay for lay in layers}
    mask = np.asarray(by_name["Mask"].get_image_data(raw=True))
    assert np.array_equal(mask[..., 3], doc.mask)
    assert by_name["Mask"].hidden  # hidden so that the composite is the picture
    photo = np.asarray(by_name["astronaut.png"].get_image_data(raw=True))
    assert np.array_equal(photo[..., :3], doc.photo.rgb)
    green = by_name["green"]
    assert green.offsets == (300, 20) and green.opacity == pytest.approx(0.25)
    assert np.array_equal(np.asarray(green.get_image_data(raw=True))[..., 3], doc.layers[3].alpha)
    assert by_name["white"].hidden


def test_a_file_from_another_program_opens_with_its_layers(tmp_path: Path) -> None:
    rgb = data.chelsea()  # 451x300
    h, w = rgb.shape[:2]
    ora = pyora.Project.new(w, h)
    ora.add_layer(Image.fromarray(rgb).convert("RGBA"), "/background")
    sticker = np.zeros((40, 50, 4), np.uint8)
    sticker[..., 0] = 255
    sticker[..., 3] = 200
    ora.add_layer(Image.fromarray(sticker, "RGBA"), "/sticker", offsets=(400, 280), opacity=0.5)
    ora.add_layer(Image.fromarray(sticker, "RGBA"), "/off canvas", offsets=(2000, 10))
    ora.add_layer(Image.fromarray(sticker, "RGBA"), "/hidden one", offsets=(5, 5), visible=False)
    paint = np.zeros((h, w, 4), np.uint8)
    paint[100:150, 200:260] = (255, 255, 255, 255)
    paint[150:160, 200:260, :] = (255, 0, 0, 128)
    ora.add_layer(Image.fromarray(paint, "RGBA"), "/MASK")
    path = tmp_path / "krita.ora"
    ora.save(str(path))

    project = load_project(path)
    doc = project.document
    assert not project.ours
    assert [lay.name for lay in doc.layers] == ["background", "sticker", "hidden one", "MASK"]
    assert np.array_equal(doc.photo.rgb, rgb) and doc.photo.alpha is None
    expected = np.zeros((h, w), np.uint8)
    expected[100:150, 200:260] = 255
    expected[150:160, 200:260] = 128
    assert np.array_equal(doc.mask, expected)
    sticker_layer = doc.layers[1]
    assert sticker_layer.box == BBox(400, 280, 450, 300)  # cropped to the canvas
    assert sticker_layer.opacity == pytest.approx(0.5) and sticker_layer.alpha.max() == 200
    assert not doc.layers[2].visible
    assert any("off canvas" in n for n in project.notes)


def test_a_plain_opaque_mask_layer_is_read_by_brightness(tmp_path: Path) -> None:
    ora = pyora.Project.new(64, 48)
    ora.add_layer(Image.new("RGBA", (64, 48), (9, 9, 9, 255)), "/photo")
    m = np.zeros((48, 64, 3), np.uint8)
    m[10:20, 10:30] = 255
    ora.add_layer(Image.fromarray(m).convert("RGBA"), "/Mask")
    path = tmp_path / "m.ora"
    ora.save(str(path))
    doc = open_project(path)
    assert np.array_equal(doc.mask, m[..., 0])


def test_sixteen_bit_sources_keep_what_the_document_holds(tmp_path: Path) -> None:
    """A 16-bit photo's working copy is scaled once on load (65535 -> 255) and its 16-bit samples
    are kept (tests/test_sixteen_bit.py): every save/open is exact for both; a 16-bit picture layer
    in a foreign .ora is read the same way."""
    rng = np.random.default_rng(3)
    deep = rng.integers(0, 65536, (40, 30, 3), dtype=np.uint16)
    src = tmp_path / "deep.png"
    Image.fromarray(deep[..., 0]).save(src)  # a 16-bit grey PNG ("I;16")
    doc = Document.open(src)
    expected = ((deep[..., 0].astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    assert np.array_equal(doc.photo.rgb[..., 0], expected)
    back = open_project(save_project(doc, tmp_path / "deep.ora"))
    assert np.array_equal(back.photo.rgb, doc.photo.rgb)
    assert np.array_equal(back.photo.rgb16()[..., 2], deep[..., 0])

    foreign = tmp_path / "foreign16.ora"
    buf = io.BytesIO()
    Image.fromarray(deep[..., 0]).save(buf, format="PNG")
    _write_ora(foreign, 30, 40, [("photo", "data/p.png", buf.getvalue())])
    theirs = open_project(foreign)
    assert np.array_equal(theirs.photo.rgb[..., 0], expected)
    assert np.array_equal(theirs.photo.rgb16()[..., 0], deep[..., 0])


@pytest.mark.slow
def test_an_8k_photo_round_trips_exactly(tmp_path: Path) -> None:
    tile = data.astronaut()
    rgb = np.tile(tile, (9, 15, 1))[:4320, :7680]  # 7680x4320, real content
    rgb = rgb ^ np.random.default_rng(0).integers(0, 2, rgb.shape, np.uint8)  # and fine grain
    doc = Document(rgb, name="8k")
    doc.mask[1000:3000, 2000:5000] = 255
    path = save_project(doc, tmp_path / "8k.ora", compress_level=1)
    back = open_project(path)
    assert np.array_equal(back.photo.rgb, rgb) and np.array_equal(back.mask, doc.mask)


# -- a failed save leaves the old file as it was ------------------------------------------------


def test_a_save_that_fails_midway_keeps_the_old_file(tmp_path: Path, layered, monkeypatch) -> None:
    doc, history = layered
    path = save_project(doc, tmp_path / "work.ora", history)
    before = path.read_bytes()
    doc.add_result_layer(np.zeros((8, 8, 3), np.uint8), (0, 0, 8, 8), "new")
    real = zipfile.ZipFile.open

    def full_disk(self, name, mode="r", *a, **k):  # the disk fills up at mergedimage.png
        if str(getattr(name, "filename", name)) == "mergedimage.png" and mode == "w":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, name, mode, *a, **k)

    monkeypatch.setattr(zipfile.ZipFile, "open", full_disk)
    with pytest.raises(FileWriteError, match="disk is full") as exc:
        save_project(doc, path, history)
    assert str(path) in str(exc.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work.ora"]  # no temp left


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a non-root POSIX user")
def test_a_read_only_folder_is_a_clear_error_and_the_old_file_stays(
    tmp_path: Path, layered
) -> None:
    doc, _ = layered
    folder = tmp_path / "ro"
    path = save_project(doc, folder / "work.ora")
    before = path.read_bytes()
    folder.chmod(0o555)
    try:
        with pytest.raises(FileWriteError, match="permission denied"):
            save_project(doc, path)
    finally:
        folder.chmod(0o755)
    assert path.read_bytes() == before


# -- opening is safe ----------------------------------------------------------------------------


def _png(w: int, h: int, colour=(1, 2, 3)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, format="PNG")
    return buf.getvalue()


def _write_ora(path: Path, w: int, h: int, layers, *, stack: str | None = None, extra=()) -> Path:
    """A hand-made .ora; ``layers`` is [(name, src, png bytes)] topmost first."""
    xml = stack or (
        f'<?xml version="1.0"?><image w="{w}" h="{h}"><stack>'
        + "".join(f'<layer name="{n}" src="{s}"/>' for n, s, _ in layers)
        + "</stack></image>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", MIMETYPE, compress_type=zipfile.ZIP_STORED)
        zf.writestr("stack.xml", xml)
        for _n, src, blob in layers:
            if src.startswith("data/"):
                zf.writestr(src, blob)
        for name, blob in extra:
            zf.writestr(name, blob, compress_type=zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.parametrize(
    "src",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "data/../../x.png",
        "mergedimage.png",
        "data\\x.png",
        "C:/x.png",
    ],
)
def test_layer_sources_outside_data_are_refused(tmp_path: Path, src: str) -> None:
    path = _write_ora(tmp_path / "evil.ora", 8, 8, [("evil", src, _png(8, 8))])
    with pytest.raises(ProjectError, match="not a file under data/"):
        open_project(path)


def test_not_a_project(tmp_path: Path) -> None:
    p = tmp_path / "x.ora"
    p.write_bytes(b"hello")
    with pytest.raises(ProjectError, match="not an OpenRaster"):
        open_project(p)
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("stack.xml", "<image/>")
    with pytest.raises(ProjectError, match="mimetype"):
        open_project(p)
    with pytest.raises(ProjectError, match="no such file"):
        open_project(tmp_path / "missing.ora")


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE image [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<image w="8" h="8" name="&b;"><stack/></image>'
    )
    path = _write_ora(tmp_path / "bomb.ora", 8, 8, [], stack=bomb)
    with pytest.raises(ProjectError, match="unsafe"):
        open_project(path)


def test_zip_bombs_and_caps(tmp_path: Path, monkeypatch) -> None:
    import inpaint_core.project as project

    zeros = b"\0" * 5_000_000  # deflates to a few KB
    path = _write_ora(
        tmp_path / "z.ora", 8, 8, [("p", "data/p.png", _png(8, 8))], extra=[("data/big.bin", zeros)]
    )
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(project, "MAX_ENTRY_BYTES", 1_000_000)
    with pytest.raises(ProjectError, match="zip bomb"):
        open_project(path)
    monkeypatch.setattr(project, "MAX_ENTRY_BYTES", 10_000_000)
    monkeypatch.setattr(project, "MAX_TOTAL_BYTES", 2_000_000)
    with pytest.raises(ProjectError, match="zip bomb"):
        open_project(path)
    monkeypatch.setattr(project, "MAX_TOTAL_BYTES", 10**9)
    monkeypatch.setattr(project, "MAX_ENTRIES", 3)
    with pytest.raises(ProjectError, match="entries"):
        open_project(path)


def test_a_lying_size_header_is_caught_while_reading(tmp_path: Path, monkeypatch) -> None:
    import inpaint_core.project as project

    z = project._Zip.__new__(project._Zip)
    z.label = "x.ora"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data/a.png", b"\0" * 100_000)
    z.zf = zipfile.ZipFile(buf)
    z.sizes = {"data/a.png": 10}
    z.infos = z.zf.infolist()
    with pytest.raises(ProjectError, match="more than 1000 bytes"):
        z.read("data/a.png", 1000)


def test_a_huge_canvas_is_refused_before_decoding(tmp_path: Path, monkeypatch) -> None:
    path = _write_ora(tmp_path / "huge.ora", 100_000, 100_000, [("p", "data/p.png", _png(8, 8))])
    with pytest.raises(ImageTooLargeError, match="megapixels"):
        open_project(path)


def test_a_missing_layer_file_is_named(tmp_path: Path) -> None:
    path = _write_ora(tmp_path / "m.ora", 8, 8, [("p", "data/p.png", _png(8, 8))])
    with zipfile.ZipFile(path) as zf:
        entries = [(i, zf.read(i)) for i in zf.infolist() if i.filename != "data/p.png"]
    with zipfile.ZipFile(path, "w") as zf:
        for info, blob in entries:
            zf.writestr(info, blob)
    with pytest.raises(ProjectError, match="data/p.png.*missing"):
        open_project(path)


def test_permission_denied_is_said_and_the_old_file_stays(
    tmp_path: Path, layered, monkeypatch
) -> None:
    """What a read-only folder does (also when the tests run as root, where chmod does not bite)."""
    import tempfile

    doc, _ = layered
    path = save_project(doc, tmp_path / "work.ora")
    before = path.read_bytes()

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(FileWriteError, match="permission denied"):
        save_project(doc, path)
    assert path.read_bytes() == before
