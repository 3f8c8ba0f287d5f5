"""Document.resize_canvas (outpainting's grown canvas): one edit, layers move, exact undo."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from inpaint_core.document import Document
from inpaint_core.masks import BBox


def _doc():
    photo = np.ascontiguousarray(data.astronaut()[:120, :160])
    return Document(photo), photo


def test_grow_moves_result_layers_and_undo_is_exact():
    doc, photo = _doc()
    patch = np.full((20, 30, 3), 7, np.uint8)
    doc.add_result_layer(patch, BBox(10, 10, 40, 30))
    before_flat = doc.flatten()
    doc.mask[50:60, 50:60] = 255
    before_mask = doc.mask.copy()
    events = []
    doc.events.resized.connect(lambda: events.append(doc.size))
    big = np.zeros((140, 200, 3), np.uint8)
    big[20:140, 40:200] = photo
    mask = np.zeros((140, 200), np.uint8)
    mask[:, :40] = 255
    edit = doc.resize_canvas(big, mask, (40, 20))
    assert doc.size == (200, 140) and events == [(200, 140)]
    layer = doc.result_layers[0]
    assert layer.box == BBox(50, 30, 80, 50)
    assert np.array_equal(doc.flatten()[20:, 40:], before_flat)  # the picture moved as a whole
    # the mask is the new one, and painting works on it (the stroke buffer follows)
    doc.begin_stroke()
    doc.paint_dab(190, 130, 4)
    stroke = doc.end_stroke()
    assert stroke is not None and doc.mask[130, 190] > 0
    doc.apply_edit(stroke, undo=True)
    doc.apply_edit(edit, undo=True)
    assert doc.size == (160, 120) and events[-1] == (160, 120)
    assert layer.box == BBox(10, 10, 40, 30)
    assert np.array_equal(doc.photo.rgb, photo) and np.array_equal(doc.mask, before_mask)
    assert np.array_equal(doc.flatten(), before_flat)
    doc.apply_edit(edit, undo=False)
    assert doc.size == (200, 140) and layer.box == BBox(50, 30, 80, 50)


def test_bad_sizes_are_refused_before_anything_changes():
    doc, photo = _doc()
    with pytest.raises(ValueError, match="mask must be 200x140"):
        doc.resize_canvas(np.zeros((140, 200, 3), np.uint8), np.zeros((10, 10), np.uint8), (0, 0))
    doc.add_result_layer(np.zeros((10, 10, 3), np.uint8), BBox(150, 110, 160, 120))
    with pytest.raises(ValueError, match="outside"):
        doc.resize_canvas(np.zeros((120, 160, 3), np.uint8), np.zeros((120, 160), np.uint8), (5, 5))
    assert doc.size == (160, 120) and np.array_equal(doc.photo.rgb, photo)
