"""The HTTP side: routes in the hosted predictions API's shapes, auth, body limits, error bodies.

FastAPI (on Starlette + uvicorn) because it validates a JSON body against a typed model and
answers ``422`` naming the field by itself, and publishes ``/openapi.json`` from the same types —
the schema the API fuzz test is driven from. Errors are RFC 7807 problem documents
(``title``/``detail``/``status``), which the hosted client turns into ``ReplicateError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import math
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, File, Form, Header, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..imaging.sources import mb
from ..jobs import EngineFactory, JobQueue
from .catalog import Catalog, ModelEntry, build_catalog
from .config import ServiceConfig
from .inputs import InputError, PredictionInput, openapi_schema
from .predictions import TERMINAL, Prediction, PredictionService, QueueFull, iso
from .sources import SourceError

PUBLIC_PATHS = ("/openapi.json",)
MAX_WAIT_S = 60
_OUTPUT_NAME = re.compile(r"^\d{1,3}\.png$")


# -- problem documents ------------------------------------------------------------------------
def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None):
    return JSONResponse(
        {"title": title, "detail": detail, "status": status}, status_code=status, headers=headers
    )


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def _validation_detail(errors: list[dict[str, Any]]) -> str:
    lines = []
    for err in errors[:5]:
        where = _loc(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            lines.append(
                f"body: malformed JSON ({err.get('ctx', {}).get('error', 'cannot parse')})"
            )
        elif where == "body":
            lines.append("body: must be a JSON object (Content-Type: application/json)")
        elif err.get("type") == "extra_forbidden":
            lines.append(f"{where}: is not an input of this model")
        else:
            lines.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(lines)


# -- ASGI middleware --------------------------------------------------------------------------
class BearerAuth:
    """Every route but ``/openapi.json`` wants ``Authorization: Bearer <token>`` (constant-time
    compare). Checked before a body is read."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"authorization", b"")
        scheme, _, given = header.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
            response = problem(
                401,
                "Unauthenticated",
                "this server wants an API token: send 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with ``413``: from Content-Length before reading,
    or while streaming when there is none."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> str:
        return (
            f"request body over the {mb(self.max_bytes)} limit (one image of up to "
            f"{mb(self.max_bytes - 1024 * 1024)}: upload large images with POST /v1/files)"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                too_big = False
            if too_big:
                await problem(413, "Request too large", self._too_large())(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, self._too_large())
            return message

        await self.app(scope, limited, send)


# -- bodies -----------------------------------------------------------------------------------
class CreatePrediction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    input: PredictionInput
    webhook: str | None = None
    webhook_completed: str | None = None
    webhook_events_filter: list[str] | None = None
    stream: bool | None = None


class CreateModelPrediction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: PredictionInput
    webhook: str | None = None
    webhook_completed: str | None = None
    webhook_events_filter: list[str] | None = None
    stream: bool | None = None


def prefer_wait(header: str | None) -> float | None:
    """Seconds asked for by ``Prefer: wait`` (60) or ``Prefer: wait=N`` (1..60); None if absent."""
    if not header:
        return None
    for part in header.split(","):
        part = part.strip().lower()
        if part == "wait":
            return float(MAX_WAIT_S)
        m = re.fullmatch(r"wait\s*=\s*(\d{1,6})", part)
        if m:
            return float(min(max(int(m.group(1)), 1), MAX_WAIT_S))
    return None


def create_app(
    config: ServiceConfig,
    *,
    catalog: Catalog | None = None,
    engine_factory: EngineFactory | None = None,
    jobs: JobQueue | None = None,
) -> FastAPI:
    """The ASGI app. ``engine_factory`` replaces the engine cache (tests inject gated engines);
    ``jobs`` shares an existing worker queue (the studio serving its own window)."""
    catalog = catalog or build_catalog(
        config.model, discover=config.discover_models, extra_dirs=config.extra_model_dirs
    )
    service = PredictionService(config, engine_factory=engine_factory, jobs=jobs)
    started_at = time.time()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.attach(asyncio.get_running_loop())

        async def sweeper() -> None:
            while True:
                await asyncio.sleep(min(60.0, max(1.0, config.keep_seconds / 4)))
                service.sweep()

        task = asyncio.create_task(sweeper())
        try:
            yield
        finally:
            task.cancel()
            await run_in_threadpool(service.close)

    app = FastAPI(
        title="Inpaint Studio predictions API",
        version="1",
        description="Create a prediction, long-poll it. Shapes of the hosted predictions API.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.catalog = catalog
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    if config.token:
        app.add_middleware(BearerAuth, token=config.token)

    @app.exception_handler(RequestValidationError)
    async def on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "Invalid request", _validation_detail(list(exc.errors())))

    @app.exception_handler(HTTPException)
    async def on_http(_request: Request, exc: HTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}
        return problem(
            exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail), exc.headers
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_starlette_http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return await on_http(_request, HTTPException(exc.status_code, exc.detail, exc.headers))

    # -- helpers -----------------------------------------------------------------------------
    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def entry_or_404(owner: str, name: str) -> ModelEntry:
        entry = catalog.by_slug(owner, name)
        if entry is None:
            raise HTTPException(
                404, f"model {owner}/{name} is not served here (GET /v1/models lists them)"
            )
        return entry

    def prediction_or_404(pid: str) -> Prediction:
        pred = service.predictions.get(pid)
        if pred is None:
            raise HTTPException(404, f"no prediction {pid} (expired, or never made here)")
        return pred

    def version_json(entry: ModelEntry) -> dict[str, Any]:
        return {
            "id": entry.version_id,
            "created_at": iso(started_at),
            "cog_version": "inpaint-studio",
            "openapi_schema": openapi_schema(entry),
        }

    def model_json(request: Request, entry: ModelEntry) -> dict[str, Any]:
        runs = sum(1 for p in service.predictions.values() if p.entry.slug == entry.slug)
        return {
            "url": f"{base(request)}/v1/models/{entry.slug}",
            "owner": entry.owner,
            "name": entry.name,
            "description": entry.description,
            "visibility": "public",
            "github_url": None,
            "paper_url": None,
            "license_url": None,
            "run_count": runs,
            "cover_image_url": None,
            "default_example": None,
            "latest_version": version_json(entry),
        }

    def retry_after() -> str:
        times = [
            p.predict_time for p in service.predictions.values() if p.predict_time is not None
        ][-20:]
        mean = sum(times) / len(times) if times else 1.0
        return str(min(60, max(1, math.ceil(mean))))

    async def start(
        request: Request,
        entry: ModelEntry,
        body: CreatePrediction | CreateModelPrediction,
        prefer: str | None,
    ) -> JSONResponse:
        if body.webhook or body.webhook_completed:
            return problem(422, "Invalid request", "webhook: webhooks are not supported here")
        raw = body.input.model_dump(exclude_unset=True)
        try:
            pred = service.create(entry, body.input, raw, request.base_url.netloc)
        except (InputError, SourceError) as exc:
            return problem(422, "Invalid input", f"input.{exc}")
        except QueueFull:
            return problem(
                429,
                "Too many requests",
                f"the queue is full ({config.queue_size} waiting): retry later",
                headers={"Retry-After": retry_after()},
            )
        wait = prefer_wait(prefer)
        status = None
        if wait:
            await service.wait(pred, wait)
            # The hosted API answers a blocking create that ran out of time with "starting"
            # (its client reads anything else as final and would not poll): do the same.
            if pred.status not in TERMINAL:
                status = "starting"
        return JSONResponse(pred.to_json(base(request), status=status), status_code=201)

    # -- predictions -------------------------------------------------------------------------
    @app.post("/v1/predictions", status_code=201)
    async def create_prediction(
        request: Request, body: CreatePrediction, prefer: str | None = Header(None)
    ) -> JSONResponse:
        version = body.version.rsplit(":", 1)[-1]
        entry = catalog.by_version(version)
        if entry is None:
            return problem(
                422,
                "Invalid version",
                f"version: no model version {body.version!r} here "
                "(GET /v1/models/{owner}/{name} gives latest_version.id)",
            )
        return await start(request, entry, body, prefer)

    @app.post("/v1/models/{owner}/{name}/predictions", status_code=201)
    async def create_model_prediction(
        request: Request,
        owner: str,
        name: str,
        body: CreateModelPrediction,
        prefer: str | None = Header(None),
    ) -> JSONResponse:
        return await start(request, entry_or_404(owner, name), body, prefer)

    @app.get("/v1/predictions")
    async def list_predictions(request: Request, cursor: str | None = None) -> dict[str, Any]:
        before = None
        if cursor is not None:
            if not cursor.isdigit() or len(cursor) > 18:
                raise HTTPException(400, "cursor: not a cursor this server gave")
            before = int(cursor)
        page, nxt = service.page(before)
        url = f"{base(request)}/v1/predictions"
        return {
            "previous": None,
            "next": f"{url}?cursor={nxt}" if nxt is not None else None,
            "results": [p.to_json(base(request)) for p in page],
        }

    @app.get("/v1/predictions/{pid}")
    async def get_prediction(
        request: Request, pid: str, prefer: str | None = Header(None)
    ) -> dict[str, Any]:
        pred = prediction_or_404(pid)
        wait = prefer_wait(prefer)
        if wait:
            await service.wait(pred, wait)
        return pred.to_json(base(request))

    @app.post("/v1/predictions/{pid}/cancel")
    async def cancel_prediction(request: Request, pid: str) -> dict[str, Any]:
        pred = prediction_or_404(pid)
        await service.cancel(pred)
        return pred.to_json(base(request))

    @app.get("/v1/predictions/{pid}/preview.png")
    async def get_preview(pid: str) -> Response:
        """The latest step preview of a running prediction (ours: ``urls.preview``)."""
        pred = prediction_or_404(pid)
        png = pred.preview_png
        if png is None or pred.status != "processing":
            raise HTTPException(404, f"prediction {pid} has no step preview now")
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/v1/predictions/{pid}/output/{filename}")
    async def get_output(pid: str, filename: str) -> FileResponse:
        pred = prediction_or_404(pid)
        if not _OUTPUT_NAME.match(filename) or filename not in pred.outputs:
            raise HTTPException(404, f"prediction {pid} has no output {filename}")
        return FileResponse(pred.out_dir / filename, media_type="image/png")

    # -- models ------------------------------------------------------------------------------
    @app.get("/v1/models")
    async def list_models(request: Request) -> dict[str, Any]:
        return {
            "previous": None,
            "next": None,
            "results": [model_json(request, e) for e in catalog.entries],
        }

    @app.get("/v1/models/{owner}/{name}")
    async def get_model(request: Request, owner: str, name: str) -> dict[str, Any]:
        return model_json(request, entry_or_404(owner, name))

    @app.get("/v1/models/{owner}/{name}/versions")
    async def list_versions(owner: str, name: str) -> dict[str, Any]:
        entry = entry_or_404(owner, name)
        return {"previous": None, "next": None, "results": [version_json(entry)]}

    @app.get("/v1/models/{owner}/{name}/versions/{version_id}")
    async def get_version(owner: str, name: str, version_id: str) -> dict[str, Any]:
        entry = entry_or_404(owner, name)
        if version_id != entry.version_id:
            raise HTTPException(404, f"{entry.slug} has no version {version_id}")
        return version_json(entry)

    # -- files -------------------------------------------------------------------------------
    @app.post("/v1/files", status_code=201)
    async def create_file(
        request: Request,
        content: UploadFile = File(...),  # noqa: B008 - FastAPI's way of declaring a part
        metadata: str | None = Form(None),  # noqa: B008
    ) -> JSONResponse:
        data = await content.read()
        if len(data) > config.max_image_bytes:
            return problem(
                413, "Request too large", f"content: over the {mb(config.max_image_bytes)} limit"
            )
        meta: dict[str, Any] = {}
        if metadata:
            try:
                meta = json.loads(metadata)
            except ValueError:
                return problem(422, "Invalid request", "metadata: not valid JSON")
            if not isinstance(meta, dict):
                return problem(422, "Invalid request", "metadata: must be a JSON object")
        upload = await service.add_file(
            data,
            content.filename or "file",
            content.content_type or "application/octet-stream",
            meta,
        )
        return JSONResponse(upload.to_json(base(request), config.keep_seconds), status_code=201)

    @app.get("/v1/files")
    async def list_files(request: Request) -> dict[str, Any]:
        return {
            "previous": None,
            "next": None,
            "results": [
                f.to_json(base(request), config.keep_seconds) for f in service.files.values()
            ],
        }

    def file_or_404(fid: str):
        upload = service.files.get(fid)
        if upload is None:
            raise HTTPException(404, f"no file {fid} (expired, or never uploaded)")
        return upload

    @app.get("/v1/files/{fid}")
    async def get_file(request: Request, fid: str) -> dict[str, Any]:
        return file_or_404(fid).to_json(base(request), config.keep_seconds)

    @app.get("/v1/files/{fid}/download")
    async def download_file(fid: str) -> FileResponse:
        upload = file_or_404(fid)
        # served as bytes unless it says it is an image: an upload must not become a page here
        ctype = upload.content_type if upload.content_type.startswith("image/") else None
        return FileResponse(
            upload.path, media_type=ctype or "application/octet-stream", filename=upload.name
        )

    @app.delete("/v1/files/{fid}", status_code=204)
    async def delete_file(fid: str) -> Response:
        upload = file_or_404(fid)
        service.files.pop(fid, None)
        upload.path.unlink(missing_ok=True)
        return Response(status_code=204)

    return app
