"""Layers in and out of files: import a picture as a layer, export every layer as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from inpaint_core.document import Document, export_layer, export_layers, import_layer
from inpaint_core.imaging import load_image
from inpaint_core.masks import BBox


def test_import_places_crops_and_keeps_transparency(tmp_path: Path) -> None:
    doc = Document(data.astronaut(), name="astronaut")
    sticker = np.zeros((60, 80, 4), np.uint8)
    sticker[..., :3] = data.chelsea()[:60, :80]
    sticker[..., 3] = np.arange(80, dtype=np.uint8)[None, :] * 3
    path = tmp_path / "sticker.png"
    Image.fromarray(sticker, "RGBA").save(path)
    before = doc.flatten()
    edit = import_layer(doc, path, x=470, y=-20)
    layer = doc.layers[1]
    assert layer.name == "sticker.png" and layer.box == BBox(470, 0, 512, 40)
    assert np.array_equal(layer.rgb, sticker[20:, :42, :3])
    assert np.array_equal(layer.alpha, sticker[20:, :42, 3])
    assert not np.array_equal(doc.flatten(), before)
    doc.apply_edit(edit, undo=True)
    assert np.array_equal(doc.flatten(), before) and len(doc.layers) == 2
    with pytest.raises(ValueError, match="outside"):
        import_layer(doc, path, x=600, y=0)


def test_export_each_layer_and_import_it_back(tmp_path: Path) -> None:
    doc = Document(data.astronaut(), name="astro/naut")
    doc.mask[100:200, 50:90] = 255
    la = np.random.default_rng(0).integers(0, 256, (30, 40), np.uint8)
    doc.add_result_layer(np.full((30, 40, 3), 7, np.uint8), (300, 20, 340, 50), "a b", alpha=la)
    doc.add_result_layer(np.full((10, 10, 3), 250, np.uint8), (0, 0, 10, 10), "white")
    paths = export_layers(doc, tmp_path / "layers")
    assert [p.name for p in paths] == [
        "00-astro-naut.png",
        "01-a-b.png",
        "02-white.png",
        "03-Mask.png",
    ]
    assert np.array_equal(load_image(paths[0]).rgb, doc.photo.rgb)
    assert np.array_equal(np.asarray(Image.open(paths[3])), doc.mask)
    again = Document(load_image(paths[0]).rgb)
    for p in paths[1:3]:
        import_layer(again, p)
    assert np.array_equal(again.flatten(), doc.flatten())
    with pytest.raises(ValueError, match="PNG"):
        export_layer(doc, 1, tmp_path / "x.jpg")
