"""QA: the live preview was drawn under the mask overlay (hidden until H). The canvas draws a
preview above the mask tint, so it is seen as soon as it arrives; outside the preview the tint
still shows where the mask is."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication

from inpaint_core.masks import BBox
from tests.desktop.conftest import widget_point


def _pixel(canvas, x, y):
    image = canvas.grab().toImage()
    dpr = image.devicePixelRatio()
    p = widget_point(canvas, x, y)
    c = image.pixelColor(round(p.x() * dpr), round(p.y() * dpr))
    return c.red(), c.green(), c.blue()


def test_the_preview_is_drawn_above_the_mask_overlay(window):
    doc = window.document
    mask = np.zeros_like(doc.mask)
    mask[100:200, 100:300] = 255
    window.push_edit(doc.set_mask(mask))
    assert doc.mask_layer.visible and doc.mask_layer.opacity > 0
    canvas = window.canvas
    canvas.set_preview(np.full((120, 240, 3), (20, 200, 40), np.uint8), BBox(90, 90, 330, 210))
    QApplication.processEvents()
    r, g, b = _pixel(canvas, 150, 150)  # masked, under the preview
    assert abs(r - 20) <= 3 and abs(g - 200) <= 3 and abs(b - 40) <= 3
    # outside the preview the mask is still tinted
    canvas.set_preview(None)
    QApplication.processEvents()
    tinted = _pixel(canvas, 150, 150)
    photo = tuple(int(v) for v in doc.display_rgb()[150, 150])
    assert tinted != photo
