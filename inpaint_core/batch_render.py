"""One batch item's work, shared by the local and the Ray executor (:mod:`.batch`, :mod:`.batch_ray`).

An executor gets :class:`Job` objects (a request and the input *bytes*) and hands back an
:class:`Outcome` (PNG bytes, or the reason it failed); it never touches a file. That is what makes the
Ray outputs the local outputs, byte for byte, and lets a cluster run without a shared file system.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import imaging
from .cpu_threads import default_cpu_threads
from .engines.base import Engine
from .engines.registry import get_engine
from .errors import InpaintError
from .inpaint import inpaint
from .masks import RESIZE_FLAG_HINT
from .request import InpaintRequest


@dataclass(frozen=True)
class BatchItem:
    """One image to restore. ``key`` is its output stem (unique in the output folder); ``problem``
    is set when the item cannot even start (no mask found): it is reported as failed."""

    key: str
    image: Path
    mask: Path | None
    prompt: str | None = None
    seed: int | None = None
    problem: str = ""


@dataclass(frozen=True)
class BatchSettings:
    """Everything a batch needs besides its items. ``request`` is the base request (flags)."""

    request: InpaintRequest
    out: Path
    mask_from: str = "auto"
    resize_mask: bool = False
    max_pixels: int | None = None
    max_bytes: int | None = None
    device: str | None = None
    dtype: str | None = None
    force: bool = False
    executor: str = "local"
    ray_address: str | None = None
    workers: int | None = None
    #: torch threads per diffusion worker. On CPU the thread count changes the rounding of a few
    #: pixels (measured: 1 level in 10 pixels, 1 vs 2 threads), so every executor uses this one
    #: number and their outputs stay byte-identical. None: the driver's default
    #: (:func:`~.cpu_threads.default_cpu_threads`, what ``run`` and the studio use).
    threads: int | None = None

    def engine_spec(self) -> dict[str, Any]:
        """How to build the engine (what a Ray worker needs to make its own)."""
        if self.request.engine == "diffusion":
            return {
                "name": "diffusion",
                "model": self.request.model,
                "device": self.device,
                "dtype": self.dtype,
                "threads": self.threads or default_cpu_threads(),
            }
        return {"name": "classical"}

    def render_kwargs(self) -> dict[str, Any]:
        """How an item's inputs are read, the same in every worker (local and on Ray)."""
        return {
            "mask_from": self.mask_from,
            "resize_mask": self.resize_mask,
            "max_pixels": self.max_pixels,
            "max_bytes": self.max_bytes,
        }


def make_engine(spec: dict[str, Any]) -> Engine:
    spec = dict(spec)
    name = spec.pop("name")
    threads = spec.pop("threads", None)
    if name == "diffusion" and not spec.get("model"):
        raise InpaintError("--engine diffusion needs --model PATH|REPO_ID")
    if threads:
        import torch  # only a diffusion batch pays for importing torch

        torch.set_num_threads(int(threads))  # the worker's other torch work (loading) too
        spec["cpu_threads"] = int(threads)  # what a request naming none runs on
    return get_engine(name, **spec)


@dataclass
class Job:
    """An item that will run: its request (seed resolved) and its input bytes."""

    item: BatchItem
    request: InpaintRequest
    image_bytes: bytes
    mask_bytes: bytes
    image_sha256: str
    mask_sha256: str
    params: dict[str, Any]


@dataclass
class Rendered:
    """One output picture: its PNG file's bytes (with metadata), encoded by the worker so the
    encoding runs in parallel and the driver only writes; ``seed`` names the file."""

    png: bytes
    seed: int | None


@dataclass
class Outcome:
    """What an executor hands back for a job: outputs, or the reason it failed."""

    outputs: list[Rendered] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


def render(
    engine: Engine,
    request: InpaintRequest,
    image_bytes: bytes,
    mask_bytes: bytes,
    *,
    mask_from: str = "auto",
    resize_mask: bool = False,
    max_pixels: int | None = None,
    max_bytes: int | None = None,
) -> Outcome:
    """Decode, fill and composite one item; never raises for a bad item (the reason is returned).

    The same function runs in the local loop and in a Ray worker, so both give the same pixels.
    """
    t0 = time.perf_counter()
    try:
        limits = {"max_pixels": max_pixels} if max_pixels else {}
        # the bytes of a file on disk (read by the driver): a file's limit, as `run` has
        photo = imaging.load_image(image_bytes, max_bytes=max_bytes, **limits)
        try:
            mask = imaging.load_mask(
                mask_bytes,
                photo.size,
                resize=resize_mask,
                channel=mask_from,
                max_bytes=max_bytes,
                resize_hint=RESIZE_FLAG_HINT,
                **limits,
            )
        except InpaintError as exc:
            raise InpaintError(f"mask: {exc}".replace("<bytes>: ", "")) from None
        results = inpaint(request, photo, mask, engine)
        model_name = getattr(engine, "model_name", None)
        outputs = [
            Rendered(
                imaging.encode_png(
                    r.composite(photo.rgb),
                    alpha=photo.alpha,
                    high_bits=imaging.HighBits.of(photo.rgb16),  # a 16-bit scan: a 16-bit PNG
                    request=r.request,
                    seed=r.seed,
                    model_name=model_name,
                    seam_score=r.info.get("seam_score"),  # as `run` writes it (saving.py)
                ),
                r.seed,
            )
            for r in results
        ]
    except (InpaintError, OSError, ValueError, MemoryError) as exc:
        return Outcome(error=str(exc).replace("<bytes>: ", ""), seconds=time.perf_counter() - t0)
    except Exception as exc:  # one odd image (a decoder or engine bug) must not stop a night's run
        return Outcome(error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - t0)
    return Outcome(outputs=outputs, seconds=time.perf_counter() - t0)


# -- worker processes of the local executor (top level: a process pool pickles them by name) --------
class WorkerStartError(Exception):
    """A worker process could not make its engine. Raised with the worker's first job, so the
    driver can say why: a pool whose initializer raised only reports itself broken."""


_worker_engine: Engine | None = None
_worker_start_error: str = ""
_worker_kwargs: dict[str, Any] = {}


def _exit_with_parent(poll_s: float = 0.5) -> None:
    """A worker whose driver was killed (``kill -9``) exits instead of running on as an orphan."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def worker_spec(engine_spec: dict[str, Any], devices: Any = None) -> dict[str, Any]:
    """The engine spec of one worker: with ``devices`` (a queue holding one GPU index per worker
    of the pool), its own ``cuda:N``, so a several-GPU machine loads one model per GPU."""
    if devices is None:
        return engine_spec
    try:
        index = devices.get(timeout=60)
    except queue.Empty:  # more workers than indices: cannot happen, the pool makes one each
        return engine_spec
    return {**engine_spec, "device": f"cuda:{int(index)}"}


def init_worker(
    engine_spec: dict[str, Any], render_kwargs: dict[str, Any], devices: Any = None
) -> None:
    """Process-pool initializer: one engine per worker process, made once (on the GPU the
    ``devices`` queue hands it, when there is one)."""
    global _worker_engine, _worker_kwargs, _worker_start_error
    _exit_with_parent()
    _worker_kwargs = dict(render_kwargs)
    try:
        _worker_engine = make_engine(worker_spec(engine_spec, devices))
    except Exception as exc:  # noqa: BLE001 - reported with the first job (WorkerStartError)
        _worker_start_error = (
            str(exc) if isinstance(exc, InpaintError) else f"{type(exc).__name__}: {exc}"
        )


def render_in_worker(request: InpaintRequest, image_bytes: bytes, mask_bytes: bytes) -> Outcome:
    if _worker_engine is None:
        raise WorkerStartError(_worker_start_error or "init_worker was not run in this process")
    return render(_worker_engine, request, image_bytes, mask_bytes, **_worker_kwargs)
