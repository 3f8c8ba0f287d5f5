"""Guard against a reference-count bug of PySide6 6.12.0 on Python 3.11.

Checked here (PySide6-Essentials 6.12.0, CPython 3.11.7): methods that return nothing (``update``,
``processEvents``, ``setCursor``, QPainter calls, ...) return ``None`` without a new reference, and
``Signal.emit()``/``disconnect()`` do the same with ``True``/``False``. Each call from Python takes a
reference away from the singleton; a canvas repainting on every mouse move brings ``None`` to zero
within minutes and the interpreter aborts ("Fatal Python error: none_dealloc"). PySide6 6.11.3 is
fine, and on Python 3.12+ these singletons are immortal (PEP 683), so nothing is lost there.

The project pins ``PySide6-Essentials<6.12``. If a broken build is installed anyway, :func:`install`
notices (a few calls on a private object) and gives ``None``, ``True`` and ``False`` an enormous
reference count — what Python 3.12 does for immortal objects — so the lost references never reach
zero; it also warns once. Installed when the ``desktop`` package is imported.
"""

from __future__ import annotations

import ctypes
import sys
import warnings

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Signal

_IMMORTAL = 1 << 60
_installed = False
found: dict[str, bool] = {}


class _Probe(QObject):
    sig = Signal()


def _lost(call, value: object, n: int = 32) -> bool:
    before = sys.getrefcount(value)
    for _ in range(n):
        call()
    return before - sys.getrefcount(value) >= n


def _immortalize(obj: object) -> None:
    refcnt = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field
    if refcnt.value < _IMMORTAL:
        refcnt.value += _IMMORTAL


def install() -> dict[str, bool]:
    """Probe once; if this PySide6 drops references to None/True/False, make them unreachable-zero."""
    global _installed
    if _installed:
        return found
    _installed = True
    if sys.version_info >= (3, 12):  # immortal already
        return found
    probe = _Probe()
    found["void_returns_none"] = _lost(lambda: probe.setObjectName("probe"), None)
    found["emit_returns_bool"] = _lost(probe.sig.emit, True)
    if any(found.values()):
        for obj in (None, True, False):
            _immortalize(obj)
        warnings.warn(
            f"PySide6 {pyside_version} loses references to None/True/False on Python "
            f"{sys.version_info.major}.{sys.version_info.minor} (install PySide6-Essentials<6.12); "
            "Inpaint Studio made them immortal to keep running.",
            RuntimeWarning,
            stacklevel=2,
        )
    return found
