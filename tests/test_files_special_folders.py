"""QA: writing into /proc (a folder that exists but takes no new files) said "the folder does
not exist". The message names the real problem."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inpaint_core.files import FileWriteError, atomic_write_bytes

pytestmark = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")


@pytest.mark.parametrize("target", ["/proc/out.png", "/proc/self/out.png"])
def test_a_special_folder_is_named_as_such(target):
    with pytest.raises(FileWriteError) as err:
        atomic_write_bytes(target, b"x")
    message = str(err.value)
    assert message.startswith(f"{target}: cannot write")
    assert "does not exist" not in message
    assert "not a normal folder" in message
    assert not os.path.exists(target)


def test_a_missing_folder_is_still_created(tmp_path):
    out = tmp_path / "new" / "out.png"
    atomic_write_bytes(out, b"x")
    assert out.read_bytes() == b"x"
