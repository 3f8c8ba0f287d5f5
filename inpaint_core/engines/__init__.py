"""Engines fill the masked part of a working-grid crop. See :mod:`inpaint_core.engines.base`
(the interface) and :mod:`inpaint_core.engines.registry` (engines by name)."""
