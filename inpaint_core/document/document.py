"""The layered document: photo, mask and result layers, with undoable edits (no Qt).

Layer order (bottom to top) in :attr:`Document.layers`: the photo, the result layers, the mask.
Every public mutating method applies its change and returns the :class:`Edit` that undoes/redoes it
(``None`` when nothing changed); a GUI pushes that edit on its undo stack as one command.
"""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np

from ..imaging.highbits import HighBits
from ..masks import BBox
from ..metadata import FoundParameters, parameters_or_none
from .brush import StrokeBuffer
from .edits import (
    ArrayPatch,
    CanvasState,
    CompositeEdit,
    Edit,
    InsertLayer,
    MoveLayer,
    RemoveLayer,
    ReplaceLayer,
    ResizeCanvas,
    SetLayerProps,
    Target,
    Tile,
)
from .evented import Emitter, EventedList
from .layers import Layer, MaskLayer, PhotoLayer, ResultLayer, composite_into, merge_pair, union
from .mask_ops import MaskOpsMixin

if TYPE_CHECKING:
    from ..imaging import LoadedImage


class DocumentEvents:
    """``mask_changed(box)``: mask pixels changed in ``box``. ``pixels_changed(box)``: the displayed
    (flattened) picture changed in ``box``. ``display_replaced()``: :meth:`Document.display_rgb`
    now returns a different array (same size; the pixels outside the next ``pixels_changed`` box
    are the same). ``resized()``: the canvas changed size (:meth:`Document.resize_canvas`): the
    photo, the mask and the displayed picture are new arrays; views rebuild from them.
    ``shifted(dx, dy)``: just before ``resized``: the old picture's top-left now sits at (dx, dy)
    of the new canvas (result layers moved by it; what else lies on the picture moves too)."""

    def __init__(self) -> None:
        self.resized = Emitter()
        self.shifted = Emitter()
        self.mask_changed = Emitter()
        self.pixels_changed = Emitter()
        self.display_replaced = Emitter()


def _as_box(box: BBox | tuple[int, int, int, int]) -> BBox:
    return box if isinstance(box, BBox) else BBox(*(int(v) for v in box))


class Document(MaskOpsMixin):
    def __init__(
        self,
        rgb: np.ndarray,
        alpha: np.ndarray | None = None,
        *,
        name: str = "Photo",
        source: str = "",
        text: dict[str, str] | None = None,
        rgb16: np.ndarray | None = None,
    ) -> None:
        """``rgb16``: the 16-bit samples of a 16-bit photo (HxWx3 uint16; ``rgb`` is their
        reduction, see :mod:`inpaint_core.imaging.highbits`): kept, never copied, and written by
        every save, so untouched pixels keep their 16 bits."""
        rgb = np.asarray(rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"a document needs an HxWx3 uint8 photo, got {rgb.dtype} {rgb.shape}")
        if rgb.shape[0] < 1 or rgb.shape[1] < 1:
            raise ValueError("the photo is empty")
        h, w = rgb.shape[:2]
        if alpha is not None and (alpha.shape != (h, w) or alpha.dtype != np.uint8):
            raise ValueError(f"alpha must be {w}x{h} uint8, got {alpha.dtype} {alpha.shape}")
        high_bits = HighBits.of(rgb16)
        if high_bits is not None and high_bits.samples.shape[:2] != (h, w):
            raise ValueError(f"the 16-bit samples must be {w}x{h}, got {high_bits.samples.shape}")
        self.photo = PhotoLayer(
            name=name, rgb=np.ascontiguousarray(rgb), alpha=alpha, high_bits=high_bits
        )
        self.mask = np.zeros((h, w), np.uint8)
        self.mask_layer = MaskLayer(name="Mask")
        self.layers: EventedList[Layer] = EventedList([self.photo, self.mask_layer])
        self.events = DocumentEvents()
        self.source = source
        self.text = dict(text or {})
        #: the generation parameters the photo's file carries (None: none, or unreadable ones);
        #: read by :meth:`from_image`, i.e. on the loading thread, never on a GUI thread
        self.parameters: FoundParameters | None = None
        self._stroke = StrokeBuffer(self.mask)
        self._composite: np.ndarray | None = None
        #: bumped before and after every in-place write to the photo's pixels (odd = writing), so
        #: a reader on another thread (autosave) can tell it read a photo that did not move
        self.photo_revision = 0

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_image(cls, image: LoadedImage, name: str | None = None) -> Document:
        from pathlib import Path

        label = name or (Path(image.source).name if image.source else "Photo") or "Photo"
        doc = cls(
            image.rgb,
            image.alpha,
            name=label,
            source=image.source,
            text=image.text,
            rgb16=image.rgb16,
        )
        doc.parameters = parameters_or_none(image.text)
        return doc

    @classmethod
    def open(cls, source: str | PathLike[str] | bytes, **load_kwargs: Any) -> Document:
        """Load a photo (path, bytes or URL) through :func:`inpaint_core.imaging.load_image`."""
        from ..imaging import load_image

        return cls.from_image(load_image(source, **load_kwargs))

    # -- geometry and pixels --------------------------------------------------------------------

    @property
    def width(self) -> int:
        return int(self.photo.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.photo.rgb.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.width, self.height

    @property
    def full_box(self) -> BBox:
        return BBox(0, 0, self.width, self.height)

    @property
    def result_layers(self) -> list[ResultLayer]:
        return [layer for layer in self.layers if isinstance(layer, ResultLayer)]

    def display_rgb(self) -> np.ndarray:
        """The flattened picture as shown (no copy: the photo itself while there are no result layers)."""
        return self._composite if self._composite is not None else self.photo.rgb

    def composite_region(self, box: BBox) -> np.ndarray:
        return self.display_rgb()[box.slices].copy()

    def flatten(self) -> np.ndarray:
        """The flattened picture (photo + visible result layers) as a new HxWx3 uint8 array."""
        return self.display_rgb().copy()

    # -- strokes --------------------------------------------------------------------------------

    @property
    def stroke_active(self) -> bool:
        return self._stroke.active

    def begin_stroke(self) -> None:
        if self._stroke.active:
            self.cancel_stroke()
        self._stroke.begin()

    def paint_dab(
        self,
        x: float,
        y: float,
        radius: float,
        hardness: float = 1.0,
        opacity: float = 1.0,
        erase: bool = False,
    ) -> BBox | None:
        """One round dab centred at image position (x, y) (pixel (i, j) spans [j, j+1) x [i, i+1))."""
        return self.paint_segment((x, y), (x, y), radius, hardness, opacity, erase)

    def paint_segment(
        self,
        p0: tuple[float, float],
        p1: tuple[float, float],
        radius: float,
        hardness: float = 1.0,
        opacity: float = 1.0,
        erase: bool = False,
    ) -> BBox | None:
        """Paint the brush swept from ``p0`` to ``p1`` (continuous: no gaps however far apart)."""
        box = self._stroke.paint(p0, p1, radius, hardness, opacity, erase)
        if box is not None:
            self.events.mask_changed.emit(box)
        return box

    def end_stroke(self, label: str | None = None) -> ArrayPatch | None:
        """The stroke as one undo patch (changed pixels only), or None when it changed nothing."""
        return self._stroke.end(label)

    def cancel_stroke(self) -> None:
        box = self._stroke.cancel()
        if box is not None:
            self.events.mask_changed.emit(box)

    # -- edits ----------------------------------------------------------------------------------

    def apply_edit(self, edit: Edit, undo: bool) -> None:
        """Undo (``undo=True``) or redo an edit this document returned earlier."""
        edit.apply(self, undo)

    apply_patch = apply_edit

    def _apply_tiles(self, target: Target, tiles: list[Tile], undo: bool) -> None:
        arr = self.mask if target == "mask" else self.photo.rgb
        box = None
        if target == "photo":
            self.photo_revision += 1  # odd while the photo is being written (see photo_revision)
        for tile in reversed(tiles) if undo else tiles:
            arr[tile.box.slices] = tile.old if undo else tile.new
            box = union(box, tile.box)
        if target == "photo":
            self.photo_revision += 1
        if box is None:
            return
        if target == "mask":
            self.events.mask_changed.emit(box)
        else:
            self._recomposite(box)

    def _invert_mask_inplace(self) -> None:
        np.subtract(255, self.mask, out=self.mask)
        self.events.mask_changed.emit(self.full_box)

    def resize_canvas(
        self,
        rgb: np.ndarray,
        mask: np.ndarray,
        offset: tuple[int, int],
        *,
        alpha: np.ndarray | None = None,
        label: str = "Extend canvas",
    ) -> ResizeCanvas:
        """Replace the photo by ``rgb`` (a grown canvas, the old picture at ``offset`` = (x, y))
        and the mask by ``mask``, in one undoable edit; result layers move with the picture, and
        so do a 16-bit photo's samples (not copied: where ``rgb`` keeps the old photo's pixels
        they keep their 16 bits, the new area is 8-bit scaled)."""
        h, w = rgb.shape[:2]
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"the canvas needs HxWx3 uint8 pixels, got {rgb.dtype} {rgb.shape}")
        if mask.shape != (h, w) or mask.dtype != np.uint8:
            raise ValueError(f"the mask must be {w}x{h} uint8, got {mask.dtype} {mask.shape}")
        if alpha is not None and (alpha.shape != (h, w) or alpha.dtype != np.uint8):
            raise ValueError(f"alpha must be {w}x{h} uint8, got {alpha.dtype} {alpha.shape}")
        dx, dy = (int(v) for v in offset)
        for layer in self.result_layers:
            b = layer.box
            if b.x0 + dx < 0 or b.y0 + dy < 0 or b.x1 + dx > w or b.y1 + dy > h:
                raise ValueError(f"layer {layer.name!r} would fall outside the {w}x{h} canvas")
        if self._stroke.active:
            self.cancel_stroke()
        deep = self.photo.high_bits
        edit = ResizeCanvas(
            CanvasState(self.photo.rgb, self.photo.alpha, self.mask, deep),
            CanvasState(
                np.ascontiguousarray(rgb),
                alpha,
                np.ascontiguousarray(mask),
                None if deep is None else deep.moved(dx, dy),
            ),
            (dx, dy),
            label,
        )
        edit.apply(self, undo=False)
        return edit

    def _set_canvas(self, state: CanvasState, dx: int, dy: int) -> None:
        if self._stroke.active:
            self.cancel_stroke()
        self.photo_revision += 1  # odd while the photo is being replaced (see photo_revision)
        self.photo.rgb, self.photo.alpha = state.rgb, state.alpha
        self.photo.high_bits = state.high_bits
        self.mask = state.mask
        self._stroke = StrokeBuffer(self.mask)
        for layer in self.result_layers:
            b = layer.box
            layer.box = BBox(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy)
        results = self.result_layers
        self._composite = None
        if results:
            self._composite = self.photo.rgb.copy()
            composite_into(self._composite, self.full_box, results)
        self.photo_revision += 1
        self.events.shifted.emit(dx, dy)
        self.events.resized.emit()
        self.layers.notify_changed(self.photo, "rgb")

    # -- layers: internals used by edits --------------------------------------------------------

    def _insert_layer_at(self, index: int, layer: Layer) -> None:
        self.layers.insert(index, layer)
        if isinstance(layer, ResultLayer):
            self._recomposite(layer.box)

    def _remove_layer_at(self, index: int) -> None:
        layer = self.layers[index]
        del self.layers[index]
        if isinstance(layer, ResultLayer):
            self._recomposite(layer.box)

    def _replace_layer_at(self, index: int, layer: Layer) -> None:
        old = self.layers[index]
        self.layers[index] = layer
        box = union(getattr(old, "box", None), getattr(layer, "box", None))
        if box is not None:
            self._recomposite(box)

    def _move_layer(self, src: int, dst: int) -> None:
        layer = self.layers[src]
        self.layers.move(src, dst)
        if isinstance(layer, ResultLayer):
            self._recomposite(layer.box)

    def _set_props(self, index: int, props: dict[str, Any]) -> None:
        layer = self.layers[index]
        for key, value in props.items():
            setattr(layer, key, value)
            self.layers.notify_changed(layer, key)
        if isinstance(layer, ResultLayer) and ({"visible", "opacity"} & props.keys()):
            self._recomposite(layer.box)

    def _recomposite(self, box: BBox) -> None:
        """Recompute the displayed picture in ``box`` and tell listeners."""
        results = self.result_layers
        replaced = False
        if results and self._composite is None:
            self._composite = self.photo.rgb.copy()
            replaced = True
        elif not results and self._composite is not None:
            self._composite = None
            replaced = True
        if self._composite is not None:
            out = self.photo.rgb[box.slices].copy()
            composite_into(out, box, results)
            self._composite[box.slices] = out
        if replaced:
            self.events.display_replaced.emit()
        self.events.pixels_changed.emit(box)

    # -- layer operations -----------------------------------------------------------------------

    def _check_result(self, index: int) -> ResultLayer:
        layer = self.layers[index]
        if not isinstance(layer, ResultLayer):
            raise ValueError(f"the {layer.kind} layer cannot be moved, merged or deleted")
        return layer

    def add_result_layer(
        self,
        rgb: np.ndarray,
        box: BBox | tuple[int, int, int, int] | None = None,
        name: str = "Result",
        *,
        alpha: np.ndarray | None = None,
        info: dict[str, Any] | None = None,
    ) -> InsertLayer:
        """Put ``rgb`` (the pixels of ``box``; None = the whole photo) on a new layer under the mask."""
        box = self.full_box if box is None else _as_box(box)
        if (
            box.x0 < 0
            or box.y0 < 0
            or box.x1 > self.width
            or box.y1 > self.height
            or box.width <= 0
            or box.height <= 0
        ):
            raise ValueError(
                f"layer box {box.x0},{box.y0}-{box.x1},{box.y1} is not inside the "
                f"{self.width}x{self.height} photo"
            )
        layer = ResultLayer(
            name=name,
            rgb=np.ascontiguousarray(rgb, dtype=np.uint8),
            box=box,
            alpha=None if alpha is None else np.ascontiguousarray(alpha, dtype=np.uint8),
            info=dict(info or {}),
        )
        edit = InsertLayer(len(self.layers) - 1, layer, f"Apply {name}")
        edit.apply(self, undo=False)
        return edit

    def remove_layer(self, index: int) -> RemoveLayer:
        layer = self._check_result(index)
        edit = RemoveLayer(index, layer, f"Delete {layer.name}")
        edit.apply(self, undo=False)
        return edit

    def move_layer(self, src: int, dst: int) -> MoveLayer | None:
        """Move a result layer to index ``dst`` (it stays above the photo and below the mask)."""
        layer = self._check_result(src)
        if not 1 <= dst <= len(self.layers) - 2:
            raise ValueError("result layers stay between the photo and the mask")
        if src == dst:
            return None
        edit = MoveLayer(src, dst, f"Move {layer.name}")
        edit.apply(self, undo=False)
        return edit

    def set_layer_props(
        self, index: int, label: str | None = None, **props: Any
    ) -> SetLayerProps | None:
        layer = self.layers[index]
        bad = set(props) - layer.editable
        if bad:
            raise ValueError(f"cannot change {', '.join(sorted(bad))} of the {layer.kind} layer")
        if "opacity" in props:
            props["opacity"] = min(max(float(props["opacity"]), 0.0), 1.0)
        if "visible" in props:
            props["visible"] = bool(props["visible"])
        old = {k: getattr(layer, k) for k in props}
        if old == props:
            return None
        edit = SetLayerProps(index, old, dict(props), label or f"Change {layer.name}")
        edit.apply(self, undo=False)
        return edit

    def rename_layer(self, index: int, name: str) -> SetLayerProps | None:
        name = str(name).strip()
        if not name:
            raise ValueError("a layer name cannot be empty")
        return self.set_layer_props(index, f"Rename to {name}", name=name)

    def set_layer_opacity(self, index: int, opacity: float) -> SetLayerProps | None:
        layer = self.layers[index]
        return self.set_layer_props(
            index, f"{layer.name} opacity {round(opacity * 100)} %", opacity=opacity
        )

    def set_layer_visible(self, index: int, visible: bool) -> SetLayerProps | None:
        layer = self.layers[index]
        verb = "Show" if visible else "Hide"
        return self.set_layer_props(index, f"{verb} {layer.name}", visible=visible)

    def merge_down(self, index: int) -> CompositeEdit:
        """Merge a result layer into the layer below it (another result, or the photo itself)."""
        layer = self._check_result(index)
        below = self.layers[index - 1]
        if isinstance(below, PhotoLayer):
            box = layer.box
            old = self.photo.rgb[box.slices].copy()
            new = old.copy()
            composite_into(new, box, [layer])
            edits: list[Edit] = [
                ArrayPatch("photo", [Tile(box, old, new)], "Merge into photo"),
                RemoveLayer(index, layer),
            ]
        else:
            assert isinstance(below, ResultLayer)
            merged = merge_pair(below, layer)
            edits = [ReplaceLayer(index - 1, below, merged), RemoveLayer(index, layer)]
        edit = CompositeEdit(edits, f"Merge {layer.name} down")
        edit.apply(self, undo=False)
        return edit

    def flatten_layers(self) -> CompositeEdit | None:
        """Bake the visible result layers into the photo and drop all result layers."""
        results = self.result_layers
        if not results:
            return None
        tiles = [
            Tile(
                layer.box, self.photo.rgb[layer.box.slices].copy(), self.composite_region(layer.box)
            )
            for layer in results
            if layer.visible and layer.opacity > 0
        ]
        edits: list[Edit] = []
        if tiles:
            edits.append(ArrayPatch("photo", tiles, "Flatten into photo"))
        for layer in reversed(results):
            edits.append(RemoveLayer(self.layers.index_of(layer), layer))
        edit = CompositeEdit(edits, "Flatten")
        edit.apply(self, undo=False)
        return edit
