"""Inpaint Studio's window: Qt only, a thin layer over :mod:`inpaint_core`."""
