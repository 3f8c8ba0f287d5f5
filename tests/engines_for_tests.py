"""Small real engines for testing the region/compose/jobs plumbing without model weights."""

from __future__ import annotations

import threading

import numpy as np

from inpaint_core.engines.base import EngineOutput
from inpaint_core.events import EngineEvent


class SolidFillEngine:
    """Paints the mask a solid colour and, everywhere else, shifts pixels by ``outside_shift``
    (like a VAE round trip does), so tests can see that compositing restores the outside."""

    name = "solid"

    def __init__(self, color=(10, 200, 30), native_resolution=True, outside_shift=7, steps=4):
        self.color = np.array(color, np.uint8)
        self.native_resolution = native_resolution
        self.outside_shift = outside_shift
        self.steps = steps
        self.calls: list[tuple[int, int]] = []
        self.gate: threading.Event | None = None

    def run(self, request, image, mask, on_event, cancel):
        self.calls.append((image.shape[1], image.shape[0]))
        for step in range(1, self.steps + 1):
            if self.gate is not None:
                self.gate.wait(5)
            cancel.raise_if_cancelled()
            on_event(
                EngineEvent(
                    "progress", progress=step / self.steps, step=step, total_steps=self.steps
                )
            )
        out = np.clip(image.astype(np.int16) + self.outside_shift, 0, 255).astype(np.uint8)
        out[mask > 0] = self.color
        return [EngineOutput(out, seed=s) for s in request.resolved().seeds]
