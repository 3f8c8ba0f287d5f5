"""Smart masks: click an object to mask it (Segment Anything through ``transformers``' ``SamModel``).

``SmartMasker(model="facebook/sam-vit-base")`` loads a SAM model from a folder or the Hugging Face
cache (never the network: ``local_files_only``); ``SmartMasker(model=..., processor=...)`` takes
built ones. :meth:`SmartMasker.mask` turns points (``1`` = this is the object, ``0`` = this is not)
into a photo-sized uint8 mask (0/255), through the real ``SamProcessor`` path (resize + pad, point
rescaling, mask post-processing back to the photo's size).

The image embedding (the expensive part: the ViT over the whole photo) is cached per photo, so
adding or removing points costs only the small prompt decoder. The caller grows/feathers the mask
as usual (:mod:`inpaint_core.masks`); undo belongs to the document.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InpaintError, ModelError


@dataclass(frozen=True)
class Click:
    """A point in photo pixels; ``positive`` = part of the object (A1111/IOPaint: left click)."""

    x: float
    y: float
    positive: bool = True


def _digest(image: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(str((image.shape, image.dtype.str)).encode())
    h.update(np.ascontiguousarray(image).data)
    return h.hexdigest()


class SmartMasker:
    """Segment Anything on a photo: points in, mask out (see the module docstring)."""

    def __init__(
        self,
        model: str | Path | Any = None,
        *,
        processor: Any = None,
        device: str | None = None,
    ) -> None:
        if model is None:
            raise ModelError("smart masks need a Segment Anything model: give model=PATH|REPO_ID")
        self._source = model if isinstance(model, (str, Path)) else None
        self._model = None if self._source is not None else model
        self._processor = processor
        self.device = device
        self._lock = threading.Lock()
        self._embedded: tuple[str, Any, Any] | None = None  # (photo digest, embeddings, inputs)

    def load(self) -> None:
        """Load the model and processor now (no-op when loaded)."""
        if self._model is not None and self._processor is not None:
            return
        try:
            from transformers import SamModel, SamProcessor
        except ImportError as exc:  # pragma: no cover - transformers is a dependency
            raise ModelError(f"smart masks need transformers' SamModel ({exc})") from None
        source = str(self._source) if self._source is not None else None
        if (
            source is not None
            and _looks_like_a_path(source)
            and not Path(source).expanduser().is_dir()
        ):
            raise ModelError(
                f"{source}: no such folder (a Segment Anything model is a folder with "
                "config.json, or a repo id already in the Hugging Face cache)"
            )
        try:
            if self._model is None:
                self._model = SamModel.from_pretrained(source, local_files_only=True)
            if self._processor is None:
                self._processor = SamProcessor.from_pretrained(source, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"{source}: not a Segment Anything model on this machine ({exc})"
            ) from None
        self._model.eval()
        if self.device:
            self._model.to(self.device)

    def _embeddings(self, image: np.ndarray) -> tuple[Any, Any]:
        import torch

        key = _digest(image)
        if self._embedded is not None and self._embedded[0] == key:
            return self._embedded[1], self._embedded[2]
        inputs = self._processor(images=image, return_tensors="pt")
        pixels = inputs["pixel_values"].to(self._model.device, self._model.dtype)
        with torch.inference_mode():
            embeddings = self._model.get_image_embeddings(pixels)
        self._embedded = (key, embeddings, inputs)
        return embeddings, inputs

    def mask(self, image: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
        """The object under ``clicks`` in ``image`` (HxWx3 uint8) as an HxW uint8 mask (0/255).

        Of SAM's three candidate masks the one it scores best (predicted IoU) is returned.
        """
        import torch

        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InpaintError("smart masks need an RGB uint8 photo (H, W, 3)")
        if not clicks:
            raise InpaintError("click on the object to mask (at least one point)")
        if not any(c.positive for c in clicks):
            raise InpaintError(
                "at least one click must be on the object (not only 'remove' clicks)"
            )
        h, w = image.shape[:2]
        for c in clicks:
            if not (0 <= c.x < w and 0 <= c.y < h):
                raise InpaintError(f"the click ({c.x:.0f}, {c.y:.0f}) is outside the {w}x{h} photo")
        with self._lock:  # one torch call at a time; the embedding cache is shared
            self.load()
            embeddings, image_inputs = self._embeddings(image)
            prompt = self._processor(
                images=image,
                input_points=[[[[float(c.x), float(c.y)] for c in clicks]]],
                input_labels=[[[1 if c.positive else 0 for c in clicks]]],
                return_tensors="pt",
            )
            with torch.inference_mode():
                out = self._model(
                    image_embeddings=embeddings,
                    input_points=prompt["input_points"].to(self._model.device),
                    input_labels=prompt["input_labels"].to(self._model.device),
                    multimask_output=True,
                )
            masks = self._processor.image_processor.post_process_masks(
                out.pred_masks.cpu(),
                image_inputs["original_sizes"],
                image_inputs["reshaped_input_sizes"],
            )[0]  # (points batch, 3, H, W) bool
            best = int(out.iou_scores[0, 0].argmax())
            chosen = masks[0, best].numpy()
        return np.where(chosen, 255, 0).astype(np.uint8)


def _looks_like_a_path(source: str) -> bool:
    """A folder the user typed (not a ``namespace/name`` repo id): absolute, ``~``, ``./`` or with a
    backslash or more than one slash."""
    return source.startswith(("/", "~", ".")) or "\\" in source or source.count("/") > 1
