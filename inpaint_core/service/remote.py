"""An engine that runs on a remote ``inpaint-studio-cli serve`` through the predictions API.

It implements the one :class:`~inpaint_core.engines.base.Engine` interface, so everything that
drives an engine (the job queue, the studio's generation and Compare, the CLI) can run on another
machine's GPU unchanged: the same progress events (read from the prediction's logs), step previews
(our server's ``urls.preview`` while a prediction runs: a small PNG, fetched at most once per
``preview_interval_s`` when the step changed), cancel (``POST .../cancel``, which stops the remote
job within one step), one output per seed and the safety checker's verdict (``nsfw_flagged``; a
server that lacks the field is read from its logs).

The engine sees only the working crop, already on the model's grid, so it sends *that* as the
photo with a padding that covers all of it and ``target_size`` equal to its long side: the server
then works on exactly this grid (no second resample). Growing, feathering and pasting back stay
on this side, as for a local engine: the server is told not to grow the mask again and to send
its fill of the whole crop (``paste_back: false``), not a composite.
"""

from __future__ import annotations

import base64
import io
import re
import time
from typing import Any

import numpy as np
import requests
from PIL import Image

from ..engines.base import EngineOutput
from ..errors import InpaintError, JobCancelled
from ..events import CancelToken, EngineEvent, EventCallback
from ..request import InpaintRequest
from ..schedulers import canonical_scheduler_name
from .catalog import CLASSICAL_NAME, OWNER, SD_NAME

_PROGRESS = re.compile(r"^\s*(\d+)%\|.*\|\s*(\d+)/(\d+)")
_FLAGGED = re.compile(r"^output (\d+) \(seed (\d+)\) was flagged")
_MAX_API_OUTPUTS = 4


def _png_data_uri(array: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _seed_groups(seeds: list[int]) -> list[list[int]]:
    """Runs of consecutive seeds (one prediction each: the API has ``seed`` + ``num_outputs``)."""
    groups: list[list[int]] = []
    for s in seeds:
        if groups and s == groups[-1][-1] + 1 and len(groups[-1]) < _MAX_API_OUTPUTS:
            groups[-1].append(s)
        else:
            groups.append([s])
    return groups


def server_model(model: str | None) -> str | None:
    """``model`` when it names one of a server's models (``inpaint-studio/<name>``), else None
    (a local path or a hub id: the server runs its own ``--model`` instead)."""
    if model and model.startswith(f"{OWNER}/") and model.count("/") == 1:
        return model
    return None


def list_server_models(url: str, token: str | None = None, timeout: float = 10.0) -> list[str]:
    """The slugs of the diffusion models a server offers (``GET /v1/models``), its ``--model``
    first; raises :class:`InpaintError` when it cannot be asked."""
    engine = RemoteEngine(url, token, timeout=timeout)
    results = engine._call("GET", "/v1/models").json().get("results") or []
    slugs = [f"{m.get('owner')}/{m.get('name')}" for m in results if isinstance(m, dict)]
    slugs = [s for s in slugs if s != f"{OWNER}/{CLASSICAL_NAME}"]
    default = f"{OWNER}/{SD_NAME}"
    return sorted(slugs, key=lambda s: (s != default, s))


class RemoteEngine:
    """Fill crops on a remote server. ``model`` is the slug to run (default: the server's
    ``--model``); the classical engine runs as ``inpaint-studio/classical``."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        engine: str = "diffusion",
        model: str | None = None,
        poll_interval: float = 0.1,
        timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.name = engine
        self.native_resolution = engine == "classical"
        self.model = model or f"{OWNER}/{SD_NAME if engine == 'diffusion' else CLASSICAL_NAME}"
        self.model_name = f"{self.model} @ {self.url}"
        self.poll_interval = poll_interval
        self.timeout = timeout
        #: fetch step previews (the studio's policy, like a local engine's ``preview``)
        self.preview = True
        self.preview_interval_s = 0.25
        self._session = requests.Session()
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    # -- HTTP -------------------------------------------------------------------------------
    def _call(self, method: str, path_or_url: str, **kw: Any) -> Any:
        url = path_or_url if path_or_url.startswith("http") else self.url + path_or_url
        try:
            resp = self._session.request(method, url, timeout=self.timeout, **kw)
        except requests.RequestException as exc:
            raise InpaintError(f"remote server {self.url}: cannot reach it ({exc})") from None
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail") or resp.text
            except ValueError:
                detail = resp.text[:200]
            raise InpaintError(f"remote server {self.url}: HTTP {resp.status_code}: {detail}")
        return resp

    def _input(self, request: InpaintRequest, image: np.ndarray, mask: np.ndarray) -> dict:
        h, w = image.shape[:2]
        inp: dict[str, Any] = {
            "image": _png_data_uri(image),
            "mask": _png_data_uri(mask),
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "num_inference_steps": request.steps,
            "guidance_scale": request.guidance_scale,
            "strength": request.strength,
            "disable_safety_checker": not request.safety_checker,
            "engine": request.engine,
            "mask_padding": min(max(w, h), 2048),
            "mask_grow": 0,
            "mask_feather": 0,
            "paste_back": False,
        }
        if request.engine == "diffusion":
            inp["scheduler"] = canonical_scheduler_name(request.scheduler)
            # the crop's own aspect at its own long side: exactly this grid (multiples of 8)
            inp["target_size"] = max(w, h)
        method = request.options.method
        if method:
            inp["method"] = method
        return inp

    # -- the engine -------------------------------------------------------------------------
    def run(
        self,
        request: InpaintRequest,
        image: np.ndarray,
        mask: np.ndarray,
        on_event: EventCallback,
        cancel: CancelToken,
    ) -> list[EngineOutput]:
        seeds = list(request.resolved().seeds or ())
        base = self._input(request, image, mask)
        outputs: list[EngineOutput] = []
        groups = _seed_groups(seeds)
        for i, group in enumerate(groups):
            cancel.raise_if_cancelled()
            inp = {**base, "seed": group[0], "num_outputs": len(group)}
            outputs += self._predict(inp, group, on_event, cancel, (i, len(groups)))
        return outputs

    def _predict(
        self,
        inp: dict[str, Any],
        seeds: list[int],
        on_event: EventCallback,
        cancel: CancelToken,
        part: tuple[int, int],
    ) -> list[EngineOutput]:
        pred = self._call("POST", f"/v1/models/{self.model}/predictions", json={"input": inp})
        pred = pred.json()
        get_url, cancel_url = pred["urls"]["get"], pred["urls"]["cancel"]
        last = None
        shown_step, shown_at = -1, float("-inf")
        while pred["status"] not in ("succeeded", "failed", "canceled"):
            if cancel.cancelled:
                self._call("POST", cancel_url)
                raise JobCancelled("cancelled (the remote job was stopped)")
            time.sleep(self.poll_interval)
            pred = self._call("GET", get_url).json()
            progress = self._progress(pred.get("logs") or "")
            if progress is not None and progress != last:
                last = progress
                pct, step, total = progress
                on_event(
                    EngineEvent(
                        "progress",
                        progress=(part[0] + pct / 100) / part[1],
                        step=step,
                        total_steps=total,
                        message=f"remote: step {step}/{total}",
                    )
                )
            preview_url = (pred.get("urls") or {}).get("preview")
            step_now = last[1] if last is not None else 0
            now = time.monotonic()
            if (
                self.preview
                and preview_url
                and step_now != shown_step
                and now - shown_at >= self.preview_interval_s
            ):
                shown_step, shown_at = step_now, now
                rgb = self._preview(preview_url)
                if rgb is not None:
                    on_event(EngineEvent("preview", step=step_now, preview=rgb))
        if pred["status"] == "canceled":
            raise JobCancelled("the remote job was cancelled")
        if pred["status"] == "failed":
            raise InpaintError(f"remote server: {pred.get('error') or 'the prediction failed'}")
        flagged = set(pred.get("nsfw_flagged") or ()) or self._flagged(pred.get("logs") or "")
        results = []
        for k, (url, seed) in enumerate(zip(pred["output"], seeds, strict=True)):
            blob = self._call("GET", url).content
            rgb = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
            results.append(EngineOutput(rgb, seed=seed, nsfw_flagged=k in flagged))
        return results

    def _preview(self, url: str) -> np.ndarray | None:
        """The running prediction's latest step preview, or None (it just ended, or a bad PNG:
        a preview is a nicety, never a failure)."""
        try:
            blob = self._call("GET", url).content
            return np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
        except (InpaintError, OSError, ValueError):
            return None

    @staticmethod
    def _progress(logs: str) -> tuple[int, int, int] | None:
        for line in reversed(logs.splitlines()):
            m = _PROGRESS.match(line)
            if m:
                return int(m.group(1)), int(m.group(2)), int(m.group(3))
        return None

    @staticmethod
    def _flagged(logs: str) -> set[int]:
        return {int(m.group(1)) for line in logs.splitlines() if (m := _FLAGGED.match(line))}
