"""One save path: save_document (project or picture), the same rules for every picture writer,
the CLI's layered output and .ora input, and an audit that no second writer appears."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyora
import pytest
from PIL import Image
from skimage import data

from inpaint_core import cli
from inpaint_core.document import Document
from inpaint_core.errors import UnsupportedFormatError
from inpaint_core.imaging import load_image
from inpaint_core.metadata import request_from_png_text
from inpaint_core.project import load_project, save_project
from inpaint_core.request import InpaintRequest
from inpaint_core.resources import sample_mask, sample_photo
from inpaint_core.saving import LAYERS_CHUNK, save_document

REQ = InpaintRequest(
    engine="diffusion", prompt="a boat", scheduler="DDIM", steps=9, seed=4, model="m"
)


@pytest.fixture
def kept_doc() -> Document:
    rgb = data.chelsea()
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:10] = 0
    doc = Document(rgb, alpha, name="chelsea")
    info = {"request": REQ.to_dict(), "seed": 4, "model": "tiny"}
    doc.add_result_layer(np.zeros((20, 30, 3), np.uint8), (10, 20, 40, 40), "seed 4", info=info)
    return doc


@pytest.mark.parametrize("suffix", ["png", "jpg", "webp"])
def test_every_picture_format_follows_the_same_rules(tmp_path: Path, kept_doc, suffix) -> None:
    path = save_document(kept_doc, tmp_path / f"out.{suffix}")
    img = load_image(path)
    assert img.notes == ()  # an sRGB profile: trusted, nothing converted
    with Image.open(path) as im:
        assert im.info.get("icc_profile")  # says it is sRGB
    req = request_from_png_text(img.text)  # parameters travel in every format
    assert req.prompt == "a boat" and req.seed == 4 and req.steps == 9
    if suffix == "png":
        assert np.array_equal(img.rgb, kept_doc.flatten())
        assert np.array_equal(img.alpha, kept_doc.photo.alpha)
        assert json.loads(img.text[LAYERS_CHUNK])[0]["seed"] == 4
    elif suffix == "webp":
        assert img.alpha is not None and img.alpha[:10].max() < 10  # alpha kept
    else:
        assert img.alpha is None  # JPEG has no alpha


def test_save_document_writes_a_project_for_ora(tmp_path: Path, kept_doc) -> None:
    path = save_document(kept_doc, tmp_path / "work.ORA")
    back = load_project(path).document
    assert [lay.name for lay in back.layers] == ["chelsea", "seed 4", "Mask"]


def test_unknown_suffix_is_a_clear_error(tmp_path: Path, kept_doc) -> None:
    with pytest.raises(UnsupportedFormatError, match="use .png"):
        save_document(kept_doc, tmp_path / "out.gif")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_keeps_the_old_picture(tmp_path: Path, kept_doc, monkeypatch) -> None:
    import errno

    from inpaint_core.files import FileWriteError

    path = save_document(kept_doc, tmp_path / "out.png")
    before = path.read_bytes()

    def full(self, fp, *a, **k):
        fp.write(b"half a picture")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(FileWriteError, match="disk is full"):
        save_document(kept_doc, path)
    assert path.read_bytes() == before


# -- CLI ------------------------------------------------------------------------------------------


def test_cli_out_ora_is_one_layered_project(tmp_path: Path, capsys, tiny_model_dir) -> None:
    out = tmp_path / "review.ora"
    args = [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--model",
        str(tiny_model_dir),
        "--steps",
        "2",
        "--target-size",
        "64",
        "--scheduler",
        "DDIM",
        "--seeds",
        "11,12,13",
        "--out",
        str(out),
        "--json",
    ]
    assert cli.main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert {o["path"] for o in report["outputs"]} == {str(out)}
    project = load_project(out)
    doc = project.document
    names = [lay.name for lay in doc.layers]
    assert names == [
        Path(sample_photo()).name,
        "seed 11 · DDIM",
        "seed 12 · DDIM",
        "seed 13 · DDIM",
        "Mask",
    ]
    assert [lay.visible for lay in doc.result_layers] == [True, False, False]
    assert np.array_equal(doc.mask, load_image(sample_mask()).rgb.max(axis=2))
    assert [lay.info["seed"] for lay in doc.result_layers] == [11, 12, 13]
    assert InpaintRequest.from_dict(doc.result_layers[1].info["request"]).seed == 12
    assert [c.seed for c in project.candidates] == [11, 12, 13]
    # Krita's view of it (an independent reader): the same layers, the others hidden
    ora = pyora.Project.load(str(out))
    assert [lay.name for lay in ora.iter_layers] == names
    assert [lay.hidden for lay in ora.iter_layers][1:4] == [False, True, True]


def test_cli_image_ora_uses_its_mask_layer(tmp_path: Path, capsys) -> None:
    photo = load_image(sample_photo())
    doc = Document.from_image(photo)
    doc.mask[...] = load_image(sample_mask()).rgb.max(axis=2)
    project = save_project(doc, tmp_path / "in.ora")
    common = ["run", "--engine", "classical", "--json"]
    assert cli.main([*common, "--image", str(project), "--out", str(tmp_path / "a.png")]) == 0
    plain = [*common, "--image", str(sample_photo()), "--mask", str(sample_mask())]
    assert cli.main([*plain, "--out", str(tmp_path / "b.png")]) == 0
    capsys.readouterr()
    assert np.array_equal(load_image(tmp_path / "a.png").rgb, load_image(tmp_path / "b.png").rgb)


def test_cli_ora_without_a_mask_and_bad_suffix_exit_2(tmp_path: Path) -> None:
    empty = save_project(Document(data.chelsea()), tmp_path / "nomask.ora")
    for extra, words in (
        (["--image", str(empty), "--out", str(tmp_path / "o.png")], "Mask layer"),
        (["--image", str(sample_photo()), "--out", str(tmp_path / "o.png")], "--mask"),
        (
            ["--image", str(sample_photo()), "--mask", str(sample_mask()), "--out", "x.gif"],
            ".gif",
        ),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "inpaint_core.cli", "run", *extra],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0]


# -- one writer ---------------------------------------------------------------------------------

WRITERS = {
    "files.py",  # the atomic writer itself
    "imaging/png.py",  # PNG + parameters (through files.atomic_write)
    "document/export.py",  # every picture format (through files.atomic_write)
    "testing.py",  # the tiny test model's files, not a user's
    "batch_journal.py",  # the batch journal: append-only, one fsynced line per finished item
}


def test_no_second_writer_appears() -> None:
    """Every user file goes through inpaint_core.files: a PIL ``.save(path)``, a ``write_bytes``,
    an ``open(..., "w")`` anywhere else in the engine fails this test. (``.save`` into a BytesIO
    or a file object handed out by the atomic writer is fine: it is called with a variable named
    ``f``/``buf`` by convention here, checked below; so is ``zf.open(entry, "w")``, an entry of
    a zip that is itself written through the atomic writer.)"""
    root = Path(__file__).resolve().parents[1] / "inpaint_core"
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel in WRITERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("write_bytes", "write_text", "imwrite", "save_pretrained"):
                offenders.append(f"{rel}:{node.lineno} {name}")
            elif name == "save" and node.args:
                target = node.args[0]
                if not (isinstance(target, ast.Name) and target.id in ("f", "buf", "fp")):
                    offenders.append(f"{rel}:{node.lineno} .save({ast.unparse(target)})")
            elif name == "open" and len(node.args) >= 2:
                mode = node.args[1]
                owner = func.value if isinstance(func, ast.Attribute) else None
                if isinstance(owner, ast.Name) and owner.id == "zf":
                    continue  # an entry of a zip being written into an atomic file
                if isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in "wax"):
                    offenders.append(f"{rel}:{node.lineno} open(..., {mode.value!r})")
    assert offenders == [], "write user files through inpaint_core.files: " + ", ".join(offenders)


def test_prepare_save_writes_what_the_document_was(tmp_path: Path, kept_doc) -> None:
    """The window takes the save on its thread and writes on another: edits made meanwhile
    (painting the mask) are not in the file; a merge into the photo makes the write refuse."""
    from inpaint_core.project import SnapshotChanged
    from inpaint_core.saving import prepare_save

    kept_doc.mask[50:60, 50:60] = 255
    expected = kept_doc.mask.copy()
    job = prepare_save(kept_doc, tmp_path / "w.ora")
    kept_doc.mask[100:120, 100:120] = 255  # painted after Save was pressed
    assert np.array_equal(load_project(job()).document.mask, expected)
    pic = prepare_save(kept_doc, tmp_path / "w.png")
    flat = kept_doc.flatten()
    kept_doc.set_layer_visible(1, False)  # hidden after Export was pressed
    assert not np.array_equal(kept_doc.flatten(), flat)
    assert np.array_equal(load_image(pic()).rgb, flat)
    job = prepare_save(kept_doc, tmp_path / "w.ora")
    kept_doc.add_result_layer(np.zeros((4, 4, 3), np.uint8), (0, 0, 4, 4), "x")
    kept_doc.merge_down(1)
    before = (tmp_path / "w.ora").read_bytes()
    with pytest.raises(SnapshotChanged):
        job()
    assert (tmp_path / "w.ora").read_bytes() == before


def test_open_document_takes_projects_and_pictures(tmp_path: Path, kept_doc) -> None:
    from inpaint_core.saving import open_document

    project = open_document(save_document(kept_doc, tmp_path / "w.ora"))
    assert project.ours and [lay.name for lay in project.document.layers][1] == "seed 4"
    picture = open_document(save_document(kept_doc, tmp_path / "w.png"))
    assert not picture.ours and picture.candidates == []
    assert np.array_equal(picture.document.photo.rgb, kept_doc.flatten())
    assert "parameters" in picture.document.text
