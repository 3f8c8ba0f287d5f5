"""A save says how far it is: ``on_progress(fraction)`` grows from 0 to 1.0 (1.0 once the file is
in place), from any number of encoder threads, and a stop request ends a save mid-layer."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from inpaint_core.document import Document
from inpaint_core.imaging import png_bands
from inpaint_core.imaging.highbits import reduce16
from inpaint_core.project import SnapshotChanged, save_project, snapshot, write_snapshot
from inpaint_core.saving import prepare_save, save_document


def big_document(layers: int = 3) -> Document:
    rgb = np.tile(data.astronaut(), (2, 3, 1))  # 1536x1024, real content
    doc = Document(rgb, name="big")
    doc.mask[100:400, 200:900] = 255
    for i in range(layers):
        patch = np.ascontiguousarray(rgb[:300, :400][:, ::-1])
        doc.add_result_layer(patch, (i * 100, i * 50, i * 100 + 400, i * 50 + 300), f"l{i}")
    return doc


@pytest.mark.parametrize("workers", [1, 4])
def test_progress_grows_to_one_and_ends_when_the_file_is_there(
    tmp_path: Path, workers: int, monkeypatch
) -> None:
    monkeypatch.setattr(png_bands, "BAND_BYTES", 64 * 1024)  # many bands on a small document
    target = tmp_path / "p.ora"
    seen: list[tuple[float, bool, str]] = []

    def on_progress(f: float) -> None:
        seen.append((f, target.exists(), threading.current_thread().name))

    save_project(big_document(), target, workers=workers, on_progress=on_progress)
    fractions = [f for f, _e, _t in seen]
    assert fractions == sorted(fractions) and len(set(fractions)) == len(fractions)  # monotone
    assert fractions[-1] == 1.0 and 0 < fractions[0] < 0.1
    assert len([f for f in fractions if 0 < f < 1]) >= 20  # it moves, not one jump
    assert all(not exists for f, exists, _t in seen if f < 1.0)  # 1.0 only once it is in place
    assert seen[-1][1]
    if workers > 1:
        assert any(t.startswith("ora-encode") for _f, _e, t in seen)  # reported from encoders


def test_a_16_bit_photo_alone_still_moves_the_bar(tmp_path: Path, monkeypatch) -> None:
    """One big layer is most of the work: the bar moves while that layer is encoded."""
    monkeypatch.setattr(png_bands, "BAND_BYTES", 64 * 1024)
    deep = np.tile(data.astronaut().astype(np.uint16) * 257 + 100, (2, 2, 1))
    doc = Document(reduce16(deep), rgb16=deep)
    fractions: list[float] = []
    save_document(doc, tmp_path / "deep.ora", on_progress=fractions.append)
    assert len([f for f in fractions if 0.05 < f < 0.85]) >= 10 and fractions[-1] == 1.0


def test_a_picture_export_reports_done(tmp_path: Path) -> None:
    fractions: list[float] = []
    prepare_save(big_document(1), tmp_path / "x.png", on_progress=fractions.append)()
    assert fractions == [1.0]


def test_a_stop_request_ends_the_save_mid_layer(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(png_bands, "BAND_BYTES", 64 * 1024)
    doc = Document(np.tile(data.astronaut(), (2, 3, 1)))  # one big layer (and the mask)
    bands: list[float] = []
    stop = threading.Event()

    def on_progress(f: float) -> None:
        bands.append(f)
        if len(bands) == 3:
            stop.set()  # the app is closing, the photo is a third encoded

    with pytest.raises(SnapshotChanged, match="stopped"):
        write_snapshot(
            snapshot(doc), tmp_path / "s.ora", should_stop=stop.is_set, on_progress=on_progress
        )
    assert max(bands) < 0.5 and not (tmp_path / "s.ora").exists()
