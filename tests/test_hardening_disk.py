"""The whole CLI on a full disk (simulated, and a real small tmpfs where this process may mount
one) and on a read-only file system: exit 2 with one line, the previous output intact byte for
byte, no temp file left behind."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from pathlib import Path

import pytest

from inpaint_core import cli, files
from inpaint_core.files import TEMP_MARK
from inpaint_core.resources import sample_mask, sample_photo

PHOTO, MASK = str(sample_photo()), str(sample_mask())


def _run(out: Path, *extra: str) -> list[str]:
    return ["run", "--image", PHOTO, "--mask", MASK, "--out", str(out), "--quiet", *extra]


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


class _FullDiskFile:
    """A file object whose writes fail with ENOSPC after ``room`` bytes, like a disk filling up."""

    def __init__(self, f, room: int) -> None:
        self._f = f
        self._room = room

    def write(self, data) -> int:
        n = len(data)
        if n > self._room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= n
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def test_cli_on_a_simulated_full_disk_keeps_the_previous_output(tmp_path, capsys, monkeypatch):
    out = tmp_path / "result.png"
    assert cli.main(_run(out, "--method", "telea")) == 0
    before = out.read_bytes()
    capsys.readouterr()

    real_fdopen = os.fdopen
    monkeypatch.setattr(
        files.os, "fdopen", lambda fd, mode="r", *a, **k: _FullDiskFile(real_fdopen(fd, mode), 4096)
    )
    assert cli.main(_run(out, "--method", "ns")) == 2
    line = _error_line(capsys.readouterr().err)
    assert str(out) in line and "disk is full" in line
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]  # no temp file left


@contextlib.contextmanager
def _small_tmpfs(where: Path, size: str):
    where.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            check=True,
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=20)


def test_cli_on_a_real_full_then_read_only_tmpfs(tmp_path, capsys):
    with _small_tmpfs(tmp_path / "disk", "2m") as disk:
        out = disk / "result.png"
        assert cli.main(_run(out, "--method", "telea")) == 0
        before = out.read_bytes()
        capsys.readouterr()
        # fill what is left of the disk
        with open(disk / "filler", "wb") as f:
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
        with contextlib.suppress(OSError):  # the last partial block
            with open(disk / "filler2", "wb") as f:
                while True:
                    f.write(b"\0" * 512)
                    f.flush()
        assert cli.main(_run(out, "--method", "ns")) == 2
        line = _error_line(capsys.readouterr().err)
        assert str(out) in line and "disk is full" in line
        assert out.read_bytes() == before
        assert not [p for p in disk.iterdir() if TEMP_MARK in p.name]

        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True, timeout=20)
        assert cli.main(_run(out, "--method", "ns")) == 2
        line = _error_line(capsys.readouterr().err)
        assert str(out) in line and "read-only" in line
        assert out.read_bytes() == before
        assert cli.main(_run(disk / "sub" / "new.png")) == 2
        assert "read-only" in _error_line(capsys.readouterr().err)
