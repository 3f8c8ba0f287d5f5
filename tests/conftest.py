"""Shared test setup: Qt offscreen, settings and caches in temp dirs, no network, no hub."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("INPAINT_STUDIO_TESTING", "1")
