"""The one save path for the window and the CLI: a document goes to a project or a picture.

``save_document(document, path)`` decides by the suffix:

- ``.ora``: the layered project (:func:`inpaint_core.project.save_project`): photo, mask, every
  layer, the candidates — what File ▸ Save / Save As write;
- ``.png`` / ``.jpg`` / ``.jpeg`` / ``.webp``: the flattened picture (what Export writes) through
  :func:`inpaint_core.document.export_picture`, with the photo's alpha and the generation
  parameters of the kept layers (:func:`picture_parameters`).

Both are atomic: on failure a :class:`~inpaint_core.files.FileWriteError` names the path and the
reason (disk full, permission denied...) and the previous file is untouched. A caller marks its
document clean only when this returned.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .candidates import Candidate, CandidateHistory
from .document import Document, export_picture, picture_format
from .errors import RequestValidationError
from .imaging import LoadedImage
from .imaging.highbits import HighBits
from .inpaint import InpaintResult
from .project import (
    ProgressCallback,
    Project,
    default_workers,
    is_project_path,
    load_project,
    save_project,
    snapshot,
    write_snapshot,
)
from .request import InpaintRequest

#: PNG text chunk listing every kept layer's request, bottom to top (``parameters`` holds the top one)
LAYERS_CHUNK = "inpaint_studio_layers"

SAVE_SUFFIXES = (".ora", ".png", ".jpg", ".jpeg", ".webp")


@dataclass
class PictureParameters:
    """What a flattened picture says about how it was made."""

    request: InpaintRequest | None = None
    seed: int | None = None
    model_name: str | None = None
    text: dict[str, str] = field(default_factory=dict)
    seam_score: float | None = None


def picture_parameters(document: Document) -> PictureParameters:
    """The generation parameters of the visible kept layers (their ``info["request"]``): the top
    one as ``parameters`` (+ our JSON), all of them in :data:`LAYERS_CHUNK`. None kept: the
    photo's own text chunks pass through (e.g. parameters it was opened with)."""
    kept: list[dict[str, Any]] = [
        layer.info
        for layer in document.result_layers
        if layer.visible and isinstance(layer.info.get("request"), (dict, InpaintRequest))
    ]
    if not kept:
        return PictureParameters(text=dict(document.text))
    top = kept[-1]
    request: InpaintRequest | None
    if isinstance(top["request"], InpaintRequest):
        request = top["request"]
    else:
        try:
            request = InpaintRequest.from_dict(top["request"])
        except (RequestValidationError, TypeError, ValueError):
            request = None

    def as_dict(r: InpaintRequest | dict[str, Any]) -> dict[str, Any]:
        return r.to_dict() if isinstance(r, InpaintRequest) else r

    layers = [
        {"request": as_dict(k["request"]), "seed": k.get("seed"), "model": k.get("model")}
        for k in kept
    ]
    return PictureParameters(
        request=request,
        seed=top.get("seed"),
        model_name=top.get("model"),
        text={LAYERS_CHUNK: json.dumps(layers)},
        seam_score=top.get("seam_score"),
    )


def prepare_save(
    document: Document,
    path: str | PathLike[str],
    candidates: Iterable[Candidate] = (),
    *,
    quality: int = 92,
    on_progress: ProgressCallback | None = None,
) -> Callable[[], Path]:
    """Take what a save needs from ``document`` now (on the thread that edits it: cheap, the mask
    is copied, nothing is encoded) and return the function that writes it, to run on any thread,
    so a large save never freezes a window. The photo is read while it is written: if an edit
    changes the photo meanwhile (a merge into the photo), the write raises
    :class:`~inpaint_core.project.SnapshotChanged` and leaves the old file (save again).
    For a picture (.png/.jpg/.webp) the flattened picture is copied now (~30 ms at 8K).
    ``on_progress(fraction)`` is called from the writing threads as a project is written (see
    :func:`~inpaint_core.project.write_snapshot`); a picture reports 1.0 when it is written."""
    target = Path(path)
    if is_project_path(target):
        rev = document.photo_revision
        snap = snapshot(
            document,
            candidates,
            mask=document.mask.copy(),
            photo_guard=lambda: document.photo_revision == rev and rev % 2 == 0,
        )
        return lambda: write_snapshot(
            snap, target, workers=default_workers(), on_progress=on_progress
        )
    picture_format(target)  # a clear error for an unknown suffix, before any work
    params = picture_parameters(document)
    rgb, alpha = document.flatten(), document.photo.alpha
    high_bits = document.photo.high_bits  # never written in place: safe on another thread

    def write_picture() -> Path:
        out = export_picture(
            target,
            rgb,
            alpha=alpha,
            quality=quality,
            text=params.text,
            request=params.request,
            seed=params.seed,
            model_name=params.model_name,
            seam_score=params.seam_score,
            high_bits=high_bits,
        )
        if on_progress is not None:
            on_progress(1.0)
        return out

    return write_picture


def save_document(
    document: Document,
    path: str | PathLike[str],
    candidates: Iterable[Candidate] = (),
    *,
    quality: int = 92,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Save ``document`` at ``path`` now: a project (.ora, with ``candidates``) or the flattened
    picture (.png/.jpg/.jpeg/.webp, with parameters). Raises
    :class:`~inpaint_core.errors.UnsupportedFormatError` for another suffix and
    :class:`~inpaint_core.files.FileWriteError` when the file cannot be written (the old one stays).
    ``on_progress(fraction)``: see :func:`prepare_save`.
    """
    if is_project_path(path):
        return save_project(document, path, candidates, on_progress=on_progress)
    return prepare_save(document, path, candidates, quality=quality, on_progress=on_progress)()


def open_document(source: str | PathLike[str], **load_kwargs: Any) -> Project:
    """File ▸ Open for anything: an .ora project (its layers, mask and candidates) or a picture
    (a new document: :meth:`Document.open`, ``load_kwargs`` passed on). A picture's project has no
    candidates; its ``ours`` is False. Errors are :class:`~inpaint_core.errors.ImageLoadError`
    (a :class:`~inpaint_core.project.ProjectError` for a bad project) naming the file."""
    if not isinstance(source, bytes) and is_project_path(str(source)) and "://" not in str(source):
        return load_project(source, max_pixels=load_kwargs.get("max_pixels"))
    return Project(document=Document.open(source, **load_kwargs))


def result_layer_name(result: InpaintResult) -> str:
    """``seed 5 · DDIM`` (diffusion) or the engine's name: what a candidate is called as a layer."""
    req = result.request
    what = req.scheduler if req.engine == "diffusion" else req.engine
    return f"seed {result.seed} · {what}" if result.seed is not None else what


def save_results_project(
    path: str | PathLike[str],
    photo: LoadedImage,
    mask: np.ndarray,
    results: Sequence[InpaintResult],
    model_name: str | None = None,
) -> Path:
    """A run's outputs as one layered project: the photo, the mask, and every output as its own
    layer named with its seed and scheduler (hidden but the first, so the file opens showing one
    picture), each carrying its parameters; the outputs are the project's candidates too."""
    doc = Document.from_image(photo)
    doc.mask[...] = mask
    history = CandidateHistory()
    cands = history.add_results(results, "cli", model_name, doc)
    for i, (result, cand) in enumerate(zip(results, cands, strict=True)):
        info = {
            "request": result.request.to_dict(),
            "seed": result.seed,
            "model": model_name,
            "candidate_id": cand.id,
        }
        doc.add_result_layer(result.patch, result.box, result_layer_name(result), info=info)
        if i > 0:
            doc.set_layer_visible(len(doc.layers) - 2, False)
        history.set_kept(cand)
    return save_project(doc, path, history)


def save_result_picture(
    path: str | PathLike[str],
    result: InpaintResult,
    photo_rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    model_name: str | None = None,
    *,
    text: dict[str, str] | None = None,
    pasted: bool = True,
    high_bits: HighBits | None = None,
) -> Path:
    """One output as a picture with its parameters (and seam score): what the CLI, the predictions
    service, batch runs and Compare cells write, so the same result gives the same file everywhere.
    ``pasted=False`` writes the working-grid image instead of the photo with the fill pasted in.
    ``high_bits``: the 16-bit samples of ``photo_rgb`` (a 16-bit photo): a pasted PNG is then
    16-bit, the pixels outside the fill exactly the photo's."""
    image = result.composite(photo_rgb) if pasted else result.grid_image
    return export_picture(
        path,
        image,
        alpha=alpha if pasted else None,
        request=result.request,
        seed=result.seed,
        model_name=model_name,
        seam_score=result.info.get("seam_score"),
        text=text,
        high_bits=high_bits if pasted else None,
    )
