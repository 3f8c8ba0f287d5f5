"""Autosave and crash recovery without Qt: settle + interval, background writes, explicit save and
clean exit remove the files, a SIGKILLed session's autosave is recovered with its layers and mask."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from inpaint_core.autosave import (
    INTERVAL_ENV,
    Autosaver,
    autosave_folder,
    interval_from_env,
    list_recoverable,
)
from inpaint_core.candidates import CandidateHistory
from inpaint_core.document import Document
from inpaint_core.errors import InpaintError
from inpaint_core.inpaint import InpaintResult
from inpaint_core.masks import BBox
from inpaint_core.project import load_project
from inpaint_core.request import InpaintRequest

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _stroke(doc: Document, y: float) -> None:
    doc.begin_stroke()
    doc.paint_segment((50, y), (300, y), 12)
    doc.end_stroke()


@pytest.fixture
def doc() -> Document:
    return Document(data.astronaut(), name="astronaut")


@pytest.fixture
def saver(tmp_path: Path):
    clock = Clock()
    s = Autosaver(tmp_path / "autosave", interval_s=60, settle_s=2, clock=clock)
    s.clock = clock  # type: ignore[attr-defined]
    yield s
    s.close()


def test_folder_follows_xdg_and_interval_follows_env(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert autosave_folder() == tmp_path / "xdg" / "inpaint-studio" / "autosave"
    monkeypatch.setenv(INTERVAL_ENV, "2.5")
    assert interval_from_env() == 2.5
    assert Autosaver(tmp_path / "a").interval_s == 2.5
    for bad in ("0", "-1", "soon", "nan"):
        monkeypatch.setenv(INTERVAL_ENV, bad)
        with pytest.raises(InpaintError, match=INTERVAL_ENV):
            interval_from_env()
    monkeypatch.delenv(INTERVAL_ENV)
    assert interval_from_env() == 60.0


def test_saves_after_the_interval_once_changes_settle(saver, doc) -> None:
    clock = saver.clock
    saver.watch(doc)
    assert saver.tick() == []  # nothing changed
    _stroke(doc, 100)
    assert saver.is_dirty(doc)
    clock.t += 30
    assert saver.tick() == []  # not yet a minute
    clock.t += 31
    _stroke(doc, 120)  # still painting: wait for the changes to settle
    assert saver.tick() == []
    doc.begin_stroke()  # mid-stroke: never
    clock.t += 3
    assert saver.tick() == []
    doc.end_stroke()
    clock.t += 3
    (future,) = saver.tick()
    path = future.result(60)
    assert path is not None and path.exists() and not saver.is_dirty(doc)
    back = load_project(path).document
    assert np.array_equal(back.mask, doc.mask)
    assert saver.tick() == []  # clean now: nothing more to do
    # painting without a pause still gets saved after two intervals
    for _ in range(5):
        clock.t += 30
        _stroke(doc, 140)
        futures = saver.tick()
    assert futures and futures[0].result(60) == path
    assert np.array_equal(load_project(path).document.mask, doc.mask)


def test_mask_copy_follows_only_the_changed_boxes(saver, doc) -> None:
    saver.watch(doc)
    _stroke(doc, 100)
    first = saver.save_now(doc).result(60)
    _stroke(doc, 300)
    doc.invert_mask()
    doc.clear_mask()
    _stroke(doc, 400)
    saver.save_now(doc).result(60)
    assert np.array_equal(load_project(first).document.mask, doc.mask)


def test_everything_is_in_the_autosave(saver, doc) -> None:
    history = CandidateHistory()
    req = InpaintRequest(engine="diffusion", scheduler="DDIM", seed=3, prompt="x")
    patch = np.full((16, 16, 3), 99, np.uint8)
    history.add_results([InpaintResult(BBox(0, 0, 16, 16), patch, 3, req)], "j", "m", doc)
    saver.watch(doc, history)
    doc.add_result_layer(patch, (0, 0, 16, 16), "seed 3 · DDIM", info={"seed": 3})
    doc.merge_down(1)  # the photo itself changes (photo_revision moves)
    doc.add_result_layer(np.zeros((8, 8, 3), np.uint8), (20, 20, 28, 28), "black")
    _stroke(doc, 200)
    path = saver.save_now(doc).result(60)
    project = load_project(path)
    assert np.array_equal(project.document.photo.rgb, doc.photo.rgb)
    assert [lay.name for lay in project.document.layers] == ["astronaut", "black", "Mask"]
    assert [c.seed for c in project.candidates] == [3]
    assert project.extra["name"] == "astronaut" and project.extra["autosave"] is True


def test_a_photo_written_during_the_encode_is_not_saved_torn(saver, doc, monkeypatch) -> None:
    import inpaint_core.project as project

    saver.watch(doc)
    _stroke(doc, 100)
    real = project.encode_png
    calls = []

    def encode_while_merging(rgb, alpha, level=6, **kwargs):
        out = real(rgb, alpha, level, **kwargs)
        if not calls:  # the GUI merges into the photo while the writer encodes it
            calls.append(1)
            doc.add_result_layer(np.zeros((4, 4, 3), np.uint8), (0, 0, 4, 4), "x")
            doc.merge_down(1)
        return out

    monkeypatch.setattr(project, "encode_png", encode_while_merging)
    assert saver.save_now(doc).result(60) is None  # abandoned, not written
    assert saver.is_dirty(doc)
    path = saver.save_now(doc).result(60)  # the next one is right
    assert np.array_equal(load_project(path).document.photo.rgb, doc.photo.rgb)


def test_explicit_save_and_close_remove_the_autosave(saver, doc, tmp_path: Path) -> None:
    saver.watch(doc, saved_path=tmp_path / "mine.ora")
    _stroke(doc, 100)
    path = saver.save_now(doc).result(60)
    assert path.exists() and path.with_suffix(".thumb.png").exists()
    saver.mark_saved(doc, tmp_path / "mine.ora")
    assert saver.wait(60)
    assert not path.exists() and not path.with_suffix(".thumb.png").exists()
    assert not saver.is_dirty(doc)
    other = Document(data.chelsea(), name="cat")
    saver.watch(other, dirty=True)
    p2 = saver.save_now(other).result(60)
    saver.forget(other)
    assert saver.wait(60) and not p2.exists()


def test_write_errors_are_reported_and_the_document_stays_dirty(tmp_path: Path, doc) -> None:
    (tmp_path / "file").write_bytes(b"x")
    errors = []
    saver = Autosaver(tmp_path / "a", interval_s=60, on_error=lambda d, e: errors.append(e))
    try:
        saver.folder = tmp_path / "file" / "autosave"  # a folder under a file: cannot write
        saver.watch(doc)
        _stroke(doc, 100)
        assert saver.save_now(doc).result(60) is None
        assert errors and "file, not a folder" in str(errors[0]) and saver.is_dirty(doc)
    finally:
        saver.close()


def test_snapshot_is_taken_without_copying_the_photo(saver, doc) -> None:
    saver.watch(doc)
    _stroke(doc, 100)
    snap = saver.take_snapshot(doc)
    photo = snap.layers[0]
    assert photo.rgb is doc.photo.rgb  # referenced; the writer checks photo_revision
    mask = snap.layers[-1]
    assert mask.alpha is not doc.mask and np.array_equal(mask.alpha, doc.mask)


# -- crash recovery: a real process, killed ------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys, time, numpy as np
    from skimage import data
    from inpaint_core.autosave import Autosaver
    from inpaint_core.document import Document

    saved = []
    saver = Autosaver(interval_s=0.2, settle_s=0.05, on_saved=lambda d, p: saved.append(p))
    doc = Document(data.astronaut(), name="astronaut.png")
    saver.watch(doc, saved_path="/home/me/astronaut.ora")
    doc.begin_stroke()
    doc.paint_segment((40, 60), (400, 300), 25, 0.5)
    doc.end_stroke()
    doc.add_result_layer(np.full((30, 30, 3), 200, np.uint8), (5, 5, 35, 35), "seed 7 · DDIM")
    while not saved:
        saver.tick()
        time.sleep(0.05)
    np.save(sys.argv[1], doc.mask)
    print("saved", flush=True)
    if sys.argv[2] == "clean":
        saver.close()
        print("closed", flush=True)
    else:
        time.sleep(600)
    """
)


def _child(tmp_path: Path, mode: str) -> subprocess.Popen:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg"), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path / "mask.npy"), mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _read_line(proc: subprocess.Popen, timeout: float = 120) -> str:
    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not out:
        proc.kill()
        pytest.fail("the child did not report in time")
    return out[0].strip()


def test_a_killed_session_is_recovered(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    proc = _child(tmp_path, "kill")
    try:
        assert _read_line(proc) == "saved"
        assert list_recoverable() == []  # still running: not ours to recover
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    (item,) = list_recoverable()
    assert item.name == "astronaut.png" and item.saved_path == "/home/me/astronaut.ora"
    assert item.thumbnail is not None and item.thumbnail.exists()
    project = item.load()
    doc = project.document
    assert np.array_equal(doc.mask, np.load(tmp_path / "mask.npy")) and doc.mask.any()
    assert [lay.name for lay in doc.layers] == ["astronaut.png", "seed 7 · DDIM", "Mask"]

    # the next session adopts it: written as its own autosave, the old one discarded
    saver = Autosaver(interval_s=60)
    try:
        restored = saver.restore(item)
        assert saver.wait(60)
        assert not item.path.exists() and saver.path_for(restored.document).exists()
        assert saver.is_dirty(restored.document) is False  # its autosave is up to date
    finally:
        saver.close(clean=False)  # as if this one crashed too: it is listed again
    (again,) = list_recoverable()
    assert np.array_equal(again.load().document.mask, doc.mask)
    again.discard()
    assert list_recoverable() == []


def test_after_a_clean_exit_there_is_nothing_to_recover(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    proc = _child(tmp_path, "clean")
    try:
        assert _read_line(proc) == "saved"
        assert _read_line(proc) == "closed"
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert list_recoverable() == []
    folder = autosave_folder()
    assert list(folder.glob("*.ora")) == [] and list((folder / "sessions").glob("*")) == []


def test_tidying_leaves_a_running_sessions_files_alone(tmp_path: Path, doc) -> None:
    from inpaint_core.files import TEMP_MARK

    folder = tmp_path / "autosave"
    running = Autosaver(folder, interval_s=60)  # another instance of the app, still running
    try:
        running.watch(doc, dirty=True)
        live_file = running.save_now(doc).result(60)
        live_tmp = folder / f".{running.session}--k.ora{TEMP_MARK}abc.tmp"
        dead_tmp = folder / f".20200101T000000-1-deadbeef--k.ora{TEMP_MARK}abc.tmp"
        for p in (live_tmp, dead_tmp):
            p.write_bytes(b"half")
        assert list_recoverable(folder) == []  # the running one's autosave is not offered
        assert live_tmp.exists() and live_file.exists() and not dead_tmp.exists()
    finally:
        running.close()


def test_a_clean_close_does_not_wait_for_a_whole_autosave(tmp_path: Path, monkeypatch) -> None:
    import inpaint_core.project as project

    started, release = threading.Event(), threading.Event()
    real = project.encode_png

    def slow_encode(rgb, alpha, level=1, **kwargs):
        started.set()
        release.wait(30)  # an 8K layer being encoded
        return real(rgb, alpha, level, **kwargs)

    monkeypatch.setattr(project, "encode_png", slow_encode)
    doc = Document(data.astronaut())
    for i in range(4):
        doc.add_result_layer(np.zeros((8, 8, 3), np.uint8), (i, i, i + 8, i + 8), f"l{i}")
    saver = Autosaver(tmp_path / "a", interval_s=60)
    saver.watch(doc, dirty=True)
    future = saver.save_now(doc)
    assert started.wait(30)
    threading.Timer(0.2, release.set).start()
    saver.close()  # the write stops after the layer being encoded
    assert future.result(0) is None
    assert list((tmp_path / "a").glob("*.ora")) == [] and list_recoverable(tmp_path / "a") == []


def test_an_unwritable_autosave_folder_is_a_clear_error(tmp_path: Path) -> None:
    from inpaint_core.files import FileWriteError

    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(FileWriteError, match="cannot keep autosaves"):
        Autosaver(tmp_path / "file" / "autosave")
