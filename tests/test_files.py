"""The one atomic writer: the old file survives a failed write; temp leftovers are cleaned."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from inpaint_core.files import (
    TEMP_MARK,
    FileWriteError,
    atomic_write,
    atomic_write_bytes,
    clean_stale_temp_files,
)


def test_writes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]  # no temp left behind


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.png"
    target.write_bytes(b"precious")

    def boom(f) -> None:
        f.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(FileWriteError, match="disk is full"):
        atomic_write(target, boom)
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_non_oserror_also_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.png"
    target.write_bytes(b"precious")
    with pytest.raises(ZeroDivisionError):
        atomic_write(target, lambda f: 1 / 0)
    assert target.read_bytes() == b"precious"
    assert len(list(tmp_path.iterdir())) == 1


def test_folder_under_a_regular_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(FileWriteError, match="file"):
        atomic_write_bytes(tmp_path / "file" / "out.png", b"x")


def test_clean_stale_temp_files_only_removes_old_ones_of_ours(tmp_path: Path) -> None:
    old = tmp_path / f".out.png{TEMP_MARK}abc.tmp"
    new = tmp_path / f".out.png{TEMP_MARK}def.tmp"
    other = tmp_path / "someone-elses.tmp"
    for p in (old, new, other):
        p.write_bytes(b"x")
    past = time.time() - 3 * 24 * 3600
    os.utime(old, (past, past))
    os.utime(other, (past, past))
    assert clean_stale_temp_files(tmp_path) == [old]
    assert not old.exists() and new.exists() and other.exists()


def test_new_files_get_the_usual_mode_and_replaced_files_keep_theirs(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        fresh = atomic_write_bytes(tmp_path / "new.png", b"x")
        assert fresh.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        kept = tmp_path / "kept.png"
        kept.write_bytes(b"old")
        kept.chmod(0o640)
        atomic_write_bytes(kept, b"new")
        assert kept.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


def test_the_srgb_profile_is_the_same_bytes_in_every_process() -> None:
    """Byte-identical outputs across processes (batch workers, Ray, run) need a fixed ICC date."""
    import subprocess
    import sys

    from inpaint_core.imaging.png import srgb_profile

    code = "import sys; from inpaint_core.imaging.png import srgb_profile; sys.stdout.write(srgb_profile().hex())"
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert other == srgb_profile().hex()
