"""The model manager: download models (a curated list, any Hugging Face repo id, or a URL) into
the app's models folder, and remove them. Listing is :func:`inpaint_core.models.list_models`.

Why the file transfer is ours and not ``hf_hub_download``: huggingface_hub (2.x) deletes a
partial file when a download fails, so a 7 GB SDXL checkpoint cut at 90 % starts again from zero.
Here each file streams into ``<dest>/.partial/<file>.part`` and a later run continues it with an
HTTP ``Range`` request. Everything else is huggingface_hub's: the repo listing with sizes and
checksums (``HfApi.repo_info(files_metadata=True)``), its HTTP session and auth headers (token
for gated repos), and its error types (``GatedRepoError`` …).

Guarantees:

* **disk space** is checked before the first byte (the bytes still missing, plus a margin);
* **checksum**: every file is checked against the hub's SHA-256 (LFS files) or git blob SHA-1
  (small files), or a given ``sha256`` for a URL; a mismatch deletes the file and says so;
* **cancel**: a :class:`~inpaint_core.events.CancelToken` stops between chunks, keeping the part
  for a resume;
* **offline** (``HF_HUB_OFFLINE=1``, read at call time): no request is made at all;
* a finished file is moved into place atomically (``os.replace``), the folder is complete
  only when its marker (``.inpaint-studio-download.json``) is written last.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from ..errors import InpaintError, JobCancelled
from ..events import CancelToken
from ..files import atomic_write_bytes
from .discovery import looks_like_repo_id, models_dir

DEFAULT_ENDPOINT = "https://huggingface.co"
MARKER = ".inpaint-studio-download.json"
PARTIAL_DIR = ".partial"
CHUNK = 1 << 20
DISK_MARGIN = 64 << 20  # keep this much free beyond the download


class DownloadError(InpaintError):
    """A download could not start or finish (message says why and what to do)."""


# -- the curated list -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogEntry:
    name: str
    repo_id: str
    description: str
    kind: str = "model"  # "model" (a diffusers folder) | "lora" (one file into loras/)
    variant: str | None = None  # "fp16": take *.fp16.safetensors weights
    file: str | None = None  # LoRA: the one file to fetch
    license: str | None = None  # a licence the user must accept first (gated repos)
    gated: bool = False
    approx_gb: float = 0.0
    vram_gb: float = 0.0


CATALOG: dict[str, CatalogEntry] = {
    e.name: e
    for e in (
        CatalogEntry(
            "sd15-inpainting",
            "stable-diffusion-v1-5/stable-diffusion-inpainting",
            "Stable Diffusion 1.5 inpainting (512 px; runs on CPU)",
            variant="fp16",
            approx_gb=2.1,
            vram_gb=3,
        ),
        CatalogEntry(
            "sdxl-inpainting",
            "diffusers/stable-diffusion-xl-1.0-inpainting-0.1",
            "SDXL inpainting 0.1 (1024 px)",
            variant="fp16",
            approx_gb=7.0,
            vram_gb=8,
        ),
        CatalogEntry(
            "flux-fill-dev",
            "black-forest-labs/FLUX.1-Fill-dev",
            "FLUX.1 Fill [dev] (1024 px; gated, non-commercial licence)",
            license="FLUX.1 [dev] Non-Commercial License "
            "(https://huggingface.co/black-forest-labs/FLUX.1-Fill-dev/blob/main/LICENSE.md)",
            gated=True,
            approx_gb=34.0,
            vram_gb=24,
        ),
        CatalogEntry(
            "lcm-lora-sdxl",
            "latent-consistency/lcm-lora-sdxl",
            "LCM-LoRA for SDXL: 4-8 steps at CFG ~1.5 (few-step LoRA)",
            kind="lora",
            file="pytorch_lora_weights.safetensors",
            approx_gb=0.4,
        ),
    )
}


# -- progress -------------------------------------------------------------------------------------
@dataclass
class DownloadProgress:
    """Bytes done of the total for the whole download, and an ETA from the rate so far."""

    done: int
    total: int
    file: str
    started: float = field(default_factory=time.monotonic)
    resumed: int = 0  # bytes that were already there when this run started

    @property
    def eta_s(self) -> float | None:
        elapsed = time.monotonic() - self.started
        fetched = self.done - self.resumed
        if fetched <= 0 or elapsed <= 0:
            return None
        return max(self.total - self.done, 0) / (fetched / elapsed)


ProgressFn = Callable[[DownloadProgress], None]


@dataclass(frozen=True)
class RemoteFile:
    path: str  # path in the repo (or the file name for a URL)
    url: str
    size: int | None
    sha256: str | None = None
    git_sha1: str | None = None  # git blob id of a small (non-LFS) file


@dataclass(frozen=True)
class DownloadPlan:
    source: str  # what the user asked for: catalog name, repo id or URL
    dest: Path  # the folder (model) or the file (LoRA / URL)
    files: tuple[RemoteFile, ...]
    repo_id: str | None = None
    commit: str | None = None
    kind: str = "model"

    @property
    def total_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files)


# -- environment, read at call time ---------------------------------------------------------------
def offline() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE", "")
    return value.strip().upper() in ("1", "ON", "YES", "TRUE")


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def _token(token: str | None) -> str | None:
    return token or os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")


def _refuse_offline(what: str) -> None:
    """Refuse in offline mode; otherwise make huggingface_hub agree that we are online.

    huggingface_hub reads ``HF_HUB_OFFLINE`` once, at import, and then blocks every request of
    its session; the app runs offline by default and goes online only when the user asks for a
    download, so the flag is brought in line with the environment *now*."""
    if offline():
        raise DownloadError(
            f"cannot download {what}: offline mode is on (HF_HUB_OFFLINE=1). Unset it to download."
        )
    from huggingface_hub import constants

    constants.HF_HUB_OFFLINE = False


# -- planning -------------------------------------------------------------------------------------
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth", ".msgpack", ".onnx", ".h5")
_SKIP = ("*.onnx", "*.onnx_data", "*.msgpack", "*.h5", "*.pb", "*.ot", "*.md", "*.png", "*.jpg")


def select_files(names: list[str], variant: str | None = None) -> list[str]:
    """The files of a diffusers repo that loading needs: configs and tokenizers of every
    component, and one set of weights per component (``variant`` ones when asked and present,
    ``.safetensors`` over pickles; never the root-level single-file checkpoints repos also ship)."""
    chosen: list[str] = []
    by_folder: dict[str, list[str]] = {}
    for name in names:
        if any(fnmatch(name.lower(), p) for p in _SKIP) or name.startswith("."):
            continue
        folder, _, base = name.rpartition("/")
        if not folder:
            if name == "model_index.json":
                chosen.append(name)
            continue
        if (
            base.endswith(_WEIGHT_SUFFIXES)
            or base.endswith(".index.json")
            and "safetensors" in base
        ):
            by_folder.setdefault(folder, []).append(name)
        else:
            chosen.append(name)
    for weights in by_folder.values():
        tagged = [w for w in weights if variant and f".{variant}." in w.rpartition("/")[2]]
        plain = [w for w in weights if not any(f".{v}." in w for v in ("fp16", "bf16", "fp32"))]
        # .safetensors first; a pickle .bin only where a component has nothing else (diffusers
        # opens it with weights_only=True)
        for suffixes in ((".safetensors", ".json"), (".bin",)):
            pick = next(
                (
                    [w for w in pool if w.endswith(suffixes)]
                    for pool in (tagged, plain, weights)
                    if any(w.endswith(suffixes) for w in pool)
                ),
                [],
            )
            if pick:
                chosen.extend(pick)
                break
    return sorted(chosen)


def _repo_info(repo_id: str, revision: str | None, token: str | None) -> Any:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    api = HfApi(endpoint=endpoint(), token=_token(token) or False)
    try:
        return api.model_info(repo_id, revision=revision, files_metadata=True)
    except GatedRepoError:
        raise DownloadError(
            f"{repo_id} is a gated repository: accept its licence at "
            f"https://huggingface.co/{repo_id} while logged in, then pass --token or set HF_TOKEN "
            "(a read token from https://huggingface.co/settings/tokens)"
        ) from None
    except RepositoryNotFoundError:
        hint = "" if _token(token) else " (or it is private: pass --token)"
        raise DownloadError(f"no model repository {repo_id!r} on the hub{hint}") from None
    except RevisionNotFoundError:
        raise DownloadError(f"{repo_id} has no revision {revision!r}") from None
    except HfHubHTTPError as exc:
        raise DownloadError(f"the hub refused to list {repo_id}: {exc}") from None
    except Exception as exc:  # connection refused, DNS, timeout
        raise DownloadError(
            f"cannot reach the hub at {endpoint()}: {type(exc).__name__}: {exc}"
        ) from None


def plan_download(
    source: str,
    *,
    dest_dir: Path | None = None,
    revision: str | None = None,
    token: str | None = None,
    file: str | None = None,
    variant: str | None = None,
    sha256: str | None = None,
    accept_license: bool = False,
) -> DownloadPlan:
    """What downloading ``source`` (a catalog name, ``org/name`` repo id or http(s) URL) fetches
    and where it goes. Talks to the hub (listing only); refuses in offline mode."""
    root = Path(dest_dir) if dest_dir else models_dir()
    entry = CATALOG.get(source)
    if entry is not None:
        if entry.license and not accept_license:
            raise DownloadError(
                f"{entry.name} is under the {entry.license}: read it, then download again with "
                "--accept-license"
            )
        file = file or entry.file
        variant = variant or entry.variant
    _refuse_offline(source)
    if source.startswith(("http://", "https://")):
        name = Path(urlparse(source).path).name or "download"
        sub = "loras" if "lora" in name.lower() else ""
        dest = (root / sub / name) if sub else root / name
        return DownloadPlan(source, dest, (RemoteFile(name, source, None, sha256),), kind="url")
    repo_id = entry.repo_id if entry else source
    if not looks_like_repo_id(repo_id):
        names = ", ".join(CATALOG)
        raise DownloadError(
            f"{source!r} is not a catalogue name ({names}), a repo id (org/name) or an http(s) URL"
        )
    info = _repo_info(repo_id, revision, token)
    siblings = {s.rfilename: s for s in (info.siblings or [])}
    commit = info.sha or revision or "main"
    is_lora = (entry is not None and entry.kind == "lora") or (
        file is not None and "model_index.json" not in siblings
    )
    if file is not None:
        if file not in siblings:
            raise DownloadError(f"{repo_id} has no file {file!r}")
        wanted = [file]
    elif "model_index.json" in siblings:
        wanted = select_files(list(siblings), variant)
    else:
        wanted = [n for n in siblings if n.endswith(".safetensors") and "/" not in n]
        if len(wanted) != 1:
            listing = ", ".join(sorted(wanted)[:6]) or "none"
            raise DownloadError(
                f"{repo_id} is not a diffusers pipeline (no model_index.json); pick one file with "
                f"--file (.safetensors files: {listing})"
            )
        is_lora = is_lora or "lora" in (repo_id + wanted[0]).lower()
    base = endpoint()
    files = []
    for path in wanted:
        s = siblings[path]
        lfs = getattr(s, "lfs", None)
        sha = (
            (lfs.get("sha256") if isinstance(lfs, dict) else getattr(lfs, "sha256", None))
            if lfs
            else None
        )
        url = f"{base}/{repo_id}/resolve/{quote(commit, safe='')}/{quote(path)}"
        files.append(RemoteFile(path, url, s.size, sha, None if sha else s.blob_id))
    repo_name = repo_id.rsplit("/", 1)[1]
    if is_lora or (file is not None and len(files) == 1):
        stem = entry.name if entry else repo_name
        suffix = Path(files[0].path).suffix
        dest = root / ("loras" if is_lora else "") / f"{stem}{suffix}"
        kind = "lora" if is_lora else "file"
    else:
        dest = root / (entry.name if entry else repo_name)
        kind = "model"
    return DownloadPlan(source, dest, tuple(files), repo_id, commit, kind)


# -- transfer -------------------------------------------------------------------------------------
def _partial_path(plan: DownloadPlan, f: RemoteFile) -> Path:
    base = plan.dest if plan.kind == "model" else plan.dest.parent
    return base / PARTIAL_DIR / (f.path.replace("/", "__") + ".part")


def _final_path(plan: DownloadPlan, f: RemoteFile) -> Path:
    return plan.dest / f.path if plan.kind == "model" else plan.dest


def _verify(path: Path, f: RemoteFile) -> None:
    if f.size is not None and path.stat().st_size != f.size:
        raise DownloadError(
            f"{f.path}: got {path.stat().st_size} bytes, the hub says {f.size}: corrupt download "
            "(deleted; download again)"
        )
    if f.sha256:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(CHUNK), b""):
                h.update(block)
        if h.hexdigest() != f.sha256.lower():
            raise DownloadError(
                f"{f.path}: checksum mismatch (SHA-256 {h.hexdigest()[:12]}… expected "
                f"{f.sha256[:12]}…): corrupt download (deleted; download again)"
            )
    elif f.git_sha1:
        h = hashlib.sha1(usedforsecurity=False)
        h.update(f"blob {path.stat().st_size}\0".encode())
        h.update(path.read_bytes())
        if h.hexdigest() != f.git_sha1:
            raise DownloadError(f"{f.path}: checksum mismatch: corrupt download (deleted)")


def _check_space(plan: DownloadPlan, missing: int) -> None:
    target = plan.dest if plan.dest.exists() else plan.dest.parent
    while not target.exists():
        target = target.parent
    free = shutil.disk_usage(target).free
    if missing + DISK_MARGIN > free:
        raise DownloadError(
            f"not enough disk space for {plan.source}: {_gb(missing)} still to download, "
            f"{_gb(free)} free at {target}"
        )


def _gb(n: int) -> str:
    return f"{n / 2**30:.2f} GB" if n >= 2**28 else f"{n / 2**20:.1f} MB"


def download(
    plan: DownloadPlan,
    *,
    token: str | None = None,
    on_progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Fetch every file of ``plan`` (resuming parts from an earlier run), verify, and move into
    place. Returns the model folder or file."""
    from huggingface_hub.utils import build_hf_headers, get_session

    _refuse_offline(plan.source)
    cancel = cancel or CancelToken()
    pending = [f for f in plan.files if not _final_path(plan, f).is_file()]
    have = {
        id(f): (_partial_path(plan, f).stat().st_size if _partial_path(plan, f).is_file() else 0)
        for f in pending
    }
    done_bytes = sum(f.size or 0 for f in plan.files if f not in pending)
    missing = sum(max((f.size or 0) - have[id(f)], 0) for f in pending)
    _check_space(plan, missing)
    progress = DownloadProgress(done_bytes + sum(have.values()), plan.total_bytes, "")
    progress.resumed = progress.done
    headers = build_hf_headers(token=_token(token) or False) if plan.repo_id else {}
    headers["Accept-Encoding"] = "identity"
    session = get_session()
    for f in pending:
        cancel.raise_if_cancelled()
        part = _partial_path(plan, f)
        part.parent.mkdir(parents=True, exist_ok=True)
        progress.file = f.path
        _fetch(session, f, part, dict(headers), progress, on_progress, cancel)
        try:
            _verify(part, f)
        except DownloadError:
            part.unlink(missing_ok=True)
            raise
        final = _final_path(plan, f)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, final)
    partial_root = _partial_path(plan, plan.files[0]).parent
    shutil.rmtree(partial_root, ignore_errors=True)
    if plan.kind == "model":
        marker = {
            "source": plan.source,
            "repo_id": plan.repo_id,
            "commit": plan.commit,
            "files": [f.path for f in plan.files],
        }
        atomic_write_bytes(plan.dest / MARKER, json.dumps(marker, indent=2).encode())
    return plan.dest


def _fetch(
    session: Any,
    f: RemoteFile,
    part: Path,
    headers: dict[str, str],
    progress: DownloadProgress,
    on_progress: ProgressFn | None,
    cancel: CancelToken,
) -> None:
    start = part.stat().st_size if part.is_file() else 0
    if f.size is not None and start >= f.size:
        return
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        with session.stream("GET", f.url, headers=headers, follow_redirects=True, timeout=30) as r:
            if r.status_code in (401, 403):
                raise DownloadError(
                    f"{f.path}: access denied ({r.status_code}); a gated or private repo needs "
                    "--token (or HF_TOKEN) from an account that accepted its licence"
                )
            if r.status_code == 416 and start:
                return  # the part is already complete
            if r.status_code >= 400:
                raise DownloadError(f"{f.path}: the server answered HTTP {r.status_code}")
            mode = "ab" if start and r.status_code == 206 else "wb"
            if mode == "wb" and start:  # the server ignored the Range: start over
                progress.done -= start
                progress.resumed = min(progress.resumed, progress.done)
            with part.open(mode) as out:
                for chunk in r.iter_bytes():  # as it arrives: a cut keeps every byte received
                    cancel.raise_if_cancelled()
                    out.write(chunk)
                    progress.done += len(chunk)
                    if on_progress is not None:
                        on_progress(progress)
                out.flush()
                os.fsync(out.fileno())
    except (DownloadError, JobCancelled):
        raise
    except Exception as exc:
        kept = part.stat().st_size if part.is_file() else 0
        raise DownloadError(
            f"{f.path}: the download was interrupted ({type(exc).__name__}: {exc}); "
            f"{_gb(kept)} kept, run the same command again to resume"
        ) from None


# -- removing -------------------------------------------------------------------------------------
def remove_model(name_or_path: str) -> Path:
    """Delete a model folder or file from the models folder(s) (a path elsewhere is refused: the
    manager only deletes what lives in its own folders)."""
    from .discovery import models_dirs

    roots = [d.resolve() for d in models_dirs()]
    candidates: list[Path] = []
    given = Path(name_or_path).expanduser()
    if given.exists():
        candidates.append(given.resolve())
    for root in roots:
        for sub in ("", "loras"):
            base = root / sub if sub else root
            candidates += [base / name_or_path, base / f"{name_or_path}.safetensors"]
    for path in candidates:
        if not path.exists():
            continue
        resolved = path.resolve()
        if not any(r in resolved.parents for r in roots):
            raise DownloadError(
                f"{resolved} is not inside the models folder ({', '.join(map(str, roots))}); "
                "delete it yourself if you mean to"
            )
        if resolved.is_dir():
            shutil.rmtree(resolved)
        else:
            resolved.unlink()
        return resolved
    raise DownloadError(f"no model or LoRA named {name_or_path!r} in {', '.join(map(str, roots))}")
