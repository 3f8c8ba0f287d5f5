"""QA: at 1400×900 the Parameters panel shows the whole Seed field (10 digits) and a long model
name elided, with the full name as its tooltip; nothing is cut off at the dock's edge."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QScrollArea, QWidget

from inpaint_core.request import MAX_SEED

LONG = "/models/stable-diffusion-xl-1.0-inpainting-0.1-diffusers-fp16-very-long-name.safetensors"


def _fully_visible(w: QWidget) -> bool:
    """Once scrolled to, no part of ``w`` is clipped away by its parents (the scroll viewport,
    the dock, the window)."""
    panel = w.window().generation.panel
    scroll = panel.findChild(QScrollArea)
    if scroll.isAncestorOf(w):
        scroll.ensureWidgetVisible(w)
        QApplication.processEvents()
    return w.isVisible() and w.visibleRegion().boundingRect() == w.rect()


def test_seed_field_and_model_name_are_readable_at_1400x900(window):
    window.resize(1400, 900)
    panel = window.generation.panel
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("diffusion"))
    panel.picker.set_model(LONG)
    panel.random_seed_check.setChecked(False)
    panel.seed_edit.setText(str(MAX_SEED))
    QApplication.processEvents()

    seed = panel.seed_edit
    need = seed.fontMetrics().horizontalAdvance(str(MAX_SEED))
    assert seed.contentsRect().width() - 8 >= need  # 10 digits fit inside the frame
    assert _fully_visible(seed)
    for w in (panel.random_seed_check, panel.new_seed_button, panel.open_model_button):
        assert _fully_visible(w), w.objectName()

    combo = panel.model_combo
    assert _fully_visible(combo)
    full = combo.currentText()
    assert (
        full == "stable-diffusion-xl-1.0-inpainting-0.1-diffusers-fp16-very-long-name.safetensors"
    )
    shown = combo.displayed_text()
    assert shown != full and shown.endswith("…")  # elided, not cut
    assert full in combo.toolTip()


def test_a_short_model_name_is_not_elided(window):
    panel = window.generation.panel
    panel.engine_combo.setCurrentIndex(panel.engine_combo.findData("diffusion"))
    panel.picker.set_model("/models/tiny")
    QApplication.processEvents()
    assert panel.model_combo.displayed_text() == "tiny"
    assert "tiny" in panel.model_combo.toolTip()
