"""Predictions and uploaded files: records, the one-worker queue, long-poll, cancel, retention.

Threads, and why: HTTP handlers run on the event loop and never wait on pixels. A new prediction
first has its inputs fetched and decoded on a small thread pool (downloads and decoding must not
hold the GPU worker either), then goes to the existing one-worker :class:`~inpaint_core.jobs.JobQueue`
(torch is not re-entrant), whose :class:`~inpaint_core.events.CancelToken` stops a diffusion run
within one step. A record's fields are changed under its own lock from whichever thread owns the
stage; reaching a final status wakes long-polling requests through ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
import re
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .. import imaging
from ..errors import ImageLoadError, InpaintError, JobCancelled
from ..events import CancelToken, EngineEvent, EventCallback, ignore_events
from ..files import atomic_write_bytes
from ..imaging.url_guard import UrlRefusedError
from ..inpaint import inpaint
from ..jobs import EngineCache, EngineFactory, JobQueue
from ..masks import mask_from_image, validate_mask
from ..request import InpaintRequest
from ..saving import save_result_picture
from .catalog import ModelEntry
from .config import ServiceConfig
from .inputs import PredictionInput, to_request
from .sources import Source, SourceError, classify, decode_data_uri

TERMINAL = ("succeeded", "failed", "canceled")
_LOG_LINES = 200
_PROGRESS = re.compile(r"^\s*\d+%\|")


def iso(ts: float | None) -> str | None:
    """RFC 3339 in UTC with microseconds, as the hosted API writes times."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    """26 lower-case base32 characters: unguessable (outputs are served by id)."""
    return secrets.token_bytes(16).hex()[:26]


class QueueFull(Exception):
    """Too many predictions waiting: answered ``429`` with ``Retry-After``."""


@dataclass
class UploadedFile:
    id: str
    name: str
    content_type: str
    size: int
    sha256: str
    md5: str
    metadata: dict[str, Any]
    created: float
    path: Path

    def to_json(self, base: str, keep_seconds: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "etag": self.md5,
            "checksums": {"sha256": self.sha256, "md5": self.md5},
            "metadata": self.metadata,
            "created_at": iso(self.created),
            "expires_at": iso(self.created + keep_seconds),
            "urls": {"get": f"{base}/v1/files/{self.id}"},
        }


#: the long side of the step previews a running prediction offers (``urls.preview``)
PREVIEW_SIDE = 256


def preview_png(rgb: np.ndarray) -> bytes:
    """A step preview as a small PNG (fast to encode on the worker, cheap to poll)."""
    img = Image.fromarray(np.ascontiguousarray(rgb))
    img.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


@dataclass
class Prediction:
    id: str
    seq: int
    entry: ModelEntry
    input: dict[str, Any]
    request: InpaintRequest
    out_dir: Path
    done: asyncio.Event
    status: str = "starting"
    outputs: list[str] = field(default_factory=list)
    error: str | None = None
    logs: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    started: float | None = None
    completed: float | None = None
    predict_time: float | None = None
    paste_back: bool = True
    job_id: str | None = None
    cancel: CancelToken = field(default_factory=CancelToken)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: the latest step preview (PNG, at most PREVIEW_SIDE px) while it runs: urls.preview
    preview_png: bytes | None = None
    #: outputs the safety checker flagged (their index): ``nsfw_flagged`` in the JSON
    flagged: list[int] = field(default_factory=list)

    def log(self, line: str) -> None:
        self.logs.append(line)
        del self.logs[:-_LOG_LINES]

    def to_json(self, base: str, *, status: str | None = None) -> dict[str, Any]:
        with self.lock:
            metrics: dict[str, Any] = {}
            if self.predict_time is not None:
                metrics["predict_time"] = round(self.predict_time, 6)
            if self.completed is not None:
                metrics["total_time"] = round(self.completed - self.created, 6)
            url = f"{base}/v1/predictions/{self.id}"
            urls = {"get": url, "cancel": f"{url}/cancel"}
            if self.preview_png is not None and self.status == "processing":
                urls["preview"] = f"{url}/preview.png"
            return {
                "id": self.id,
                "model": self.entry.slug,
                "version": self.entry.version_id,
                "input": self.input,
                "status": status or self.status,
                "output": [f"{url}/output/{name}" for name in self.outputs]
                if self.status == "succeeded"
                else None,
                "error": self.error,
                "logs": "\n".join(self.logs),
                "metrics": metrics,
                "created_at": iso(self.created),
                "started_at": iso(self.started),
                "completed_at": iso(self.completed),
                "urls": urls,
                "nsfw_flagged": list(self.flagged),
            }


def _echo_input(raw: dict[str, Any]) -> dict[str, Any]:
    """The input as given, with ``data:`` URIs shortened (they may be megabytes long and would be
    sent back on every poll)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and value[:5].lower() == "data:" and len(value) > 200:
            out[key] = f"{value[:60]}... ({len(value)} characters)"
        else:
            out[key] = value
    return out


def _progress_line(event: EngineEvent) -> str:
    """tqdm's layout, which the hosted client parses into ``Prediction.progress``."""
    pct = int(round(100 * event.progress))
    bar = "█" * (pct // 10) + " " * (10 - pct // 10)
    return f"{pct:3d}%|{bar}| {event.step}/{event.total_steps}"


class PredictionService:
    """Everything the routes need: create, get, wait, cancel, list, files, retention."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        engine_factory: EngineFactory | None = None,
        jobs: JobQueue | None = None,
    ) -> None:
        """``jobs``: an existing one-worker queue to share (the studio's, when it serves its own
        window: one worker, one loaded model); by default the service makes its own."""
        self.config = config
        self._own_dir = config.data_dir is None
        self.data_dir = (
            Path(tempfile.mkdtemp(prefix="inpaint-serve-"))
            if config.data_dir is None
            else Path(config.data_dir)
        )
        (self.data_dir / "outputs").mkdir(parents=True, exist_ok=True)
        (self.data_dir / "files").mkdir(parents=True, exist_ok=True)
        self._own_jobs = jobs is None
        self.jobs = jobs or JobQueue(
            ignore_events, engine_factory or EngineCache(config.device, config.dtype)
        )
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inpaint-inputs")
        self.predictions: dict[str, Prediction] = {}
        self.files: dict[str, UploadedFile] = {}
        self._seq = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def close(self) -> None:
        for pred in list(self.predictions.values()):
            pred.cancel.cancel()
            if pred.job_id is not None and pred.status not in TERMINAL:
                self.jobs.cancel(pred.job_id)
        if self._own_jobs:
            self.jobs.shutdown(timeout=10)
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def sweep(self, now: float | None = None) -> int:
        """Forget finished predictions and uploads older than ``keep_seconds``; returns how many."""
        now = time.time() if now is None else now
        cutoff = now - self.config.keep_seconds
        gone = 0
        for pred in list(self.predictions.values()):
            if pred.status in TERMINAL and (pred.completed or now) < cutoff:
                self.predictions.pop(pred.id, None)
                shutil.rmtree(pred.out_dir, ignore_errors=True)
                gone += 1
        for f in list(self.files.values()):
            if f.created < cutoff:
                self.files.pop(f.id, None)
                f.path.unlink(missing_ok=True)
                gone += 1
        return gone

    # -- predictions ------------------------------------------------------------------------
    def active(self) -> int:
        return sum(1 for p in self.predictions.values() if p.status not in TERMINAL)

    def create(
        self, entry: ModelEntry, inp: PredictionInput, raw_input: dict[str, Any], own_netloc: str
    ) -> Prediction:
        """Validate (raises :class:`InputError`/:class:`SourceError` → 422, :class:`QueueFull` →
        429) and start a prediction. Called on the event loop; returns at once."""
        assert self.loop is not None, "attach() the event loop first"
        request = to_request(inp, entry).resolved()
        image = classify("image", inp.image, own_netloc)
        mask = classify("mask", inp.mask, own_netloc)
        for name, src in (("image", image), ("mask", mask)):
            self._check_local(name, src)
        if self.active() >= self.config.queue_size + 1:
            raise QueueFull
        pid = new_id()
        pred = Prediction(
            id=pid,
            seq=next(self._seq),
            entry=entry,
            input=_echo_input(raw_input),
            request=request,
            out_dir=self.data_dir / "outputs" / pid,
            done=asyncio.Event(),
            paste_back=inp.paste_back,
        )
        seeds = ", ".join(str(s) for s in request.seeds or ())
        pred.log(f"Using seed: {seeds}" if request.engine == "diffusion" else "classical fill")
        self.predictions[pid] = pred
        task = self.loop.create_task(self._prepare_and_submit(pred, image, mask))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return pred

    def _check_local(self, name: str, src: Source) -> None:
        if src.kind == "file" and src.value not in self.files:
            raise SourceError(name, f"no uploaded file {src.value} (expired or never uploaded)")
        if src.kind == "output":
            pid, k = src.value.split("/")
            pred = self.predictions.get(pid)
            if pred is None or f"{k}.png" not in pred.outputs:
                raise SourceError(name, f"no output {k} of prediction {pid}")

    async def _prepare_and_submit(self, pred: Prediction, image: Source, mask: Source) -> None:
        assert self.loop is not None
        try:
            photo, mask_px = await self.loop.run_in_executor(
                self.executor, self._load_inputs, pred, image, mask
            )
        except JobCancelled:
            self._finish(pred, "canceled")
            return
        except InpaintError as exc:
            self._finish(pred, "failed", error=str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a bad input must fail the prediction, not the server
            self._finish(pred, "failed", error=f"{type(exc).__name__}: {exc}")
            return
        with pred.lock:
            if pred.status in TERMINAL:  # cancelled while its inputs were loading
                return
            pred.job_id = self.jobs.submit_call(
                lambda on_event, cancel: self._run(pred, photo, mask_px, on_event, cancel),
                label=f"prediction {pred.id}",
            )

    def _source_bytes(self, name: str, src: Source) -> bytes | str:
        """Bytes for local sources; a checked URL for remote ones (downloaded by load_image)."""
        limit = self.config.max_image_bytes
        if src.kind == "data":
            return decode_data_uri(src.value, limit)
        if src.kind == "file":
            upload = self.files.get(src.value)
            if upload is None:
                raise ImageLoadError(f"uploaded file {src.value} has expired")
            return upload.path.read_bytes()
        if src.kind == "output":
            pid, k = src.value.split("/")
            path = self.data_dir / "outputs" / pid / f"{int(k)}.png"
            if not path.is_file():
                raise ImageLoadError(f"output {k} of prediction {pid} has expired")
            return path.read_bytes()
        return src.value  # downloaded by load_image, its guard checking every hop

    def _load(self, name: str, src: Source, cancel: CancelToken) -> imaging.LoadedImage:
        """One input, fetched and decoded; an http(s) URL (and each of its redirects) must point
        at a public address unless the server allows private ones."""
        cfg = self.config
        try:
            return imaging.load_image(
                self._source_bytes(name, src),
                max_bytes=cfg.max_image_bytes,
                timeout=cfg.url_timeout,
                cancel=cancel,
                allow_private_urls=cfg.allow_private_urls,
            )
        except UrlRefusedError as exc:
            raise UrlRefusedError(
                f"{exc} (start the server with --allow-private-urls to allow it)"
            ) from None

    def _load_inputs(
        self, pred: Prediction, image: Source, mask: Source
    ) -> tuple[imaging.LoadedImage, np.ndarray]:
        """On the input pool: fetch and decode both images; errors name the input."""
        try:
            photo = self._load("image", image, pred.cancel)
        except JobCancelled:
            raise
        except InpaintError as exc:
            raise type(exc)(f"image: {exc}") from None
        pred.cancel.raise_if_cancelled()
        try:
            mask_img = self._load("mask", mask, pred.cancel)
            mask_px = validate_mask(
                mask_from_image(mask_img.rgb, mask_img.alpha, source="auto"), photo.size
            )
        except JobCancelled:
            raise
        except InpaintError as exc:
            raise type(exc)(f"mask: {exc}") from None
        return photo, np.ascontiguousarray(mask_px, dtype=np.uint8)

    def _run(
        self,
        pred: Prediction,
        photo: imaging.LoadedImage,
        mask: np.ndarray,
        on_event: EventCallback,
        cancel: CancelToken,
    ) -> list[Any]:
        """On the GPU worker: inpaint, write the PNGs (parameters inside, as the CLI writes them)."""
        with pred.lock:
            if pred.status != "starting":
                raise JobCancelled("cancelled before it started")
            pred.status = "processing"
            pred.started = time.time()

        def sink(event: EngineEvent) -> None:
            if event.kind == "preview" and event.preview is not None:
                png = preview_png(event.preview)
                with pred.lock:
                    pred.preview_png = png
            if event.kind == "progress" and event.total_steps:
                line = _progress_line(event)
                with pred.lock:  # one progress line, updated in place (tqdm's \r)
                    if pred.logs and _PROGRESS.match(pred.logs[-1]):
                        pred.logs[-1] = line
                    else:
                        pred.log(line)
            on_event(event)

        t0 = time.perf_counter()
        try:
            engine = self.jobs.engine_factory(pred.request)
            results = inpaint(pred.request, photo, mask, engine, sink, cancel)
            pred.out_dir.mkdir(parents=True, exist_ok=True)
            model_name = getattr(engine, "model_name", None)
            names = []
            for k, result in enumerate(results):
                save_result_picture(
                    pred.out_dir / f"{k}.png",
                    result,
                    photo.rgb,
                    photo.alpha,
                    model_name,
                    pasted=pred.paste_back or result.grid_image is None,
                    high_bits=imaging.HighBits.of(photo.rgb16),  # a 16-bit upload: 16-bit out
                )
                names.append(f"{k}.png")
                if result.nsfw_flagged:
                    with pred.lock:
                        pred.flagged.append(k)
                        pred.log(
                            f"output {k} (seed {result.seed}) was flagged by the safety checker"
                        )
        except JobCancelled:
            self._finish(pred, "canceled", predict_time=time.perf_counter() - t0)
            raise
        except InpaintError as exc:
            self._finish(pred, "failed", error=str(exc), predict_time=time.perf_counter() - t0)
            raise
        except MemoryError:
            self._finish(pred, "failed", error="out of memory: try a smaller size or fewer outputs")
            raise
        except Exception as exc:
            self._finish(pred, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        self._finish(pred, "succeeded", outputs=names, predict_time=time.perf_counter() - t0)
        return results

    def _finish(
        self,
        pred: Prediction,
        status: str,
        *,
        error: str | None = None,
        outputs: list[str] | None = None,
        predict_time: float | None = None,
    ) -> None:
        with pred.lock:
            if pred.status in TERMINAL:
                return
            pred.status = status
            pred.error = error
            pred.outputs = outputs or []
            pred.predict_time = predict_time
            pred.completed = time.time()
            pred.preview_png = None  # offered only while it runs
            if error:
                pred.log(f"error: {error}")
        loop = self.loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(pred.done.set)
            except RuntimeError:  # loop closed at shutdown
                pass

    async def wait(self, pred: Prediction, seconds: float) -> None:
        """Hold until ``pred`` ends or ``seconds`` pass (the long-poll)."""
        if seconds <= 0 or pred.status in TERMINAL:
            return
        try:
            await asyncio.wait_for(pred.done.wait(), seconds)
        except TimeoutError:
            pass

    async def cancel(self, pred: Prediction, settle_seconds: float = 10.0) -> None:
        """Stop ``pred``: at once when it has not reached the worker, else within one step (the
        engine's cancel token); waits up to ``settle_seconds`` for the worker to confirm."""
        with pred.lock:
            if pred.status in TERMINAL:
                return
            pred.cancel.cancel()
            job_id, started = pred.job_id, pred.status == "processing"
        if job_id is not None:
            self.jobs.cancel(job_id)
        if not started:
            self._finish(pred, "canceled")
        await self.wait(pred, settle_seconds)

    def page(self, before_seq: int | None) -> tuple[list[Prediction], int | None]:
        """Newest first; ``before_seq`` is the cursor. Returns the page and the next cursor."""
        preds = sorted(self.predictions.values(), key=lambda p: p.seq, reverse=True)
        if before_seq is not None:
            preds = [p for p in preds if p.seq < before_seq]
        size = self.config.page_size
        page = preds[:size]
        more = len(preds) > size
        return page, (page[-1].seq if more and page else None)

    # -- files ------------------------------------------------------------------------------
    async def add_file(
        self, data: bytes, name: str, content_type: str, metadata: dict[str, Any]
    ) -> UploadedFile:
        """Store an upload: written and hashed on the input pool (50 MB takes a while), registered
        on the event loop (the only thread that reads the registry)."""
        assert self.loop is not None
        upload = await self.loop.run_in_executor(
            self.executor, self._write_file, data, name, content_type, metadata
        )
        self.files[upload.id] = upload
        return upload

    def _write_file(
        self, data: bytes, name: str, content_type: str, metadata: dict[str, Any]
    ) -> UploadedFile:
        fid = new_id()
        path = self.data_dir / "files" / fid
        atomic_write_bytes(path, data)
        return UploadedFile(
            id=fid,
            name=name,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            metadata=metadata,
            created=time.time(),
            path=path,
        )
