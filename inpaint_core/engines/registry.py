"""The engines by name, with their capabilities, importable without importing the engines.

The entry's ``capabilities`` are the engine class's own (a test checks they agree); the class is
imported only when an engine is created, so planning a run or filling a picker on the GUI thread
never imports torch. A new engine: a module in this package with a class implementing
:class:`~inpaint_core.engines.base.Engine`, one :func:`register` call below, and its name in
:data:`inpaint_core.request.ENGINES`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from .base import Capabilities, Engine

CLASSICAL = Capabilities(native_resolution=True)
DIFFUSION = Capabilities(
    native_resolution=False, previews=True, loadable=True, needs_model=True, batchable=True
)
#: LaMa / MI-GAN TorchScript object removal: no prompt, the crop at its own resolution, the model
#: loaded lazily on the first run
ERASE = Capabilities(native_resolution=True, needs_model=True)


@dataclass(frozen=True)
class EngineEntry:
    name: str
    capabilities: Capabilities
    #: ``"module:Class"``, imported on first use
    target: str

    def engine_class(self) -> type[Engine]:
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)

    def create(self, **kwargs: Any) -> Engine:
        return self.engine_class()(**kwargs)


_REGISTRY: dict[str, EngineEntry] = {}


def register(entry: EngineEntry) -> None:
    _REGISTRY[entry.name] = entry


def names() -> list[str]:
    return list(_REGISTRY)


def entry(name: str) -> EngineEntry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; choose {' or '.join(_REGISTRY)}") from None


def capabilities(engine: str | type | object) -> Capabilities:
    """The capabilities of an engine given by name, class or instance (no engine is created).

    An object without declared ``capabilities`` (a test double) is read from its
    ``native_resolution`` attribute."""
    if isinstance(engine, str):
        return entry(engine).capabilities
    caps = getattr(engine, "capabilities", None)
    if isinstance(caps, Capabilities):
        return caps
    return Capabilities(native_resolution=bool(getattr(engine, "native_resolution", False)))


def get_engine(name: str, **kwargs: Any) -> Engine:
    """Engine factory by name: ``classical`` (no weights), ``diffusion`` or ``erase`` (both need
    ``model=``)."""
    return entry(name).create(**kwargs)


register(EngineEntry("classical", CLASSICAL, "inpaint_core.engines.classical:ClassicalEngine"))
register(EngineEntry("diffusion", DIFFUSION, "inpaint_core.engines.diffusion:DiffusionEngine"))
register(EngineEntry("erase", ERASE, "inpaint_core.engines.erase:EraseEngine"))
