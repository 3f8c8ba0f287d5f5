"""The engine interface every engine implements, and what an engine declares it can do.

An engine sees only the *working crop*: the region around the mask, already mapped to the grid the
engine wants (see :mod:`inpaint_core.region`). Compositing back into the full-resolution photo is not
its business (:mod:`inpaint_core.compose`), so every engine gets the bit-identical-outside-the-mask
guarantee for free.

What an engine can do is declared on its class (:class:`Capabilities`), so the core and the GUI can
plan a run, or offer a model picker, from the engine's *name* without creating it (creating the
diffusion engine imports torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from ..events import CancelToken, EventCallback
from ..request import InpaintRequest


@dataclass(frozen=True)
class Capabilities:
    """``native_resolution``: works on the crop at the photo's own pixels (else on a working grid:
    the crop resized to ``request.target_size`` long side, multiples of ``grid_multiple``).
    ``previews``: sends step previews. ``loadable``: has a model to ``load``/``unload`` (and a
    ``model_name``). ``needs_model``: cannot run without one. ``batchable``: several seeds in one
    call (its outputs record the batch: see :class:`~inpaint_core.options.RunOptions`)."""

    native_resolution: bool
    grid_multiple: int = 8
    previews: bool = False
    loadable: bool = False
    needs_model: bool = False
    batchable: bool = False


@dataclass
class EngineOutput:
    """One filled crop. ``image`` is RGB uint8 (H, W, 3) on the working grid."""

    image: np.ndarray
    seed: int | None = None
    nsfw_flagged: bool = False
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Engine(Protocol):
    """Every engine: a ``name`` (its registry key), its class-level ``capabilities``, and ``run``."""

    name: str
    capabilities: ClassVar[Capabilities]

    def run(
        self,
        request: InpaintRequest,
        image: np.ndarray,
        mask: np.ndarray,
        on_event: EventCallback,
        cancel: CancelToken,
    ) -> list[EngineOutput]:
        """Fill ``mask`` (uint8 HxW, 255 = fill) in ``image`` (uint8 HxWx3, the working grid).

        Returns one output per seed of ``request.resolved()``. Emits ``progress`` (and, with the
        ``previews`` capability, ``preview`` on the working grid) events through ``on_event``;
        raises :class:`~inpaint_core.errors.JobCancelled` within one step of ``cancel.cancel()``.
        """
        ...


@runtime_checkable
class LoadableEngine(Engine, Protocol):
    """An engine with the ``loadable`` capability: a model kept in memory between runs."""

    @property
    def model_name(self) -> str: ...

    @property
    def is_loaded(self) -> bool: ...

    def load(self, on_event: EventCallback) -> Any:
        """Load the model now (no-op when loaded); ``progress`` events with ``phase="load"``."""
        ...

    def unload(self) -> None: ...
