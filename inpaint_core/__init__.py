"""Inpaint Studio engine: image I/O, masks, region/compositing, engines, jobs, CLI.

This package never imports Qt (enforced by an import-linter contract in pyproject.toml).
"""

__version__ = "0.1.0"
