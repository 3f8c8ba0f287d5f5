"""Undoable changes to a :class:`~inpaint_core.document.Document`.

Every user action produces ONE :class:`Edit`: it is applied already when returned, and
``apply(doc, undo=True)`` / ``apply(doc, undo=False)`` move the document back and forth. Pixel edits
keep only the changed boxes (old + new values), never a whole-image copy unless the whole image
changed; ``nbytes`` is what an undo history pays to keep the edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..imaging.highbits import HighBits
from ..masks import BBox
from .layers import Layer, union

if TYPE_CHECKING:
    from .document import Document

Target = Literal["mask", "photo"]


class Edit:
    label: str = "Edit"

    def apply(self, doc: Document, undo: bool) -> None:
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        return 0


@dataclass
class Tile:
    """Old and new values of one box of a 2-D (mask) or 3-D (photo) array."""

    box: BBox
    old: np.ndarray
    new: np.ndarray

    @property
    def nbytes(self) -> int:
        return self.old.nbytes + self.new.nbytes


@dataclass
class ArrayPatch(Edit):
    """Changed boxes of the mask or the photo (napari's labels undo atom: bbox slice + old values).

    Tiles may overlap only when all their ``old`` come from one state and all ``new`` from another.
    """

    target: Target
    tiles: list[Tile]
    label: str = "Edit mask"

    def apply(self, doc: Document, undo: bool) -> None:
        doc._apply_tiles(self.target, self.tiles, undo)

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.tiles)

    @property
    def bbox(self) -> BBox | None:
        box = None
        for t in self.tiles:
            box = union(box, t.box)
        return box

    @property
    def area(self) -> int:
        return sum(t.box.width * t.box.height for t in self.tiles)


StrokePatch = ArrayPatch  # a brush stroke is a tiled mask patch


@dataclass
class InvertMask(Edit):
    """Invert is its own inverse: nothing to store."""

    label: str = "Invert mask"

    def apply(self, doc: Document, undo: bool) -> None:
        doc._invert_mask_inplace()


@dataclass
class InsertLayer(Edit):
    index: int
    layer: Layer
    label: str = "Add layer"

    def apply(self, doc: Document, undo: bool) -> None:
        if undo:
            doc._remove_layer_at(self.index)
        else:
            doc._insert_layer_at(self.index, self.layer)

    @property
    def nbytes(self) -> int:
        return self.layer.nbytes


@dataclass
class RemoveLayer(Edit):
    index: int
    layer: Layer
    label: str = "Delete layer"

    def apply(self, doc: Document, undo: bool) -> None:
        if undo:
            doc._insert_layer_at(self.index, self.layer)
        else:
            doc._remove_layer_at(self.index)

    @property
    def nbytes(self) -> int:
        return self.layer.nbytes


@dataclass
class MoveLayer(Edit):
    src: int
    dst: int
    label: str = "Move layer"

    def apply(self, doc: Document, undo: bool) -> None:
        if undo:
            doc._move_layer(self.dst, self.src)
        else:
            doc._move_layer(self.src, self.dst)


@dataclass
class SetLayerProps(Edit):
    index: int
    old: dict[str, Any]
    new: dict[str, Any]
    label: str = "Layer properties"

    def apply(self, doc: Document, undo: bool) -> None:
        doc._set_props(self.index, self.old if undo else self.new)


@dataclass
class ReplaceLayer(Edit):
    index: int
    old: Layer
    new: Layer
    label: str = "Replace layer"

    def apply(self, doc: Document, undo: bool) -> None:
        doc._replace_layer_at(self.index, self.old if undo else self.new)

    @property
    def nbytes(self) -> int:
        return self.old.nbytes + self.new.nbytes


@dataclass
class CanvasState:
    """The photo's pixels and the mask at one canvas size (see :class:`ResizeCanvas`).
    ``high_bits``: the photo's 16-bit samples placed on this canvas (shared, not copied)."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    mask: np.ndarray
    high_bits: HighBits | None = None

    @property
    def nbytes(self) -> int:
        return self.rgb.nbytes + self.mask.nbytes + (0 if self.alpha is None else self.alpha.nbytes)


@dataclass
class ResizeCanvas(Edit):
    """The canvas grew (outpainting) or shrank: whole photo and mask before and after, and where
    the old picture sits in the new one (``offset``: result layers move by it). Undo gives back the
    very arrays the document had, so the original size and pixels return exactly."""

    old: CanvasState
    new: CanvasState
    offset: tuple[int, int]
    label: str = "Extend canvas"

    def apply(self, doc: Document, undo: bool) -> None:
        dx, dy = self.offset
        if undo:
            doc._set_canvas(self.old, -dx, -dy)
        else:
            doc._set_canvas(self.new, dx, dy)

    @property
    def nbytes(self) -> int:
        return self.old.nbytes + self.new.nbytes


@dataclass
class CompositeEdit(Edit):
    """Several edits as one user action (undone in reverse order)."""

    edits: list[Edit] = field(default_factory=list)
    label: str = "Edit"

    def apply(self, doc: Document, undo: bool) -> None:
        for e in reversed(self.edits) if undo else self.edits:
            e.apply(doc, undo)

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self.edits)
