"""Layers in and out of files: import a picture as a layer, export each layer as a PNG.

An exported layer is a canvas-sized RGBA PNG (transparent outside the layer), so importing it back
puts it exactly where it was; the mask is exported as a greyscale PNG (255 = fill), as
:func:`export_mask` does; the photo of a 16-bit photo as a 16-bit PNG. Layer opacity and visibility are layer properties, not pixels: they are
not baked in. Writes go through :mod:`inpaint_core.files` (atomic).
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..imaging import LoadedImage, load_image
from ..imaging.png import save_png
from .document import Document
from .edits import InsertLayer
from .export import export_mask
from .layers import MaskLayer, PhotoLayer, ResultLayer


def import_layer(
    document: Document,
    source: str | PathLike[str] | bytes | LoadedImage,
    *,
    x: int = 0,
    y: int = 0,
    name: str | None = None,
    **load_kwargs: Any,
) -> InsertLayer:
    """Load a picture (path, bytes, URL, or an already loaded image) and put it on a new layer
    under the mask with its top-left corner at (``x``, ``y``), cropped to the canvas; its
    transparency is kept. Returns the undoable edit. Raises ValueError when nothing of it lands
    on the canvas."""
    image = source if isinstance(source, LoadedImage) else load_image(source, **load_kwargs)
    h, w = image.rgb.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(document.width, x + w), min(document.height, y + h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(
            f"a {w}x{h} picture at {x},{y} is outside the {document.width}x{document.height} canvas"
        )
    ys, xs = slice(y0 - y, y1 - y), slice(x0 - x, x1 - x)
    alpha = None if image.alpha is None else image.alpha[ys, xs]
    label = name or (Path(image.source).name if image.source and image.source != "<bytes>" else "")
    return document.add_result_layer(
        np.ascontiguousarray(image.rgb[ys, xs]),
        (x0, y0, x1, y1),
        label or "Imported",
        alpha=None if alpha is None else np.ascontiguousarray(alpha),
    )


def export_layer(document: Document, index: int, path: str | PathLike[str]) -> Path:
    """Write layer ``index`` as a PNG at ``path`` (see the module docstring)."""
    layer = document.layers[index]
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"layers are exported as PNG, not {path.suffix or 'no extension'}")
    if isinstance(layer, MaskLayer):
        return export_mask(path, document.mask)
    if isinstance(layer, PhotoLayer):  # a 16-bit photo: a 16-bit PNG
        return save_png(path, layer.rgb, alpha=layer.alpha, high_bits=layer.high_bits)
    assert isinstance(layer, ResultLayer)
    rgb = np.zeros((document.height, document.width, 3), np.uint8)
    alpha = np.zeros((document.height, document.width), np.uint8)
    rgb[layer.box.slices] = layer.rgb
    alpha[layer.box.slices] = 255 if layer.alpha is None else layer.alpha
    return save_png(path, rgb, alpha=alpha)


def _file_name(text: str) -> str:
    return re.sub(r"[^\w.-]+", "-", text, flags=re.UNICODE).strip("-.")[:80] or "layer"


def export_layers(document: Document, folder: str | PathLike[str]) -> list[Path]:
    """Every layer as ``NN-name.png`` in ``folder`` (bottom first: 00 is the photo)."""
    folder = Path(folder)
    return [
        export_layer(document, i, folder / f"{i:02d}-{_file_name(layer.name)}.png")
        for i, layer in enumerate(document.layers)
    ]
