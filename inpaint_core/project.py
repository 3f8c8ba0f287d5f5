"""Layered projects as OpenRaster (``.ora``): the photo, the mask, every layer and the candidates.

OpenRaster is the open layered format Krita, GIMP and MyPaint read: a zip whose first entry is
``mimetype`` (stored, content ``image/openraster``), then ``stack.xml`` (the layer tree, topmost
first), one PNG per layer under ``data/``, ``Thumbnails/thumbnail.png`` (at most 256 px) and
``mergedimage.png`` (the flattened picture).

How a :class:`~inpaint_core.document.Document` maps onto it:

- the photo is the bottom layer (RGB, or RGBA when the photo has transparency);
- result layers sit above it in their order, each a PNG of its box placed at ``x``/``y`` (the box's
  corner), with ``opacity`` and ``visibility``;
- the mask is the top layer, named "Mask": its alpha *is* the mask (0..255) and its colour the
  overlay colour. It is written **hidden**, so ``mergedimage.png`` (the composite of the visible
  layers, as the spec asks) is the picture without the red overlay; the studio's own overlay
  visibility is kept in our namespaced file;
- ``inpaint-studio/document.json`` (our namespace: other programs ignore it) holds what OpenRaster
  has no place for: which layer is the photo and which the mask, the mask colour, each result
  layer's generation info, the photo's source and text chunks;
- ``inpaint-studio/candidates.json`` + ``inpaint-studio/candidates/*.png``: every candidate of the
  history (kept or not) with its full request, seed, box and flags.

Pixels are stored as 8-bit PNG, which is what the document holds (every photo is brought to 8-bit
sRGB when it is loaded, see :mod:`inpaint_core.imaging`), except the photo of a 16-bit photo: its
layer (and ``mergedimage.png``) is a 16-bit PNG of its 16-bit pixels
(:mod:`inpaint_core.imaging.highbits`: the untouched pixels' own 16 bits, edited ones scaled from 8).
So a save -> open round trip is exact, bit for bit, for every array the document has, 16-bit
samples included. (Readers that bring PNGs to 8 bits, like Pillow, see the photo's high bytes.)

An .ora made by another program opens with the layers it has: the first layer named "mask"
(any case) becomes the mask (its alpha when it has transparency, else its brightness), the bottom
other layer the photo, the rest result layers (groups are flattened, their visibility and opacity
carried down to their layers).

Opening is defensive (a project is a zip from anywhere): entry count, each entry's size, the sum of
the sizes and the canvas size are capped before anything large is read, layer ``src`` must name a
file under ``data/`` (no ``..``, no absolute paths), and ``stack.xml`` is parsed with ``defusedxml``
(no entity expansion). Every problem is a :class:`ProjectError` naming the file and the reason.

Saving goes through :func:`inpaint_core.files.atomic_open`: a failed or killed save leaves the
previous file as it was.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException
from PIL import Image

from . import __version__ as APP_VERSION
from .candidates import Candidate
from .document import Document, InsertLayer, ResultLayer
from .document.layers import composite_into
from .errors import ImageLoadError, ImageTooLargeError, InpaintError
from .files import atomic_open
from .imaging import LoadedImage
from .imaging.decode import Decoded, decode
from .imaging.highbits import HighBits
from .imaging.png_bands import RowsCallback, encode_grey, encode_picture
from .imaging.sources import max_pixels_from_env
from .inpaint import InpaintResult
from .masks import BBox
from .request import InpaintRequest

MIMETYPE = b"image/openraster"
NAMESPACE = "inpaint-studio"
DOCUMENT_JSON = f"{NAMESPACE}/document.json"
CANDIDATES_JSON = f"{NAMESPACE}/candidates.json"
FORMAT_VERSION = 1
THUMBNAIL_SIZE = 256
DEFAULT_COMPRESS_LEVEL = 1
"""zlib level of layer PNGs. Measured on an 8000x6000 photo: level 6 is ~8 % smaller than level 1
and ~2.7x slower; a save the user waits for (and autosave) wants level 1."""

#: caps checked when opening (a project is a zip from anywhere)
MAX_ENTRIES = 10_000
MAX_ENTRY_BYTES = 1024**3  # one uncompressed entry (an 8K RGBA layer PNG is < 200 MB)
MAX_TOTAL_BYTES = 8 * 1024**3  # all entries together
MAX_XML_BYTES = 16 * 1024**2
MAX_LAYERS = 2_000


class ProjectError(ImageLoadError):
    """A project file cannot be opened: not OpenRaster, damaged, over a limit, or unsafe."""


# -- the in-memory shape of a project ------------------------------------------------------------


@dataclass
class LayerData:
    """One layer as it goes into the file. ``rgb``/``alpha`` are the layer's pixels (for the mask:
    ``alpha`` is the mask and ``rgb`` is None: the writer fills in the colour).

    ``cache_key`` names pixels that never change under that key (a writer may reuse their encoded
    PNG); ``still_valid`` (when given) is asked after encoding: False means the pixels were written
    to while they were read, and the write is abandoned (:class:`SnapshotChanged`).
    """

    name: str
    kind: str  # "photo" | "result" | "mask"
    x: int
    y: int
    rgb: np.ndarray | None
    alpha: np.ndarray | None = None
    visible: bool = True
    opacity: float = 1.0
    info: dict[str, Any] = field(default_factory=dict)
    cache_key: Any = None
    still_valid: Callable[[], bool] | None = None
    #: the photo's 16-bit samples (a 16-bit photo): the layer is written as a 16-bit PNG
    high_bits: HighBits | None = None


@dataclass
class ProjectSnapshot:
    """Everything a project file holds, taken from a document (layers bottom to top)."""

    width: int
    height: int
    name: str
    source: str
    text: dict[str, str]
    layers: list[LayerData]
    mask_colour: tuple[int, int, int]
    mask_visible: bool
    mask_opacity: float
    candidates: list[dict[str, Any]]
    candidate_patches: list[np.ndarray]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Project:
    """An opened project: the document, its candidate history, and what our namespace said."""

    document: Document
    candidates: list[Candidate] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    #: what the reader did or ignored (a foreign file's blend modes, layers off the canvas...)
    notes: list[str] = field(default_factory=list)
    #: True when the file was written by us (our namespace present)
    ours: bool = False


class SnapshotChanged(InpaintError):
    """The document changed pixels a background write was reading: that write was abandoned."""


# -- snapshot ----------------------------------------------------------------------------------


def _json_safe(value: Any) -> Any:
    """Plain JSON types only (numpy scalars, tuples, boxes, paths become numbers, lists, strings)."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, BBox):
        return [value.x0, value.y0, value.x1, value.y1]
    return str(value)


def candidate_record(cand: Candidate) -> dict[str, Any]:
    r = cand.result
    return {
        "id": cand.id,
        "job_id": cand.job_id,
        "model_name": cand.model_name,
        "kept": cand.kept,
        "revealed": cand.revealed,
        "seed": r.seed,
        "nsfw_flagged": bool(r.nsfw_flagged),
        "box": [r.box.x0, r.box.y0, r.box.x1, r.box.y1],
        "request": r.request.to_dict(),
        "info": _json_safe(r.info),
    }


def snapshot(
    document: Document,
    candidates: Iterable[Candidate] = (),
    *,
    extra: Mapping[str, Any] | None = None,
    mask: np.ndarray | None = None,
    photo_guard: Callable[[], bool] | None = None,
    photo_key: Any = None,
) -> ProjectSnapshot:
    """What :func:`write_snapshot` needs, WITHOUT copying pixels: arrays are referenced.

    Result layers' pixels are never written in place (every change makes a new layer), so a
    reference to them stays right. The photo and the mask are written in place by edits and
    strokes: a caller that writes the snapshot on another thread passes ``mask`` (its own copy)
    and ``photo_guard`` (see :class:`LayerData`). :func:`save_project` writes at once and needs
    neither.
    """
    doc = document
    layers: list[LayerData] = [
        LayerData(
            name=doc.photo.name,
            kind="photo",
            x=0,
            y=0,
            rgb=doc.photo.rgb,
            alpha=doc.photo.alpha,
            cache_key=photo_key,
            still_valid=photo_guard,
            high_bits=doc.photo.high_bits,
        )
    ]
    for layer in doc.result_layers:
        layers.append(
            LayerData(
                name=layer.name,
                kind="result",
                x=layer.box.x0,
                y=layer.box.y0,
                rgb=layer.rgb,
                alpha=layer.alpha,
                visible=layer.visible,
                opacity=float(layer.opacity),
                info=_json_safe(layer.info),
                cache_key=("result", layer.id, id(layer.rgb), id(layer.alpha)),
            )
        )
    ml = doc.mask_layer
    layers.append(
        LayerData(
            name=ml.name or "Mask",
            kind="mask",
            x=0,
            y=0,
            rgb=None,
            alpha=doc.mask if mask is None else mask,
            visible=False,
        )
    )
    cands = [c for c in candidates if c.document is None or c.document is doc]
    return ProjectSnapshot(
        width=doc.width,
        height=doc.height,
        name=doc.photo.name,
        source=doc.source,
        text=dict(doc.text),
        layers=layers,
        mask_colour=tuple(int(v) for v in ml.colour),  # type: ignore[arg-type]
        mask_visible=bool(ml.visible),
        mask_opacity=float(ml.opacity),
        candidates=[candidate_record(c) for c in cands],
        candidate_patches=[c.result.patch for c in cands],
        extra=dict(extra or {}),
    )


# -- writing -----------------------------------------------------------------------------------


def encode_png(
    rgb: np.ndarray | None,
    alpha: np.ndarray | None,
    compress_level: int = DEFAULT_COMPRESS_LEVEL,
    *,
    high_bits: HighBits | None = None,
    on_rows: RowsCallback | None = None,
) -> bytes:
    """RGB, RGBA or L (``rgb`` None: grey from ``alpha``) as PNG bytes, encoded in bands
    (:mod:`inpaint_core.imaging.png_bands`: ``on_rows`` says how far it is); with
    ``high_bits`` a 16-bit RGB(A) PNG of ``high_bits.lift(rgb)``."""
    if rgb is None:
        assert alpha is not None
        return encode_grey(alpha, compress_level=compress_level, on_rows=on_rows)
    return encode_picture(
        rgb, alpha, high_bits=high_bits, compress_level=compress_level, on_rows=on_rows
    )


def _mask_png(
    mask: np.ndarray,
    colour: tuple[int, int, int],
    compress_level: int,
    on_rows: RowsCallback | None = None,
) -> bytes:
    """The mask as a palette PNG: index = mask value, every palette entry the overlay colour, and
    a tRNS chunk making index i i/255 opaque. Readers see RGBA (colour, alpha = mask); we encode
    one byte per pixel instead of four (an 8K mask: 48 MB of work, not 192 MB)."""
    return encode_grey(
        np.ascontiguousarray(mask, dtype=np.uint8),
        palette=bytes(colour) * 256,
        transparency=bytes(range(256)),
        compress_level=compress_level,
        on_rows=on_rows,
    )


def _flatten(snap: ProjectSnapshot) -> tuple[np.ndarray, np.ndarray | None]:
    """The picture as shown (visible photo + result layers; the mask overlay is not part of it)."""
    photo = snap.layers[0]
    assert photo.rgb is not None
    out = photo.rgb.copy()
    results = [
        ResultLayer(
            name=ld.name,
            rgb=ld.rgb,
            box=BBox(ld.x, ld.y, ld.x + ld.rgb.shape[1], ld.y + ld.rgb.shape[0]),
            alpha=ld.alpha,
            visible=ld.visible,
            opacity=ld.opacity,
        )
        for ld in snap.layers[1:]
        if ld.kind == "result" and ld.rgb is not None
    ]
    composite_into(out, BBox(0, 0, snap.width, snap.height), results)
    return out, photo.alpha


def merged_key(snap: ProjectSnapshot) -> Any:
    """A key for the flattened picture: the same whenever the photo and the visible result
    layers are (painting the mask does not change it). None when the photo has no key."""
    photo = snap.layers[0]
    if not photo.cache_key:
        return None
    results = tuple(
        (ld.cache_key, ld.visible, ld.opacity) for ld in snap.layers if ld.kind == "result"
    )
    return ("merged", photo.cache_key, results)


def _thumbnail(rgb: np.ndarray, alpha: np.ndarray | None) -> bytes:
    h, w = rgb.shape[:2]
    step = max(1, -(-max(h, w) // (THUMBNAIL_SIZE * 4)))  # cheap pre-shrink of 8K pictures
    small_rgb = rgb[::step, ::step]
    im = (
        Image.fromarray(np.ascontiguousarray(small_rgb), "RGB")
        if alpha is None
        else Image.fromarray(np.dstack([small_rgb, alpha[::step, ::step]]), "RGBA")
    )
    im.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _stack_xml(snap: ProjectSnapshot, srcs: list[str]) -> bytes:
    image = ET.Element(
        "image",
        {"version": "0.0.6", "w": str(snap.width), "h": str(snap.height), "name": snap.name},
    )
    stack = ET.SubElement(image, "stack")
    for ld, src in reversed(list(zip(snap.layers, srcs, strict=True))):  # topmost first
        ET.SubElement(
            stack,
            "layer",
            {
                "name": ld.name,
                "src": src,
                "x": str(ld.x),
                "y": str(ld.y),
                "opacity": f"{ld.opacity:.6g}" if ld.kind != "mask" else f"{snap.mask_opacity:.6g}",
                "visibility": "visible" if ld.visible else "hidden",
                "composite-op": "svg:src-over",
            },
        )
    return ET.tostring(image, encoding="utf-8", xml_declaration=True)


ProgressCallback = Callable[[float], None]
"""``on_progress(fraction)``: how much of a save is done, 0..1 (1.0: the file is in place)."""

ENCODE_SHARE = 0.9
"""Of a save's progress, encoding the layers counts this much (by bytes of pixels encoded), writing
the zip the rest (by bytes written); the last step, 1.0, is the file renamed into place."""

WRITE_PIECE = 4 * 1024**2
"""Zip entries are written in pieces of this size (progress moves while a big layer is written)."""


class _Progress:
    """A save's progress, fed from the encoder threads and the writer: reported only when it
    grew by at least 1 % (or reached 1.0), in order (the callback is called under a lock), and
    never backwards. ``rows()`` also stops an encode mid-layer when ``should_stop()`` says so."""

    def __init__(
        self, callback: ProgressCallback | None, should_stop: Callable[[], bool] | None
    ) -> None:
        self.callback, self.should_stop = callback, should_stop
        self.lock = threading.Lock()
        self.to_encode = self.encoded = self.to_write = self.written = 0
        self.last = 0.0

    def rows(self, total_bytes: int, height: int) -> RowsCallback:
        """``on_rows`` for the encode of ``height`` rows planned as ``total_bytes`` of work."""
        per_row = total_bytes / max(1, height)

        def on_rows(n: int) -> None:
            if self.should_stop is not None and self.should_stop():
                raise SnapshotChanged("the save was stopped")
            if self.callback is not None:
                with self.lock:
                    self.encoded += round(n * per_row)
                    self._report(ENCODE_SHARE * self.encoded / max(1, self.to_encode))

        return on_rows

    def wrote(self, n: int) -> None:
        if self.callback is not None:
            with self.lock:
                self.written += n
                share = (1.0 - ENCODE_SHARE) * self.written / max(1, self.to_write)
                self._report(ENCODE_SHARE + min(share, 0.99 - ENCODE_SHARE))

    def done(self) -> None:
        if self.callback is not None:
            with self.lock:
                self._report(1.0)

    def _report(self, fraction: float) -> None:
        fraction = min(1.0, fraction)
        if fraction >= self.last + 0.01 or (fraction == 1.0 and self.last < 1.0):
            self.last = fraction
            assert self.callback is not None
            self.callback(fraction)


def _raw_bytes(rgb: np.ndarray | None, alpha: np.ndarray | None, deep: bool) -> int:
    """The bytes of pixels an encode reads (the work it plans for)."""
    n = 0 if rgb is None else rgb.nbytes * (2 if deep else 1)
    return n + (0 if alpha is None else alpha.nbytes * (2 if deep and rgb is not None else 1))


def _write_entry(zf: zipfile.ZipFile, name: str, data: bytes, progress: _Progress) -> None:
    """One stored (not deflated: PNG is compressed already) entry, in pieces, with progress."""
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o600 << 16  # as ZipFile.writestr does
    info.file_size = len(data)
    view = memoryview(data)
    with zf.open(info, "w") as entry:
        for i in range(0, len(data), WRITE_PIECE):
            piece = view[i : i + WRITE_PIECE]
            entry.write(piece)
            progress.wrote(len(piece))


def write_snapshot(
    snap: ProjectSnapshot,
    path: str | PathLike[str],
    *,
    compress_level: int = DEFAULT_COMPRESS_LEVEL,
    png_cache: dict[Any, bytes] | None = None,
    workers: int = 1,
    should_stop: Callable[[], bool] | None = None,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Write ``snap`` as an OpenRaster file at ``path`` (atomically; see the module docstring).

    ``png_cache`` maps a layer's ``cache_key`` to its encoded PNG: unchanged layers are not encoded
    again (autosave of an 8K photo: the photo is encoded once, not every minute). ``workers`` > 1
    encodes layers in parallel (the band encoder runs without the GIL). Raises
    :class:`SnapshotChanged` when a layer's ``still_valid`` says its pixels moved under the encoder
    (the previous file is then left as it was), or when ``should_stop()`` turns True (checked
    between bands of rows: an app closing does not wait for a whole 8K autosave).
    ``on_progress(fraction)`` is called from the encoding threads as the save goes (see
    :class:`_Progress`), last with 1.0 once the file is in place.
    """
    progress = _Progress(on_progress, should_stop)
    srcs: list[str] = []
    for i, ld in enumerate(snap.layers):
        if ld.kind == "photo":
            srcs.append("data/photo.png")
        elif ld.kind == "mask":
            srcs.append("data/mask.png")
        else:
            srcs.append(f"data/layer-{i:04d}.png")
    covered = any(ld.kind == "result" and ld.visible and ld.opacity > 0 for ld in snap.layers[1:])
    deep = snap.layers[0].high_bits
    mkey = merged_key(snap)

    def cached(key: Any) -> bytes | None:
        return png_cache.get(key) if png_cache is not None and key else None

    # the work ahead, for the progress: every layer, flattened picture and patch to encode
    for ld in snap.layers:
        if cached(ld.cache_key) is None:
            progress.to_encode += _raw_bytes(ld.rgb, ld.alpha, ld.high_bits is not None)
    merged_cached = png_cache is not None and mkey and ("thumb", mkey) in png_cache
    if covered and not merged_cached:
        photo = snap.layers[0]
        progress.to_encode += _raw_bytes(photo.rgb, photo.alpha, deep is not None)
    progress.to_encode += sum(p.nbytes for p in snap.candidate_patches)

    def layer_png(ld: LayerData) -> bytes:
        if should_stop is not None and should_stop():
            raise SnapshotChanged("the save was stopped")
        hit = cached(ld.cache_key)
        if hit is not None:
            return hit
        pixels = ld.alpha if ld.rgb is None else ld.rgb
        assert pixels is not None
        rows = progress.rows(_raw_bytes(ld.rgb, ld.alpha, ld.high_bits is not None), len(pixels))
        if ld.kind == "mask":
            assert ld.alpha is not None
            data = _mask_png(ld.alpha, snap.mask_colour, compress_level, rows)
        else:
            data = encode_png(
                ld.rgb, ld.alpha, compress_level, high_bits=ld.high_bits, on_rows=rows
            )
        if ld.still_valid is not None and not ld.still_valid():
            raise SnapshotChanged(f"the {ld.kind} changed while it was being saved")
        if png_cache is not None and ld.cache_key:
            png_cache[ld.cache_key] = data
        return data

    def merged_png() -> tuple[bytes | None, bytes]:
        """(the flattened picture's PNG, or None when it is the photo's own; the thumbnail)."""
        if merged_cached:
            assert png_cache is not None
            return png_cache.get(mkey), png_cache[("thumb", mkey)]
        if covered:
            rgb, alpha = _flatten(snap)
        else:  # nothing over the photo: the flattened picture is the photo, PNG and all
            rgb, alpha = snap.layers[0].rgb, snap.layers[0].alpha
            assert rgb is not None
        thumb = _thumbnail(rgb, alpha)
        merged = None
        if covered:
            rows = progress.rows(_raw_bytes(rgb, alpha, deep is not None), len(rgb))
            merged = encode_png(rgb, alpha, compress_level, high_bits=deep, on_rows=rows)
        if any(ld.still_valid is not None and not ld.still_valid() for ld in snap.layers):
            raise SnapshotChanged("the photo changed while it was being saved")
        if png_cache is not None and mkey:
            if merged is not None:
                png_cache[mkey] = merged
            png_cache[("thumb", mkey)] = thumb
        return merged, thumb

    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ora-encode") as pool:
            merged_future = pool.submit(merged_png)
            blobs = list(pool.map(layer_png, snap.layers))
            merged, thumb = merged_future.result()
    else:
        blobs = [layer_png(ld) for ld in snap.layers]
        merged, thumb = merged_png()
    if merged is None:
        merged = blobs[0]

    doc_json = {
        "format": FORMAT_VERSION,
        "app": f"inpaint-studio {APP_VERSION}",
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "name": snap.name,
        "source": snap.source,
        "text": snap.text,
        "mask": {
            "src": "data/mask.png",
            "visible": snap.mask_visible,
            "opacity": snap.mask_opacity,
            "colour": list(snap.mask_colour),
        },
        "layers": {
            src: {"kind": ld.kind, "info": ld.info}
            for ld, src in zip(snap.layers, srcs, strict=True)
        },
        "extra": _json_safe(snap.extra),
    }
    cands = []
    patches: list[tuple[str, bytes]] = []
    for i, (rec, patch) in enumerate(zip(snap.candidates, snap.candidate_patches, strict=True)):
        name = f"{NAMESPACE}/candidates/{i:04d}.png"
        cands.append({**rec, "patch": name})
        rows = progress.rows(patch.nbytes, len(patch))
        patches.append((name, encode_png(patch, None, compress_level, on_rows=rows)))

    stored = [
        *zip(srcs, blobs, strict=True),
        ("Thumbnails/thumbnail.png", thumb),
        ("mergedimage.png", merged),
    ]
    stored += patches
    progress.to_write = sum(len(data) for _name, data in stored)
    with atomic_open(path, "wb") as f, zipfile.ZipFile(f, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        zf.writestr("stack.xml", _stack_xml(snap, srcs), compress_type=zipfile.ZIP_DEFLATED)
        for name, data in stored[: len(srcs) + 2]:  # the layers, thumbnail, mergedimage.png
            _write_entry(zf, name, data, progress)
        zf.writestr(
            DOCUMENT_JSON, json.dumps(doc_json, indent=1), compress_type=zipfile.ZIP_DEFLATED
        )
        zf.writestr(
            CANDIDATES_JSON,
            json.dumps({"candidates": cands}, indent=1),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        for name, data in patches:
            _write_entry(zf, name, data, progress)
    progress.done()
    return Path(path)


def save_project(
    document: Document,
    path: str | PathLike[str],
    candidates: Iterable[Candidate] = (),
    *,
    extra: Mapping[str, Any] | None = None,
    compress_level: int = DEFAULT_COMPRESS_LEVEL,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Save ``document`` (+ its ``candidates``, kept or not) as an OpenRaster project at ``path``.

    Written atomically: when it fails (disk full, read-only folder...) a
    :class:`~inpaint_core.files.FileWriteError` says why and the previous file is untouched.
    ``extra`` is any JSON-able dict kept in our namespace (read back as :attr:`Project.extra`).
    ``on_progress(fraction)``: how far the save is (see :func:`write_snapshot`).
    """
    return write_snapshot(
        snapshot(document, candidates, extra=extra),
        path,
        compress_level=compress_level,
        workers=workers if workers is not None else default_workers(),
        on_progress=on_progress,
    )


def default_workers() -> int:
    """Encoder threads for a save the user waits for: the cores, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


# -- reading -----------------------------------------------------------------------------------


class _Zip:
    """A zip with every entry's size capped before it is read."""

    def __init__(self, path: str | PathLike[str] | bytes, label: str) -> None:
        self.label = label
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(path) if isinstance(path, bytes) else path)
        except FileNotFoundError:
            raise ProjectError(f"{label}: no such file") from None
        except IsADirectoryError:
            raise ProjectError(f"{label}: is a folder, not a project file") from None
        except PermissionError:
            raise ProjectError(f"{label}: permission denied") from None
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ProjectError(f"{label}: not an OpenRaster (.ora) file ({exc})") from None
        infos = self.zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ProjectError(f"{label}: {len(infos)} entries, over the limit of {MAX_ENTRIES}")
        total = 0
        self.sizes: dict[str, int] = {}
        for info in infos:
            if info.file_size > MAX_ENTRY_BYTES:
                raise ProjectError(
                    f"{label}: entry {info.filename!r} unpacks to {info.file_size} bytes, over "
                    f"the limit of {MAX_ENTRY_BYTES} (a zip bomb?)"
                )
            total += info.file_size
            self.sizes[info.filename] = info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ProjectError(
                f"{label}: unpacks to {total} bytes, over the limit of {MAX_TOTAL_BYTES} (a zip bomb?)"
            )
        self.infos = infos

    def has(self, name: str) -> bool:
        return name in self.sizes

    def read(self, name: str, limit: int = MAX_ENTRY_BYTES) -> bytes:
        """The entry's bytes, never more than ``limit`` (a lying size header is caught here)."""
        if name not in self.sizes:
            raise ProjectError(f"{self.label}: {name!r} is missing")
        try:
            with self.zf.open(name) as f:
                data = f.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise ProjectError(f"{self.label}: {name!r} is damaged ({exc})") from None
        if len(data) > limit:
            raise ProjectError(
                f"{self.label}: {name!r} unpacks to more than {limit} bytes (a zip bomb?)"
            )
        return data

    def close(self) -> None:
        self.zf.close()


def _safe_src(src: str | None, label: str) -> str:
    """A layer ``src`` must name a file under ``data/``: no absolute path, no ``..``, no backslash."""
    if not src:
        raise ProjectError(f"{label}: a layer has no src")
    parts = src.removeprefix("/").split("/")  # pyora writes "/data/...": the zip's root
    if (
        "\\" in src
        or ":" in src
        or len(parts) < 2
        or parts[0] != "data"
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise ProjectError(f"{label}: layer src {src!r} is not a file under data/ (refused)")
    return src  # the zip entry's own name (read from the zip, never from the disk)


def _float(value: str | None, default: float, label: str, what: str) -> float:
    if value is None or value == "":
        return default
    try:
        v = float(value)
    except ValueError:
        raise ProjectError(f"{label}: {what} {value!r} is not a number") from None
    if not np.isfinite(v):
        raise ProjectError(f"{label}: {what} {value!r} is not a number")
    return v


def _int(value: str | None, label: str, what: str) -> int:
    return int(round(_float(value, 0.0, label, what)))


@dataclass
class _StackLayer:
    name: str
    src: str
    x: int
    y: int
    opacity: float
    visible: bool
    composite_op: str


def _read_stack(root: ET.Element, label: str) -> list[_StackLayer]:
    """Layers bottom to top; groups flattened (their visibility and opacity carried down)."""
    out: list[_StackLayer] = []

    def walk(stack: ET.Element, dx: int, dy: int, opacity: float, visible: bool) -> None:
        for child in reversed(list(stack)):  # the file lists the topmost first
            vis = visible and child.get("visibility", "visible") != "hidden"
            op = opacity * min(max(_float(child.get("opacity"), 1.0, label, "opacity"), 0.0), 1.0)
            x = dx + _int(child.get("x"), label, "x")
            y = dy + _int(child.get("y"), label, "y")
            if child.tag == "stack":
                walk(child, x, y, op, vis)
            elif child.tag == "layer":
                out.append(
                    _StackLayer(
                        name=child.get("name", "") or f"Layer {len(out) + 1}",
                        src=_safe_src(child.get("src"), label),
                        x=x,
                        y=y,
                        opacity=op,
                        visible=vis,
                        composite_op=child.get("composite-op", "svg:src-over"),
                    )
                )
            if len(out) > MAX_LAYERS:
                raise ProjectError(f"{label}: more than {MAX_LAYERS} layers")

    top = root.find("stack")
    if top is None:
        raise ProjectError(f"{label}: stack.xml has no <stack>")
    walk(top, 0, 0, 1.0, True)
    return out


def _place(
    rgb: np.ndarray, alpha: np.ndarray | None, x: int, y: int, w: int, h: int
) -> tuple[BBox, np.ndarray, np.ndarray | None] | None:
    """Crop a layer at (x, y) to the w x h canvas; None when nothing of it is on the canvas."""
    lh, lw = rgb.shape[:2]
    box = BBox(max(0, x), max(0, y), min(w, x + lw), min(h, y + lh))
    if box.width <= 0 or box.height <= 0:
        return None
    ys = slice(box.y0 - y, box.y1 - y)
    xs = slice(box.x0 - x, box.x1 - x)
    return box, rgb[ys, xs], None if alpha is None else alpha[ys, xs]


def _load_json(z: _Zip, name: str) -> Any:
    try:
        return json.loads(z.read(name, MAX_XML_BYTES))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{z.label}: {name} is damaged ({exc})") from None


def _read_candidates(z: _Zip, doc: Document, notes: list[str]) -> tuple[list[Candidate], dict]:
    if not z.has(CANDIDATES_JSON):
        return [], {}
    data = _load_json(z, CANDIDATES_JSON)
    out: list[Candidate] = []
    ids: dict[Any, int] = {}
    for rec in data.get("candidates", []) if isinstance(data, dict) else []:
        try:
            patch_name = str(rec["patch"])
            if not patch_name.startswith(f"{NAMESPACE}/candidates/") or ".." in patch_name:
                raise ValueError(f"patch {patch_name!r} is outside {NAMESPACE}/candidates/")
            x0, y0, x1, y1 = (int(v) for v in rec["box"])
            rgb = decode(z.read(patch_name), patch_name, max_pixels_from_env()).rgb
            box = BBox(x0, y0, x1, y1)
            if rgb.shape[:2] != (box.height, box.width):
                raise ValueError("its patch does not match its box")
            result = InpaintResult(
                box=box,
                patch=rgb,
                seed=rec.get("seed"),
                request=InpaintRequest.from_dict(rec["request"]),
                nsfw_flagged=bool(rec.get("nsfw_flagged", False)),
                info=dict(rec.get("info") or {}),
            )
        except (KeyError, TypeError, ValueError, InpaintError) as exc:
            notes.append(f"skipped a candidate ({exc})")
            continue
        cand = Candidate(
            result=result,
            job_id=str(rec.get("job_id", "")),
            model_name=rec.get("model_name"),
            revealed=bool(rec.get("revealed", False)),
            kept=bool(rec.get("kept", False)),
            document=doc,
        )
        ids[rec.get("id")] = cand.id
        out.append(cand)
    return out, ids


def load_project(path: str | PathLike[str] | bytes, *, max_pixels: int | None = None) -> Project:
    """Open an OpenRaster file (ours or another program's) as a :class:`Project`.

    ``max_pixels`` caps the canvas and every layer (default ``$INPAINT_MAX_PIXELS`` or 150 MP).
    Raises :class:`ProjectError` (an :class:`~inpaint_core.errors.ImageLoadError`) with the reason.
    """
    label = "<bytes>" if isinstance(path, bytes) else str(path)
    limit = max_pixels if max_pixels is not None else max_pixels_from_env()
    z = _Zip(path, label)
    try:
        return _load(z, label, limit)
    finally:
        z.close()


def _load(z: _Zip, label: str, limit: int) -> Project:
    notes: list[str] = []
    first = z.infos[0].filename if z.infos else ""
    if first != "mimetype" or z.read("mimetype", 256).strip() != MIMETYPE:
        raise ProjectError(f"{label}: not an OpenRaster (.ora) file (no image/openraster mimetype)")
    try:
        root = SafeET.fromstring(z.read("stack.xml", MAX_XML_BYTES))
    except (ET.ParseError, DefusedXmlException) as exc:
        raise ProjectError(f"{label}: stack.xml is damaged or unsafe ({exc})") from None
    if root.tag != "image":
        raise ProjectError(f"{label}: stack.xml does not describe an image")
    w, h = _int(root.get("w"), label, "width"), _int(root.get("h"), label, "height")
    if w <= 0 or h <= 0:
        raise ProjectError(f"{label}: the canvas is {w}x{h}")
    if w * h > limit:
        raise ImageTooLargeError(
            f"{label}: the canvas is {w}x{h} ({w * h / 1e6:.1f} megapixels), over the limit of "
            f"{limit / 1e6:.1f} megapixels"
        )
    stack = _read_stack(root, label)
    meta = _load_json(z, DOCUMENT_JSON) if z.has(DOCUMENT_JSON) else None
    ours = isinstance(meta, dict) and meta.get("format") == FORMAT_VERSION
    if meta is not None and not ours:
        notes.append(f"ignored {DOCUMENT_JSON} of an unknown format")
        meta = None
    meta = meta or {}
    kinds: dict[str, dict] = meta.get("layers", {}) if ours else {}
    mask_meta: dict = meta.get("mask", {}) if ours else {}

    def pixels(sl: _StackLayer) -> tuple[np.ndarray, np.ndarray | None]:
        d = decoded(sl)
        return d.rgb, d.alpha

    def decoded(sl: _StackLayer) -> Decoded:
        try:
            return decode(z.read(sl.src), f"{label}:{sl.src}", limit)
        except ImageTooLargeError:
            raise
        except ImageLoadError as exc:
            raise ProjectError(str(exc)) from None

    # which layer is the mask, which the photo
    if ours:
        mask_i = next((i for i, s in enumerate(stack) if s.src == mask_meta.get("src")), None)
        photo_i = next(
            (i for i, s in enumerate(stack) if kinds.get(s.src, {}).get("kind") == "photo"), None
        )
    else:
        mask_i = next((i for i, s in enumerate(stack) if s.name.strip().lower() == "mask"), None)
        photo_i = None
    if photo_i is None:
        photo_i = next((i for i in range(len(stack)) if i != mask_i), None)
    if photo_i is None:
        raise ProjectError(f"{label}: the project has no picture layer")

    ps = stack[photo_i]
    photo_d = decoded(ps)
    rgb, alpha = photo_d.rgb, photo_d.alpha
    deep = HighBits.of(photo_d.rgb16)
    del photo_d
    if (ps.x, ps.y) == (0, 0) and rgb.shape[:2] == (h, w):
        photo_rgb, photo_alpha = rgb, alpha
    else:  # a foreign photo layer off the canvas origin or of another size: place it
        photo_rgb = np.zeros((h, w, 3), np.uint8)
        photo_alpha = np.zeros((h, w), np.uint8)
        placed = _place(rgb, alpha, ps.x, ps.y, w, h)
        if placed is not None:
            box, prgb, palpha = placed
            photo_rgb[box.slices] = prgb
            photo_alpha[box.slices] = 255 if palpha is None else palpha
        notes.append(f"placed the picture layer {ps.name!r} on the {w}x{h} canvas")
        if int(photo_alpha.min()) == 255:
            photo_alpha = None
        if deep is not None:  # the samples where the layer is; the rest of the canvas is 8-bit
            deep = deep.moved(ps.x, ps.y)
    if not ps.visible or ps.opacity < 1.0 or ps.composite_op != "svg:src-over":
        notes.append(f"the picture layer {ps.name!r} is always shown opaque here")

    doc = Document(
        photo_rgb,
        photo_alpha,
        name=str(meta.get("name") or ps.name) if ours else ps.name,
        source=str(meta.get("source", label)) if ours else label,
        text={str(k): str(v) for k, v in (meta.get("text") or {}).items()} if ours else {},
    )
    doc.photo.high_bits = deep
    doc.photo.name = ps.name

    if mask_i is not None:
        ms = stack[mask_i]
        mrgb, malpha = pixels(ms)
        if ours:
            m = malpha if malpha is not None else np.full(mrgb.shape[:2], 255, np.uint8)
        elif malpha is not None:
            m = malpha
        else:
            m = mrgb.max(axis=2)
        placed = _place(mrgb, m, ms.x, ms.y, w, h)
        if placed is not None:
            box, _r, mm = placed
            assert mm is not None
            doc.mask[box.slices] = mm
        ml = doc.mask_layer
        ml.name = ms.name
        if ours:
            ml.visible = bool(mask_meta.get("visible", True))
            ml.opacity = min(max(float(mask_meta.get("opacity", ms.opacity)), 0.0), 1.0)
            colour = mask_meta.get("colour")
            if isinstance(colour, list) and len(colour) == 3:
                ml.colour = tuple(min(max(int(c), 0), 255) for c in colour)  # type: ignore[assignment]

    for i, sl in enumerate(stack):
        if i in (photo_i, mask_i):
            continue
        lrgb, lalpha = pixels(sl)
        placed = _place(lrgb, lalpha, sl.x, sl.y, w, h)
        if placed is None:
            notes.append(f"dropped layer {sl.name!r}: nothing of it is on the canvas")
            continue
        box, lrgb, lalpha = placed
        if sl.composite_op != "svg:src-over":
            notes.append(f"layer {sl.name!r}: blend mode {sl.composite_op} shown as normal")
        info = kinds.get(sl.src, {}).get("info") if ours else None
        layer = ResultLayer(
            name=sl.name,
            rgb=np.ascontiguousarray(lrgb),
            box=box,
            alpha=None if lalpha is None else np.ascontiguousarray(lalpha),
            visible=sl.visible,
            opacity=min(max(sl.opacity, 0.0), 1.0),
            info=dict(info) if isinstance(info, dict) else {},
        )
        InsertLayer(len(doc.layers) - 1, layer, "Open").apply(doc, undo=False)

    candidates, id_map = _read_candidates(z, doc, notes) if ours else ([], {})
    for layer in doc.result_layers:  # candidate ids are per process: point kept layers at the new
        old = layer.info.get("candidate_id")
        if old in id_map:
            layer.info["candidate_id"] = id_map[old]
    extra = meta.get("extra") if ours and isinstance(meta.get("extra"), dict) else {}
    return Project(document=doc, candidates=candidates, extra=extra, notes=notes, ours=ours)


def open_project(path: str | PathLike[str] | bytes, **kwargs: Any) -> Document:
    """The document of an OpenRaster file (see :func:`load_project` for the candidates too)."""
    return load_project(path, **kwargs).document


def read_info(path: str | PathLike[str]) -> dict[str, Any]:
    """What our namespace says about a project (name, saved_at, extra...) without decoding any
    layer; {} for a file that is not ours. Raises :class:`ProjectError` for an unreadable file."""
    z = _Zip(path, str(path))
    try:
        if not z.has(DOCUMENT_JSON):
            return {}
        meta = _load_json(z, DOCUMENT_JSON)
        return meta if isinstance(meta, dict) else {}
    finally:
        z.close()


def is_project_path(path: str | PathLike[str]) -> bool:
    return Path(path).suffix.lower() == ".ora"


def read_thumbnail(path: str | PathLike[str]) -> bytes | None:
    """The PNG bytes of a project's thumbnail (for a recovery list), or None."""
    try:
        z = _Zip(path, str(path))
    except ProjectError:
        return None
    try:
        return z.read("Thumbnails/thumbnail.png", 16 * 1024**2)
    except ProjectError:
        return None
    finally:
        z.close()


def project_picture(
    path: str | PathLike[str], *, max_pixels: int | None = None
) -> tuple[LoadedImage, np.ndarray | None]:
    """An .ora as the input of a run: its flattened picture (the visible layers, without the mask
    overlay; the photo's transparency kept) and its mask (None when no mask is painted)."""
    doc = open_project(path, max_pixels=max_pixels)
    rgb = doc.flatten()
    deep = doc.photo.high_bits
    picture = LoadedImage(
        rgb=rgb,
        alpha=doc.photo.alpha,
        source=str(path),
        format="ORA",
        text=dict(doc.text),
        rgb16=None if deep is None else deep.lift(rgb),
    )
    return picture, (doc.mask if doc.mask.any() else None)
