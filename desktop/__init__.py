"""Inpaint Studio's window: Qt only, a thin layer over :mod:`inpaint_core`."""

from desktop.qtcompat import install as _install_qt_workarounds

_install_qt_workarounds()
