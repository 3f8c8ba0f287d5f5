"""The layered document (photo, mask, result layers) with undoable edits. No Qt here."""

from .brush import TILE, StrokeBuffer, capsule_alpha
from .document import Document, DocumentEvents
from .edits import (
    ArrayPatch,
    CompositeEdit,
    Edit,
    InsertLayer,
    InvertMask,
    MoveLayer,
    RemoveLayer,
    ReplaceLayer,
    SetLayerProps,
    StrokePatch,
    Tile,
)
from .evented import Emitter, EventedList
from .export import export_mask, export_picture, picture_format
from .layer_files import export_layer, export_layers, import_layer
from .layers import Layer, MaskLayer, PhotoLayer, ResultLayer
from .pyramid import Pyramid

__all__ = [
    "TILE",
    "ArrayPatch",
    "CompositeEdit",
    "Document",
    "DocumentEvents",
    "Edit",
    "Emitter",
    "EventedList",
    "InsertLayer",
    "InvertMask",
    "Layer",
    "MaskLayer",
    "MoveLayer",
    "PhotoLayer",
    "Pyramid",
    "RemoveLayer",
    "ReplaceLayer",
    "ResultLayer",
    "SetLayerProps",
    "StrokeBuffer",
    "StrokePatch",
    "Tile",
    "capsule_alpha",
    "export_layer",
    "export_layers",
    "export_mask",
    "export_picture",
    "import_layer",
    "picture_format",
]
