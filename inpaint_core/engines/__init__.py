"""Engines fill the masked part of a working-grid crop. See :mod:`inpaint_core.engines.base`."""

from .base import Engine, EngineOutput, get_engine

__all__ = ["Engine", "EngineOutput", "get_engine"]
