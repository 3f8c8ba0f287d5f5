"""QA: exporting into /proc said "folder does not exist"; the window's message names the real
problem, and nothing is lost (the picture stays open, unchanged)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")


def test_export_into_proc_names_the_problem(window):
    before = window.doc.display_rgb().copy()
    assert window.exporter.export_picture("/proc/cup.png") is None
    message = window.banner.text()
    assert message.startswith("Could not export: /proc/cup.png: cannot write")
    assert "not a normal folder" in message and "does not exist" not in message
    assert np.array_equal(window.doc.display_rgb(), before)
