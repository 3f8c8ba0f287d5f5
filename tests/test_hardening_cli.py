"""Hardening of the CLI: every OSError and bad value is exit 2 with one line naming the path or
flag; a failed save keeps the previous file byte for byte; inputs are never replaced unasked."""

from __future__ import annotations

import errno
import os
import subprocess
import time
from pathlib import Path

import pytest
from PIL import Image

from inpaint_core import cli, files
from inpaint_core.files import TEMP_MARK
from inpaint_core.resources import sample_mask, sample_photo

PHOTO, MASK = str(sample_photo()), str(sample_mask())


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    """stderr holds exactly one line (after any progress bar) and it is our error."""
    lines = [line for line in err.replace("\r", "\n").split("\n") if line.strip()]
    assert lines, "nothing on stderr"
    last = lines[-1]
    assert last.startswith("error: "), err
    assert "Traceback" not in err
    return last


def classical(out: str, *extra: str) -> list[str]:
    return ["run", "--image", PHOTO, "--mask", MASK, "--out", out, "--quiet", *extra]


# -- paths that cannot be written --------------------------------------------------------------


def test_out_under_a_regular_file(tmp_path, capsys):
    blocker = tmp_path / "file.png"
    blocker.write_bytes(b"keep me")
    code, _, err = run(capsys, *classical(str(blocker / "out.png")))
    assert code == 2
    line = one_line_error(err)
    assert str(blocker) in line and "not a folder" in line
    assert blocker.read_bytes() == b"keep me"


def test_compare_out_that_is_a_file(tmp_path, capsys):
    blocker = tmp_path / "sheet.png"
    blocker.write_bytes(b"keep me")
    code, _, err = run(
        capsys, "compare", "--image", PHOTO, "--mask", MASK, "--out", str(blocker), "--seeds", "1",
        "--quiet",
    )  # fmt: skip
    assert code == 2 and str(blocker) in one_line_error(err)
    assert blocker.read_bytes() == b"keep me"


def test_params_bad_timeout(capsys):
    code, _, err = run(capsys, "params", "http://127.0.0.1:9/x.png", "--timeout", "nan")
    assert code == 2 and "--timeout" in one_line_error(err)


def test_a_too_long_file_name(tmp_path, capsys):
    code, _, err = run(capsys, *classical(str(tmp_path / ("n" * 300 + ".png"))))
    assert code == 2
    assert "too long" in one_line_error(err)


def test_read_only_folder_simulated(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    out = tmp_path / "o.png"
    code, _, err = run(capsys, *classical(str(out)))
    assert code == 2
    line = one_line_error(err)
    assert str(out) in line and "read-only" in line


def test_compare_seeds_that_are_not_numbers(tmp_path, capsys):
    for bad in ("abc", "1,x"):
        code, _, err = run(
            capsys, "compare", "--image", PHOTO, "--mask", MASK, "--out", str(tmp_path),
            "--seeds", bad, "--quiet",
        )  # fmt: skip
        assert code == 2
        assert "--seeds" in one_line_error(err)


@pytest.mark.parametrize("bad", ["0", "nan", "inf", "-3"])
def test_bad_timeout_with_a_url(tmp_path, capsys, bad):
    code, _, err = run(
        capsys, "run", "--image", "http://127.0.0.1:9/x.png", "--mask", MASK,
        "--out", str(tmp_path / "o.png"), "--timeout", bad,
    )  # fmt: skip
    assert code == 2
    assert "--timeout" in one_line_error(err)


def test_max_pixels_zero_is_an_error(tmp_path, capsys):
    code, _, err = run(capsys, *classical(str(tmp_path / "o.png"), "--max-pixels", "0"))
    assert code == 2
    assert "--max-pixels" in one_line_error(err)
    assert not (tmp_path / "o.png").exists()


def test_max_pixels_applies_to_the_mask(tmp_path, capsys):
    big_mask = tmp_path / "big-mask.png"
    Image.new("L", (3000, 2000), 255).save(big_mask)  # 6 MP; the photo is 0.24 MP
    code, _, err = run(
        capsys, "run", "--image", PHOTO, "--mask", str(big_mask), "--resize-mask", "--quiet",
        "--out", str(tmp_path / "o.png"), "--max-pixels", "1000000",
    )  # fmt: skip
    assert code == 2
    line = one_line_error(err)
    assert "big-mask.png" in line and "megapixels" in line


@pytest.mark.parametrize("bad", ["0", "-3", "nan"])
def test_max_mb_that_is_not_a_size_is_an_error(tmp_path, capsys, bad):
    code, _, err = run(capsys, *classical(str(tmp_path / "o.png"), "--max-mb", bad))
    assert code == 2
    assert "--max-mb" in one_line_error(err)
    assert not (tmp_path / "o.png").exists()


def test_max_mb_applies_to_photo_and_mask_and_the_message_says_how_to_raise_it(tmp_path, capsys):
    photo_size = Path(PHOTO).stat().st_size
    tight = f"{(photo_size - 1) / (1024 * 1024):.6f}"
    code, _, err = run(capsys, *classical(str(tmp_path / "o.png"), "--max-mb", tight))
    assert code == 2
    line = one_line_error(err)
    assert Path(PHOTO).name in line and "--max-mb" in line
    roomy = f"{(photo_size + 1) / (1024 * 1024):.6f}"
    big_mask = tmp_path / "noisy-mask.png"
    Image.frombytes("L", (2000, 1500), os.urandom(3_000_000)).save(big_mask)  # ~3 MB
    code, _, err = run(
        capsys, "run", "--image", PHOTO, "--mask", str(big_mask), "--resize-mask", "--quiet",
        "--out", str(tmp_path / "o.png"), "--max-mb", roomy,
    )  # fmt: skip
    assert code == 2 and "noisy-mask.png" in one_line_error(err)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_mask_is_exit_2_not_a_hang(tmp_path):
    fifo = tmp_path / "mask.png"
    os.mkfifo(fifo)
    try:
        done = subprocess.run(
            ["inpaint-studio-cli"] if False else [
                os.sys.executable, "-m", "inpaint_core.cli", *classical(str(tmp_path / "o.png"))[:4],
                str(fifo), "--out", str(tmp_path / "o.png"), "--quiet",
            ],
            cwd=Path(__file__).resolve().parent.parent,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("the CLI blocked on a FIFO given as mask")
    finally:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    assert done.returncode == 2, done.stderr
    assert "FIFO" in one_line_error(done.stderr)


# -- inputs are not replaced unasked ----------------------------------------------------------


def test_out_equal_to_the_image_is_refused_unless_overwrite(tmp_path, capsys):
    photo = tmp_path / "photo.png"
    Image.open(PHOTO).save(photo)
    before = photo.read_bytes()
    code, _, err = run(
        capsys, "run", "--image", str(photo), "--mask", MASK, "--out", str(photo), "--quiet"
    )
    assert code == 2
    line = one_line_error(err)
    assert "--overwrite" in line and "--image" in line
    assert photo.read_bytes() == before
    # the same file through another spelling of its path
    alias = tmp_path / "." / "photo.png"
    code, _, err = run(
        capsys, "run", "--image", str(alias), "--mask", MASK, "--out", str(photo), "--quiet"
    )
    assert code == 2 and photo.read_bytes() == before
    code, _, _ = run(
        capsys, "run", "--image", str(photo), "--mask", MASK, "--out", str(photo), "--quiet",
        "--overwrite",
    )  # fmt: skip
    assert code == 0 and photo.read_bytes() != before


def test_out_equal_to_the_mask_is_refused(tmp_path, capsys):
    mask = tmp_path / "mask.png"
    Image.open(MASK).save(mask)
    before = mask.read_bytes()
    code, _, err = run(
        capsys, "run", "--image", PHOTO, "--mask", str(mask), "--out", str(mask), "--quiet"
    )
    assert code == 2 and "--mask" in one_line_error(err)
    assert mask.read_bytes() == before


# -- naming and messages -------------------------------------------------------------------------


def test_classical_run_with_several_seeds_names_outputs_without_seed_none(tmp_path, capsys):
    out = tmp_path / "outs"
    code, stdout, _ = run(capsys, *classical(str(out), "--seeds", "1,2,3", "--method", "telea"))
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names and not any("None" in n for n in names), names
    assert "None" not in stdout and "telea" in stdout
    code, stdout, _ = run(
        capsys, "compare", "--image", PHOTO, "--mask", MASK, "--out", str(tmp_path / "cmp"),
        "--seeds", "1,2", "--method", "telea", "--quiet",
    )  # fmt: skip
    assert code == 0
    assert not any("None" in p.name for p in (tmp_path / "cmp").iterdir())


def test_error_is_not_printed_on_the_progress_bar_line(tmp_path, capsys):
    code = cli.main(["run", "--image", PHOTO, "--mask", MASK, "--out", str(tmp_path / "o.png"),
                     "--method", "bogus"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    error_lines = [line for line in err.split("\n") if "error:" in line]
    assert len(error_lines) == 1
    assert error_lines[0].startswith("error: "), repr(error_lines[0])  # not after a bar's "\r"
    assert "bogus" in error_lines[0]


# -- crash leftovers and the contact sheet ----------------------------------------------------


def test_stale_temp_files_are_cleaned_at_the_start_of_a_write(tmp_path, capsys):
    out = tmp_path / "outs"
    out.mkdir()
    stale = out / f".o.png{TEMP_MARK}abc.tmp"
    stale.write_bytes(b"half a file")
    old = time.time() - 2 * files.STALE_AFTER_S
    os.utime(stale, (old, old))
    fresh = out / f".p.png{TEMP_MARK}def.tmp"  # another process may be writing this one now
    fresh.write_bytes(b"in progress")
    mine = out / "notes.tmp"
    mine.write_bytes(b"not ours")
    code, _, _ = run(capsys, *classical(str(out / "o.png")))
    assert code == 0
    assert not stale.exists() and fresh.exists() and mine.exists()


class _DiskFullFor:
    """A file object that fails with ENOSPC after a few kB, like a disk filling up."""

    def __init__(self, f) -> None:
        self._f = f
        self._room = 2048

    def write(self, data) -> int:
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def test_contact_sheet_is_written_atomically(tmp_path, capsys, monkeypatch):
    """The disk fills up while the contact sheet is written (however it is opened): exit 2, one
    line, and the previous sheet intact byte for byte."""
    import builtins

    folder = tmp_path / "cmp"
    argv = ["compare", "--image", PHOTO, "--mask", MASK, "--out", str(folder), "--seeds", "1",
            "--method", "telea", "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    sheet = folder / "contact-sheet.png"
    before = sheet.read_bytes()

    real_open, real_fdopen = builtins.open, os.fdopen

    def sheet_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        is_sheet = "contact-sheet" in os.fspath(file) if isinstance(file, (str, Path)) else False
        return _DiskFullFor(f) if is_sheet and ("w" in mode or "+" in mode) else f

    def sheet_fdopen(fd, mode="r", *args, **kwargs):
        f = real_fdopen(fd, mode, *args, **kwargs)
        try:
            name = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            name = ""
        return _DiskFullFor(f) if "contact-sheet" in name and "w" in mode else f

    monkeypatch.setattr(builtins, "open", sheet_open)
    monkeypatch.setattr(files.os, "fdopen", sheet_fdopen)
    capsys.readouterr()
    try:
        code = cli.main(argv)
    finally:
        monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 2
    assert "disk is full" in one_line_error(err) and "contact-sheet.png" in err
    assert sheet.read_bytes() == before
    assert not [p for p in folder.iterdir() if TEMP_MARK in p.name]
