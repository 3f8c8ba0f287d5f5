"""The model features inside the real studio window, on the worker thread: the erase engine (a
tiny TorchScript module with LaMa's call signature) and a plain 4-channel model run as masked
img2img once the user agreed; pixels outside the mask untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.desktop.conftest import drag
from tests.test_erase import TinyLama


@pytest.fixture
def studio(window):
    ctl = window.generation
    yield ctl
    ctl.shutdown()


def _mask(qtbot, window):
    drag(qtbot, window.canvas, [(250, 180), (330, 200), (300, 240)])
    assert window.document.mask.any()


def _keep_first(qtbot, ctl, window):
    before = window.document.flatten().copy()
    qtbot.waitUntil(lambda: ctl.tray.count() >= 1, timeout=120000)
    cand = ctl.tray.candidates()[0]
    ctl.tray.select(cand)
    ctl.tray.keep_action.trigger()
    after = window.document.flatten()
    grown = window.document.mask  # outside the patch's box nothing may change
    box = cand.result.box
    outside = np.ones(grown.shape, bool)
    outside[box.slices] = False
    assert np.array_equal(after[outside], before[outside])
    assert not np.array_equal(after[box.slices], before[box.slices])
    return cand


def test_erase_engine_in_the_studio(studio, window, qtbot, tmp_path):
    lama = tmp_path / "tiny-lama.pt"
    torch.jit.script(TinyLama()).save(str(lama))
    _mask(qtbot, window)
    p = studio.panel
    p.engine_combo.setCurrentIndex(p.engine_combo.findData("erase"))
    p.erase_model_combo.setCurrentText(str(lama))
    assert p.validate() is not None
    studio.generate()
    cand = _keep_first(qtbot, studio, window)
    assert cand.result.request.engine == "erase"
    assert cand.result.request.model == str(lama)


def test_a_plain_model_runs_as_masked_img2img_after_the_confirm(
    studio, window, qtbot, tiny_model_4ch_dir
):
    from inpaint_core.models import list_models

    p = studio.panel
    p.picker.confirm = lambda *_: True
    p.picker.set_models(list_models([tiny_model_4ch_dir.parent], include_hf_cache=False))
    _mask(qtbot, window)
    p.picker.choose_model(str(tiny_model_4ch_dir))
    p.prompt_edit.setPlainText("a wooden table")
    p.steps_spin.setValue(2)
    p.target_spin.setValue(64)
    assert p.validate() is not None
    assert str(tiny_model_4ch_dir) in studio.engine_cache.allow_non_inpainting
    studio.generate()
    _keep_first(qtbot, studio, window)
