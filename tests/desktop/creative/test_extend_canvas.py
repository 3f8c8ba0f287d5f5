"""Image ▸ Extend canvas… in the studio: one undo step, exact undo, photo kept beyond the overlap."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QDialogButtonBox, QMenu

from desktop.outpaint.dialog import ExtendCanvasDialog, ExtendChoice
from inpaint_core import compose
from inpaint_core.outpaint import Extension


@pytest.fixture
def studio(window):
    yield window.generation
    window.generation.shutdown()


def test_the_action_is_in_the_image_menu_and_the_toolbar(window):
    action = window.creative.extender.action
    menu = window.findChild(QMenu, "imageMenu")
    assert action in menu.actions() and action in window.toolbar.actions()
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles.index("Image") < titles.index("Generate")


def test_extend_is_one_undo_step_and_undo_is_exact(window, qtbot):
    doc = window.document
    w, h = doc.size
    photo, alpha = doc.photo.rgb.copy(), doc.photo.alpha
    doc.mask[10:20, 10:20] = 255  # the user's mask stays masked after the extend
    mask = doc.mask.copy()
    before = window.history.stack.count()
    ext = Extension(left=40, top=0, right=64, bottom=24)
    sizes = []
    window.canvas.image_resized.connect(lambda *s: sizes.append(s))
    window.creative.extender.extend(ExtendChoice(ext, overlap=32, prefill="edge"))
    assert window.history.stack.count() == before + 1
    assert doc.size == (w + 104, h + 24)
    assert sizes[-1] == (w + 104, h + 24)
    # the photo sits at (40, 0), bit for bit; the new area + the band are masked
    assert np.array_equal(doc.photo.rgb[0:h, 40 : 40 + w], photo)
    req = window.generation.panel.request()  # the paste's reach follows the panel's grow/feather
    reach = compose.composite_margin(req.mask_grow, req.mask_feather)
    if req.mask_grow == 0 and req.mask_feather == 0:
        reach = 0
    band = 32 - reach
    assert doc.mask[:, :40].all() and doc.mask[:, 40 + w :].all() and doc.mask[h:, :].all()
    assert doc.mask[: h - band, 40 + band : 40 + w - band][20:, 20:].max() == 0
    assert doc.mask[0:h, 40 : 40 + band].all()  # the overlap band along the left edge
    assert np.array_equal(doc.mask[10:20, 50:60], mask[10:20, 10:20])  # moved with the photo
    assert window.canvas.doc is doc and window.canvas._photo is not None
    window.history.stack.undo()
    assert doc.size == (w, h) and sizes[-1] == (w, h)
    assert np.array_equal(doc.photo.rgb, photo) and doc.photo.alpha is alpha
    assert np.array_equal(doc.mask, mask)
    assert np.array_equal(doc.flatten(), photo)
    window.history.stack.redo()
    assert doc.size == (w + 104, h + 24)


def test_the_dialog_by_sides_and_to_an_aspect(qtbot):
    d = ExtendCanvasDialog((400, 300), min_overlap=25)
    qtbot.addWidget(d)
    assert d.overlap_spin.minimum() == 25 and d.overlap_spin.value() == 32
    d.right_spin.setValue(0)
    ok = d.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # nothing to extend
    d.left_spin.setValue(50)
    assert ok.isEnabled() and d.choice().extension == Extension(left=50)
    assert "400×300 → 450×300" in d.result_label.text()
    d.aspect_radio.setChecked(True)
    d.aspect_combo.setCurrentText("16:9")
    assert d.choice().extension == Extension(left=66, right=67)  # 300 * 16 / 9 = 533.3 -> 533: +133
    d.aspect_combo.setCurrentText("nonsense")
    assert not ok.isEnabled() and "16:9" in d.error_label.text()


def test_classical_generation_after_extend_keeps_the_photo_beyond_the_band(studio, window, qtbot):
    ctl = studio
    doc = window.document
    w, h = doc.size
    photo = doc.flatten()
    p = ctl.panel
    p.engine_combo.setCurrentIndex(p.engine_combo.findData("classical"))
    assert p.validate() is not None
    overlap = 40
    window.creative.extender.extend(
        ExtendChoice(Extension(left=48, top=32), overlap=overlap, prefill="edge")
    )
    assert doc.size == (w + 48, h + 32)
    ctl.generate()
    qtbot.waitUntil(lambda: ctl.tray.count() >= 1, timeout=60000)
    cand = ctl.tray.candidates()[0]
    assert cand.seam_score is not None
    ctl.candidates.keep(cand)
    out = doc.flatten()
    assert out.shape == (h + 32, w + 48, 3)
    inner = out[32 + overlap : 32 + h, 48 + overlap : 48 + w]
    assert np.array_equal(inner, photo[overlap:, overlap:])  # bit-identical beyond the band
    assert not np.array_equal(out[:32, :48], np.zeros((32, 48, 3), np.uint8))
    # undo the keep, then the extend: the original document, size and pixels
    window.history.stack.undo()
    window.history.stack.undo()
    assert doc.size == (w, h) and np.array_equal(doc.flatten(), photo)
