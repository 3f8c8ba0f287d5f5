"""Erase engine: object removal without a prompt, with a LaMa or MI-GAN TorchScript model.

LaMa (Suvorov et al., "Resolution-robust Large Mask Inpainting with Fourier Convolutions") is what
IOPaint runs by default and what Krita AI Diffusion uses to pre-fill before diffusion: it fills a
hole from its surroundings, fast on a CPU, at the photo's own resolution. People have it as
``big-lama.pt``, a TorchScript file with the call signature

    model(image, mask) -> image      # image (1, 3, H, W) float in [0, 1], mask (1, 1, H, W) in {0, 1}

with H and W multiples of 8. That is the whole contract this engine relies on (IOPaint's
``lama.py`` feeds it the same way), so any TorchScript module with it works.

MI-GAN (Sargsyan et al., ICCV 2023; IOPaint's ``migan_traced.pt``) is a small GAN made for
phones: one input ``(1, 4, 512, 512)`` = ``cat(0.5 - mask, image * (1 - mask))`` with the image in
[-1, 1], and an image in [-1, 1] back (IOPaint's ``mi_gan.py``). The crop is scaled down to fit
512 (never up), padded to 512x512, and the fill scaled back to the crop. The two are told apart by
the TorchScript ``forward``'s number of inputs (two: LaMa, one: MI-GAN).

Like the classical engine it works on the native-resolution crop around the mask and returns one
output (``seed=None``): the fill is deterministic, more seeds would be the same picture.
``torch.jit.load`` runs TorchScript only, never a Python pickle.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InpaintError, ModelError
from ..events import CancelToken, EngineEvent, EventCallback, ignore_events
from ..models.discovery import models_dirs
from ..request import InpaintRequest
from .base import EngineOutput
from .registry import ERASE

ERASE_DIR = "erase"
ERASE_SUFFIXES = (".pt", ".pth", ".jit", ".torchscript")


def resolve_erase_model(model: str | os.PathLike[str]) -> Path:
    """A TorchScript file: a path, or a name in a models folder's ``erase/`` (``big-lama``)."""
    path = Path(model).expanduser()
    if path.is_file():
        return path.resolve()
    for folder in models_dirs():
        for candidate in (folder / ERASE_DIR / str(model), folder / str(model)):
            for name in (
                candidate,
                *(candidate.with_name(candidate.name + s) for s in ERASE_SUFFIXES),
            ):
                if name.is_file():
                    return name.resolve()
    raise ModelError(
        f"erase model {str(model)!r} not found: give the path of a LaMa TorchScript file "
        f"(big-lama.pt) or put it in {models_dirs()[0] / ERASE_DIR}"
    )


class EraseEngine:
    """LaMa-style TorchScript fill; the model stays loaded between jobs."""

    name = "erase"
    capabilities = ERASE
    native_resolution = ERASE.native_resolution

    def __init__(
        self, model: str | os.PathLike[str] | None = None, *, device: str | None = None, **_: Any
    ):
        if model is None:
            raise ModelError("the erase engine needs a model: --model big-lama.pt")
        self.model = model
        self.device = device
        self._module: Any = None
        self._device = "cpu"
        self._kind = "lama"  # or "migan" (see the module docstring)

    @property
    def model_name(self) -> str:
        return Path(str(self.model)).stem

    def load(self) -> Any:
        if self._module is None:
            from ..models.device import resolve_device

            path = resolve_erase_model(self.model)
            self._device = resolve_device(self.device)
            try:
                module = torch.jit.load(str(path), map_location=self._device)
            except Exception as exc:
                raise ModelError(
                    f"{path.name} is not a TorchScript model (LaMa's big-lama.pt is one): "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            module.eval()
            try:
                inputs = len(module.forward.schema.arguments) - 1  # minus self
            except (AttributeError, RuntimeError):
                inputs = 2
            self._kind = "migan" if inputs == 1 else "lama"
            self._module = module
        return self._module

    def run(
        self,
        request: InpaintRequest,
        image: np.ndarray,
        mask: np.ndarray,
        on_event: EventCallback = ignore_events,
        cancel: CancelToken | None = None,
    ) -> list[EngineOutput]:
        cancel = cancel or CancelToken()
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InpaintError("the erase engine needs an RGB uint8 image (H, W, 3)")
        if mask.shape != image.shape[:2]:
            raise InpaintError("the mask and the image differ in size")
        on_event(EngineEvent("progress", progress=0.0, message=f"loading {self.model_name}"))
        module = self.load()
        cancel.raise_if_cancelled()
        t0 = time.perf_counter()
        if self._kind == "migan":
            return [self._migan(image, mask, on_event, cancel, t0)]
        h, w = image.shape[:2]
        ph, pw = (-h) % 8, (-w) % 8
        img = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="symmetric")
        msk = np.pad(mask, ((0, ph), (0, pw)), mode="symmetric")
        x = torch.from_numpy(img).permute(2, 0, 1)[None].float().div(255.0).to(self._device)
        m = torch.from_numpy((msk > 0).astype(np.float32))[None, None].to(self._device)
        on_event(EngineEvent("progress", progress=0.1, message="erasing"))
        try:
            with torch.inference_mode():
                out = module(x, m)
        except Exception as exc:
            raise InpaintError(
                f"{self.model_name} failed on a {w}x{h} crop: {type(exc).__name__}: {exc}"
            ) from None
        if not isinstance(out, torch.Tensor) or tuple(out.shape[-3:]) != (3, h + ph, w + pw):
            raise ModelError(
                f"{self.model_name} does not behave like LaMa: expected a (1, 3, H, W) image back"
            )
        cancel.raise_if_cancelled()
        arr = out[0, :, :h, :w].permute(1, 2, 0).float().cpu().numpy()
        result = np.ascontiguousarray(np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8))
        on_event(EngineEvent("progress", progress=1.0, message="done"))
        info = {"model": self.model_name, "seconds": time.perf_counter() - t0, "size": (w, h)}
        return [EngineOutput(image=result, seed=None, info=info)]

    MIGAN_SIZE = 512

    def _migan(
        self,
        image: np.ndarray,
        mask: np.ndarray,
        on_event: EventCallback,
        cancel: CancelToken,
        t0: float,
    ) -> EngineOutput:
        import cv2

        size = self.MIGAN_SIZE
        h, w = image.shape[:2]
        scale = min(1.0, size / max(h, w))
        rh, rw = max(1, round(h * scale)), max(1, round(w * scale))
        img = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_AREA) if scale < 1 else image
        msk = cv2.resize(mask, (rw, rh), interpolation=cv2.INTER_NEAREST) if scale < 1 else mask
        img = np.pad(img, ((0, size - rh), (0, size - rw), (0, 0)), mode="symmetric")
        msk = np.pad(msk, ((0, size - rh), (0, size - rw)), mode="symmetric")
        x = torch.from_numpy(img).permute(2, 0, 1)[None].float().div(127.5).sub(1.0)
        m = torch.from_numpy((msk > 120).astype(np.float32))[None, None]
        inputs = torch.cat([0.5 - m, x * (1 - m)], dim=1).to(self._device)
        try:
            with torch.inference_mode():
                out = self._module(inputs)
        except Exception as exc:
            raise InpaintError(
                f"{self.model_name} failed on a {w}x{h} crop: {type(exc).__name__}: {exc}"
            ) from None
        if not isinstance(out, torch.Tensor) or tuple(out.shape[-3:]) != (3, size, size):
            raise ModelError(
                f"{self.model_name} does not behave like MI-GAN: expected a (1, 3, 512, 512) image"
            )
        cancel.raise_if_cancelled()
        arr = out[0, :, :rh, :rw].permute(1, 2, 0).float().cpu().numpy()
        fill = np.clip(arr * 127.5 + 127.5, 0, 255).round().astype(np.uint8)
        if (rh, rw) != (h, w):
            fill = cv2.resize(fill, (w, h), interpolation=cv2.INTER_CUBIC)
        on_event(EngineEvent("progress", progress=1.0, message="done"))
        info = {"model": self.model_name, "seconds": time.perf_counter() - t0, "size": (w, h)}
        return EngineOutput(image=np.ascontiguousarray(fill), seed=None, info=info)
