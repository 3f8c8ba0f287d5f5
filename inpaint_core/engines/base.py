"""The one engine interface every engine implements.

An engine sees only the *working crop*: the region around the mask, already mapped to the grid the
engine wants (see :mod:`inpaint_core.region`). Compositing back into the full-resolution photo is not
its business (:mod:`inpaint_core.compose`), so every engine gets the bit-identical-outside-the-mask
guarantee for free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..events import CancelToken, EventCallback
from ..request import InpaintRequest


@dataclass
class EngineOutput:
    """One filled crop. ``image`` is RGB uint8 (H, W, 3) on the working grid."""

    image: np.ndarray
    seed: int | None = None
    nsfw_flagged: bool = False
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Engine(Protocol):
    name: str
    #: True: work on the crop at the photo's own resolution (classical). False: resize the crop to
    #: the model's grid (``request.target_size`` long side, multiples of 8) and back.
    native_resolution: bool

    def run(
        self,
        request: InpaintRequest,
        image: np.ndarray,
        mask: np.ndarray,
        on_event: EventCallback,
        cancel: CancelToken,
    ) -> list[EngineOutput]:
        """Fill ``mask`` (uint8 HxW, 255 = fill) in ``image`` (uint8 HxWx3).

        Returns one output per seed of ``request.resolved()``. Emits ``progress`` (and optionally
        ``preview``) events through ``on_event``; raises :class:`~inpaint_core.errors.JobCancelled`
        within one step of ``cancel.cancel()``.
        """
        ...


def get_engine(name: str, **kwargs: Any) -> Engine:
    """Engine factory by name: ``classical`` (no weights) or ``diffusion`` (needs ``model=``)."""
    if name == "classical":
        from .classical import ClassicalEngine

        return ClassicalEngine(**kwargs)
    if name == "diffusion":
        from .diffusion import DiffusionEngine

        return DiffusionEngine(**kwargs)
    if name == "erase":  # [models] LaMa-style TorchScript object removal
        from .erase import EraseEngine

        return EraseEngine(**kwargs)
    raise ValueError(f"unknown engine {name!r}; choose classical, diffusion or erase")
