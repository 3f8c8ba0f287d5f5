"""The panel's "Masked content" combo and "Soft inpainting" switch, bound to the generation model."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from desktop.generation.panel import ParametersPanel
from desktop.generation.settings import restore_state, save_state
from inpaint_core.generation_model import GenerationModel
from inpaint_core.request import MASKED_CONTENT, InpaintRequest


@pytest.fixture
def panel(qtbot):
    p = ParametersPanel()
    qtbot.addWidget(p)
    p.picker.set_model("/models/x")
    p.engine_combo.setCurrentIndex(p.engine_combo.findData("diffusion"))
    return p


def test_the_combo_offers_automatic_and_every_mode(panel):
    combo = panel.masked_content_combo
    data = [combo.itemData(i) for i in range(combo.count())]
    assert data == [None, *MASKED_CONTENT]
    assert combo.itemText(0) == "Automatic" and combo.currentData() is None
    assert panel.soft_inpainting_check.isChecked()  # the request's default


@pytest.mark.parametrize("mode", MASKED_CONTENT)
def test_each_mode_reaches_the_model_and_the_request(panel, mode):
    combo = panel.masked_content_combo
    combo.setCurrentIndex(combo.findData(mode))
    req = panel.validate()
    assert req is not None and req.masked_content == mode
    assert panel.model.request.masked_content == mode
    assert req.effective_masked_content() == mode


def test_soft_inpainting_switch_reaches_the_request(panel):
    panel.soft_inpainting_check.setChecked(False)
    assert panel.validate().soft_inpainting is False
    assert panel.model.request.soft_inpainting is False
    panel.soft_inpainting_check.setChecked(True)
    assert panel.validate().soft_inpainting is True


def test_model_to_widgets(panel):
    """A candidate's "use settings" or a PNG's parameters show up in the widgets."""
    req = InpaintRequest(
        engine="diffusion", model="/models/x", masked_content="latent_noise", soft_inpainting=False
    )
    panel.set_request(req)
    assert panel.masked_content_combo.currentData() == "latent_noise"
    assert panel.masked_content_combo.currentText() == "Latent noise"
    assert not panel.soft_inpainting_check.isChecked()
    panel.set_request(InpaintRequest(engine="diffusion", model="/models/x"))
    assert panel.masked_content_combo.currentData() is None  # back to Automatic
    assert panel.soft_inpainting_check.isChecked()


def test_round_trip_through_the_models_settings(panel, tmp_path):
    combo = panel.masked_content_combo
    combo.setCurrentIndex(combo.findData("fill"))
    panel.soft_inpainting_check.setChecked(False)
    assert panel.validate() is not None
    state = panel.model.to_dict()
    again = GenerationModel.from_dict(state)
    assert again.request.masked_content == "fill" and again.request.soft_inpainting is False
    path = str(tmp_path / "settings.ini")
    s = QSettings(path, QSettings.Format.IniFormat)
    save_state(panel.model, s)
    s.sync()
    del s
    model = GenerationModel()
    restore_state(model, QSettings(path, QSettings.Format.IniFormat))
    other = ParametersPanel(model)
    try:
        assert other.masked_content_combo.currentData() == "fill"
        assert not other.soft_inpainting_check.isChecked()
        assert other.request() == panel.request()
    finally:
        other.deleteLater()


def test_disabled_for_the_classical_engine(panel):
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("classical"))
    assert not panel.masked_content_combo.isEnabled()
    assert not panel.soft_inpainting_check.isEnabled()
