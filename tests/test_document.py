"""The layered document without Qt: strokes, patches, mask ops, layers, undo/redo, pyramid, export."""

import numpy as np
import pytest
from skimage import data

from inpaint_core import masks
from inpaint_core.document import (
    ArrayPatch,
    Document,
    EventedList,
    Pyramid,
    ResultLayer,
    export_mask,
    export_picture,
)
from inpaint_core.errors import MaskError
from inpaint_core.masks import BBox


@pytest.fixture
def doc():
    return Document(data.astronaut(), name="astronaut")  # 512x512 real photo


def _stroke(doc, points, radius=6.0, erase=False, hardness=1.0, opacity=1.0):
    doc.begin_stroke()
    doc.paint_dab(*points[0], radius, hardness, opacity, erase)
    for a, b in zip(points, points[1:], strict=False):
        doc.paint_segment(a, b, radius, hardness, opacity, erase)
    return doc.end_stroke()


def test_stroke_paints_under_the_path_and_nowhere_else(doc):
    patch = _stroke(doc, [(100, 100), (300, 100)], radius=6)
    assert (doc.mask[95:106, 100:300] == 255).all()
    assert doc.mask[80, 200] == 0 and doc.mask[120, 200] == 0
    assert doc.mask[:, 320:].max() == 0
    assert isinstance(patch, ArrayPatch)
    assert patch.bbox.x0 >= 93 and patch.bbox.x1 <= 308


def test_fast_move_leaves_no_gaps(doc):
    # two mouse events 400 px apart: the whole line between them is painted
    _stroke(doc, [(50, 50), (450, 450)], radius=3)
    for t in np.linspace(0, 1, 200):
        x = y = int(50 + 400 * t)
        assert doc.mask[y, x] == 255, (x, y)


def test_patch_memory_is_proportional_to_the_stroke_not_the_photo():
    small = Document(np.zeros((600, 800, 3), np.uint8))
    big = Document(np.zeros((3000, 4000, 3), np.uint8))
    p_small = _stroke(small, [(100, 100), (500, 300)], radius=8)
    p_big = _stroke(big, [(100, 100), (500, 300)], radius=8)
    assert p_small.nbytes == p_big.nbytes
    # a diagonal stroke: tiles keep far less than its bounding box
    stroked = int((big.mask > 0).sum())
    assert p_big.nbytes < 2 * 3 * stroked  # old + new, within 3x of the painted pixels
    assert p_big.nbytes < 0.5 * p_big.bbox.width * p_big.bbox.height


def test_undo_redo_restore_exact_pixels(doc):
    before = doc.mask.copy()
    p1 = _stroke(doc, [(100, 100), (200, 220)], radius=10, hardness=0.3, opacity=0.7)
    after1 = doc.mask.copy()
    p2 = _stroke(doc, [(150, 80), (150, 300)], radius=12, erase=True)
    after2 = doc.mask.copy()
    assert (after2 != after1).any() and (after1 != before).any()
    doc.apply_patch(p2, undo=True)
    assert np.array_equal(doc.mask, after1)
    doc.apply_patch(p1, undo=True)
    assert np.array_equal(doc.mask, before)
    doc.apply_patch(p1, undo=False)
    doc.apply_patch(p2, undo=False)
    assert np.array_equal(doc.mask, after2)


def test_soft_brush_and_opacity_wash(doc):
    _stroke(doc, [(256, 256)], radius=40, hardness=0.0, opacity=1.0)
    assert doc.mask[256, 256] == 255
    assert 0 < doc.mask[256, 256 + 30] < 200  # soft fall-off
    assert doc.mask[256, 256 + 42] == 0
    doc.apply_patch(doc.clear_mask(), undo=False)
    # within one stroke, crossing itself at 50 % stays 50 %
    _stroke(doc, [(100, 300), (400, 300), (400, 310), (100, 310)], radius=20, opacity=0.5)
    assert doc.mask[305, 250] == 128
    # a second stroke builds up: 50 % over 50 % = 75 %
    _stroke(doc, [(100, 305), (400, 305)], radius=20, opacity=0.5)
    assert doc.mask[305, 250] == 192


def test_erase_and_mode_is_fixed_per_stroke(doc):
    _stroke(doc, [(100, 100), (300, 100)], radius=10)
    _stroke(doc, [(200, 80), (200, 120)], radius=5, erase=True)
    assert (doc.mask[90:111, 196:205] == 0).all()
    assert doc.mask[100, 150] == 255
    doc.begin_stroke()
    doc.paint_dab(10, 10, 3)
    with pytest.raises(ValueError):
        doc.paint_dab(20, 20, 3, erase=True)
    doc.cancel_stroke()
    assert doc.mask[10, 10] == 0


def test_dirty_rect_events_cover_changes(doc):
    boxes = []
    doc.events.mask_changed.connect(boxes.append)
    doc.begin_stroke()
    before = doc.mask.copy()
    doc.paint_segment((10, 10), (60, 40), 5)
    changed = np.argwhere(doc.mask != before)
    (b,) = boxes
    assert changed[:, 0].min() >= b.y0 and changed[:, 0].max() < b.y1
    assert changed[:, 1].min() >= b.x0 and changed[:, 1].max() < b.x1
    assert b.width < 100 and b.height < 100
    doc.end_stroke()


def test_stroke_with_nothing_changed_returns_none(doc):
    doc.begin_stroke()
    doc.paint_dab(-100, -100, 5)
    assert doc.end_stroke() is None


@pytest.mark.parametrize("op", ["grow", "shrink", "feather", "invert", "clear"])
def test_mask_ops_match_masks_module_and_undo(doc, op):
    _stroke(doc, [(200, 200), (300, 260)], radius=25)
    before = doc.mask.copy()
    edit = {
        "grow": lambda: doc.grow_mask(7),
        "shrink": lambda: doc.shrink_mask(5),
        "feather": lambda: doc.feather_mask(6),
        "invert": doc.invert_mask,
        "clear": doc.clear_mask,
    }[op]()
    expected = {
        "grow": lambda m: masks.grow(m, 7),
        "shrink": lambda m: masks.shrink(m, 5),
        "feather": lambda m: masks.feather(m, 6),
        "invert": masks.invert,
        "clear": np.zeros_like,
    }[op](before)
    assert np.array_equal(doc.mask, expected)
    if op != "invert":  # bbox-bounded: not a whole-image copy
        assert edit.nbytes < before.nbytes
    doc.apply_edit(edit, undo=True)
    assert np.array_equal(doc.mask, before)
    doc.apply_edit(edit, undo=False)
    assert np.array_equal(doc.mask, expected)


def test_set_mask_validates_size_and_mask_from_transparency():
    rgb = data.chelsea()
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[50:80, 100:150] = 0
    d = Document(rgb, alpha)
    with pytest.raises(MaskError, match="does not match the photo size"):
        d.set_mask(np.zeros((10, 10), np.uint8))
    d.mask_from_transparency()
    assert (d.mask[50:80, 100:150] == 255).all() and d.mask.sum() == 255 * 30 * 50
    with pytest.raises(MaskError, match="no transparency"):
        Document(rgb).mask_from_transparency()


def test_result_layers_composite_undo_and_events(doc):
    photo = doc.photo.rgb.copy()
    changed = []
    doc.events.pixels_changed.connect(changed.append)
    red = np.zeros((50, 60, 3), np.uint8)
    red[..., 0] = 255
    edit = doc.add_result_layer(red, BBox(10, 20, 70, 70), "Result #1")
    assert [layer.kind for layer in doc.layers] == ["photo", "result", "mask"]
    out = doc.flatten()
    assert (out[20:70, 10:70] == (255, 0, 0)).all()
    assert np.array_equal(out[100:], photo[100:])
    assert changed[-1] == BBox(10, 20, 70, 70)
    doc.apply_edit(edit, undo=True)
    assert len(doc.layers) == 2 and np.array_equal(doc.flatten(), photo)
    assert doc.display_rgb() is doc.photo.rgb  # no composite copy without result layers
    doc.apply_edit(edit, undo=False)
    assert (doc.flatten()[20:70, 10:70] == (255, 0, 0)).all()


def test_layer_props_move_rename_remove_undo(doc):
    photo = doc.photo.rgb.copy()
    a = doc.add_result_layer(np.full((40, 40, 3), 200, np.uint8), (0, 0, 40, 40), "A")
    b = doc.add_result_layer(np.full((40, 40, 3), 10, np.uint8), (20, 20, 60, 60), "B")
    assert a and b
    assert doc.flatten()[30, 30, 0] == 10  # B on top
    mv = doc.move_layer(2, 1)
    assert [layer.name for layer in doc.result_layers] == ["B", "A"]
    assert doc.flatten()[30, 30, 0] == 200
    doc.apply_edit(mv, undo=True)
    assert doc.flatten()[30, 30, 0] == 10
    op = doc.set_layer_opacity(2, 0.5)
    assert doc.flatten()[30, 30, 0] == 105
    vis = doc.set_layer_visible(2, False)
    assert doc.flatten()[30, 30, 0] == 200
    doc.apply_edit(vis, undo=True)
    doc.apply_edit(op, undo=True)
    assert doc.flatten()[30, 30, 0] == 10
    rn = doc.rename_layer(1, "Sky")
    assert doc.layers[1].name == "Sky"
    doc.apply_edit(rn, undo=True)
    assert doc.layers[1].name == "A"
    rm = doc.remove_layer(2)
    assert doc.flatten()[30, 30, 0] == 200
    doc.apply_edit(rm, undo=True)
    assert doc.flatten()[30, 30, 0] == 10
    with pytest.raises(ValueError):
        doc.remove_layer(0)  # the photo
    with pytest.raises(ValueError):
        doc.set_layer_opacity(0, 0.5)
    assert np.array_equal(doc.flatten()[100:], photo[100:])


def test_merge_down_and_flatten_keep_the_picture_and_undo(doc):
    photo = doc.photo.rgb.copy()
    half = np.full((40, 40), 128, np.uint8)
    doc.add_result_layer(np.full((40, 40, 3), 250, np.uint8), (0, 0, 40, 40), "A", alpha=half)
    doc.add_result_layer(np.full((30, 30, 3), 5, np.uint8), (30, 30, 60, 60), "B")
    doc.set_layer_opacity(2, 0.6)
    picture = doc.flatten()
    md = doc.merge_down(2)
    assert len(doc.result_layers) == 1 and doc.result_layers[0].box == BBox(0, 0, 60, 60)
    assert np.abs(doc.flatten().astype(int) - picture).max() <= 1
    doc.apply_edit(md, undo=True)
    assert [layer.name for layer in doc.result_layers] == ["A", "B"]
    assert np.array_equal(doc.flatten(), picture)
    fl = doc.flatten_layers()
    assert doc.result_layers == [] and np.array_equal(doc.photo.rgb, picture)
    assert fl.nbytes < photo.nbytes  # only the layer boxes were kept
    doc.apply_edit(fl, undo=True)
    assert np.array_equal(doc.photo.rgb, photo) and np.array_equal(doc.flatten(), picture)
    # merge the bottom result into the photo
    doc.merge_down(1)
    assert np.array_equal(doc.photo.rgb[:30, :30], picture[:30, :30])
    assert [layer.name for layer in doc.result_layers] == ["B"]


def test_evented_list_events():
    log = []
    lst = EventedList([1, 2, 3])
    lst.events.inserted.connect(lambda i, x: log.append(("ins", i, x)))
    lst.events.removed.connect(lambda i, x: log.append(("rem", i, x)))
    lst.events.moved.connect(lambda s, d: log.append(("mov", s, d)))
    lst.append(4)
    del lst[0]
    lst.move(0, 2)
    assert list(lst) == [3, 4, 2]
    assert log == [("ins", 3, 4), ("rem", 0, 1), ("mov", 0, 2)]


def test_pyramid_box_update_equals_rebuild():
    rgb = data.astronaut().copy()
    pyr = Pyramid(rgb, min_size=32)
    assert [lvl.shape[0] for lvl in pyr.levels] == [512, 256, 128, 64, 32]
    rgb[100:157, 33:91] = 7
    pyr.update(BBox(33, 100, 91, 157))
    fresh = Pyramid(rgb, min_size=32)
    for a, b in zip(pyr.levels, fresh.levels, strict=True):
        assert np.array_equal(a, b)
    assert pyr.level_for(1.0) == 0 and pyr.level_for(0.3) == 1 and pyr.level_for(0.01) == 4


def test_export_picture_and_mask(tmp_path, doc):
    from PIL import Image

    _stroke(doc, [(10, 10), (100, 10)], radius=4)
    for suffix in ("png", "jpg", "webp"):
        path = export_picture(tmp_path / f"out.{suffix}", doc.flatten())
        with Image.open(path) as im:
            assert im.size == (512, 512)
    m = export_mask(tmp_path / "mask.png", doc.mask)
    assert np.array_equal(np.asarray(Image.open(m)), doc.mask)
    with pytest.raises(ValueError, match="use .png"):
        export_picture(tmp_path / "out.gif", doc.flatten())


def test_result_layer_validates_shape():
    with pytest.raises(ValueError, match="box is"):
        ResultLayer(name="x", rgb=np.zeros((10, 10, 3), np.uint8), box=BBox(0, 0, 5, 5))
