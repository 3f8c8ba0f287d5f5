"""Finding models on disk, cheaply (no weights are read): the app's models folder, extra folders,
and the Hugging Face cache.

A model reference (what a user types after ``--model``) resolves to one of three kinds:

* ``diffusers``: a folder with ``model_index.json`` (one sub-folder per component);
* ``single_file``: one checkpoint file (``.safetensors``, or a pickle ``.ckpt``/``.pt``/``.bin``
  that is only ever opened with ``torch.load(weights_only=True)``);
* ``hf_cache``: a repo id (``org/name``) whose snapshot is already in the Hugging Face cache.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .families import (
    LDM_UNET_IN,
    Detection,
    detect_folder,
    detect_keys,
    few_step_kind,
    precision_of,
)
from .safe_files import (
    read_json,
    read_safetensors_header,
)

MODELS_ENV = "INPAINT_STUDIO_MODELS"
SAFE_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
CHECKPOINT_SUFFIXES = SAFE_SUFFIXES + PICKLE_SUFFIXES
KINDS = ("diffusers", "single_file", "hf_cache")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")


def not_inpainting_message(what: str, in_channels: int) -> str:
    return (
        f"{what} is not an inpainting model: its UNet takes {in_channels} input channels, "
        "inpainting needs 9. Use an inpainting checkpoint (e.g. stable-diffusion-inpainting), "
        "or use it as an inpainting model through masked img2img (lower quality) with "
        "--allow-non-inpainting."
    )


# -- where models live ----------------------------------------------------------------------------
def models_dirs() -> list[Path]:
    """The app's model folders: ``$INPAINT_STUDIO_MODELS`` (``os.pathsep``-separated) or
    ``platformdirs.user_data_path("inpaint-studio") / "models"``. The first is the primary one."""
    env = os.environ.get(MODELS_ENV, "").strip()
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    import platformdirs

    return [platformdirs.user_data_path("inpaint-studio") / "models"]


def models_dir() -> Path:
    return models_dirs()[0]


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment *now* (``huggingface_hub.constants``
    is frozen at import time): ``HF_HUB_CACHE`` > ``HUGGINGFACE_HUB_CACHE`` > ``HF_HOME``/hub >
    ``XDG_CACHE_HOME``/huggingface/hub > ``~/.cache/huggingface/hub``."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        value = os.environ.get(var)
        if value:
            return Path(os.path.expandvars(value)).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(os.path.expandvars(home)).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "huggingface" / "hub"


def folder_in_channels(folder: Path) -> int | None:
    """The UNet's ``in_channels`` from ``unet/config.json`` (None if absent or unreadable)."""
    try:
        value = read_json(folder / "unet" / "config.json", str(folder)).get("in_channels")
    except ModelError:
        return None
    return int(value) if isinstance(value, int) else None


def _tree_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size  # follows HF cache symlinks
            except OSError:
                pass
    return total


@dataclass(frozen=True)
class CheckpointInfo:
    """What the keys of a single-file checkpoint say about it (read without loading weights)."""

    family: str  # "sd1" | "sd2" | "sdxl" | "flux" | "unknown"
    unet_in_channels: int | None  # None: no UNet in the file (a LoRA, a VAE …); Flux: img_in
    unet_width: int | None = None  # output channels of the UNet's first conv (SD-1.x: 320)
    detection: Detection | None = None


def classify_checkpoint(keys: Any, shape_of: Any, name: str = "") -> CheckpointInfo:
    keys = list(keys)
    width = None
    if LDM_UNET_IN in keys:
        shape = shape_of(LDM_UNET_IN)
        if len(shape) == 4:
            width = int(shape[0])
    found = detect_keys(keys, shape_of, name)
    return CheckpointInfo(found.family, found.in_channels, width, found)


def inspect_safetensors(path: Path) -> CheckpointInfo:
    header = read_safetensors_header(path)
    keys = [k for k in header if k != "__metadata__"]
    precision = precision_of(header[k].get("dtype") for k in keys)
    info = classify_checkpoint(keys, lambda k: header[k].get("shape", []), path.stem)
    return replace(info, detection=replace(info.detection, precision=precision))


# -- listing --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelInfo:
    """A model found on disk. ``source`` is what :func:`~inpaint_core.models.load_pipeline` takes
    (a path, or a repo id for ``hf_cache``); ``is_inpainting`` is None when it cannot be told
    without loading the weights (pickle checkpoints)."""

    name: str
    source: str
    kind: str  # "diffusers" | "single_file" | "hf_cache"
    is_inpainting: bool | None
    size_bytes: int
    path: str = ""
    note: str = ""
    family: str = "unknown"  # see inpaint_core.models.families.FAMILY_KEYS
    precision: str | None = None  # "fp32" | "fp16" | "bf16" | "mixed" | None (unknown)
    few_step: str | None = None  # "lcm" | "tcd" | "lightning" | "hyper" | "turbo" | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _channel_note(found: Detection) -> str:
    if found.family == "flux":
        return found.note
    if found.in_channels is not None and found.in_channels != 9:
        return f"UNet takes {found.in_channels} input channels"
    return found.note


def describe_folder(folder: Path, name: str = "") -> ModelInfo:
    found = detect_folder(folder, name or folder.name)
    return ModelInfo(
        name=name or folder.name,
        source=str(folder),
        kind="diffusers",
        is_inpainting=found.inpainting,
        size_bytes=_tree_size(folder),
        path=str(folder),
        note=_channel_note(found),
        family=found.family,
        precision=found.precision,
        few_step=found.few_step,
    )


def describe_file(path: Path) -> ModelInfo:
    inpainting: bool | None = None
    note = ""
    found: Detection | None = None
    if path.suffix.lower() in SAFE_SUFFIXES:
        try:
            info = inspect_safetensors(path)
        except ModelError as exc:
            inpainting, note = False, str(exc).replace(str(path), path.name)
        else:
            found = info.detection
            if info.unet_in_channels is None:
                inpainting, note = False, "no Stable Diffusion UNet inside (a LoRA or a VAE?)"
            else:
                inpainting = bool(found and found.inpainting)
                note = _channel_note(found) if found and found.family == "flux" else ""
                if info.family == "unknown":
                    note = "unknown text encoder"
    else:
        note = "pickle checkpoint: opened with weights_only"
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return ModelInfo(
        path.stem,
        str(path),
        "single_file",
        inpainting,
        size,
        str(path),
        note,
        family=found.family if found else "unknown",
        precision=found.precision if found else None,
        few_step=found.few_step if found else few_step_kind(path.stem),
    )


def _unreadable(entry: Path, exc: BaseException) -> ModelInfo:
    """A listing entry for a file or folder that could not be inspected: named, flagged, skipped
    by pickers (``is_inpainting`` False), never a traceback that hides the other models."""
    reason = " ".join(str(exc).replace(str(entry), entry.name).split()) or type(exc).__name__
    kind = "single_file" if entry.suffix else "diffusers"
    return ModelInfo(
        entry.stem, str(entry), kind, False, 0, str(entry), f"unreadable: {reason[:300]}"
    )


def _scan_dir(directory: Path) -> list[ModelInfo]:
    found: list[ModelInfo] = []
    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name.lower())
    except OSError:
        return found
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir() and (entry / "model_index.json").is_file():
                found.append(describe_folder(entry))
            elif entry.is_file() and entry.suffix.lower() in (".safetensors", ".ckpt"):
                found.append(describe_file(entry))
        except (ModelError, OSError, ValueError, TypeError, RecursionError) as exc:
            found.append(_unreadable(entry, exc))
    return found


def _scan_hf_cache(cache: Path) -> list[ModelInfo]:
    """Diffusers pipelines (a snapshot with ``model_index.json``) in the HF cache. Tolerates a
    missing or odd cache (returns what it can)."""
    found: list[ModelInfo] = []
    if not cache.is_dir():
        return found
    try:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir(cache)
    except Exception:  # a missing/corrupt cache is not an error for listing
        return found
    for repo in sorted(info.repos, key=lambda r: r.repo_id.lower()):
        if repo.repo_type != "model":
            continue
        try:
            snapshot = snapshot_dir(cache, repo.repo_id)
        except ModelError:
            continue
        info_ = describe_folder(snapshot, repo.repo_id)
        found.append(
            replace(info_, source=repo.repo_id, kind="hf_cache", size_bytes=int(repo.size_on_disk))
        )
    return found


def list_models(
    extra_dirs: list[Path] | None = None, *, include_hf_cache: bool = True
) -> list[ModelInfo]:
    """Every model found: folders and ``.safetensors``/``.ckpt`` files directly in the models
    folder(s) and ``extra_dirs``, then diffusers repos in the Hugging Face cache. No weights are
    loaded (``.safetensors`` headers are read; pickles are not opened)."""
    dirs: list[Path] = []
    for d in [*models_dirs(), *(Path(p).expanduser() for p in (extra_dirs or []))]:
        if d not in dirs:
            dirs.append(d)
    found: list[ModelInfo] = []
    for d in dirs:
        found.extend(_scan_dir(d))
    if include_hf_cache:
        found.extend(_scan_hf_cache(hf_cache_dir()))
    return found


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def format_model_table(models: list[ModelInfo]) -> str:
    """A plain-text table for ``inpaint-studio-cli models``."""
    if not models:
        return (
            "No models found.\n"
            f"Put a diffusers folder or a .safetensors file in {models_dir()}\n"
            f"(or set {MODELS_ENV}), or download a repo into the Hugging Face cache at "
            f"{hf_cache_dir()}."
        )
    yes_no = {True: "yes", False: "no", None: "?"}
    labels = {"sd1": "SD 1.x", "sd2": "SD 2.x", "sdxl": "SDXL", "flux": "FLUX.1"}
    rows = [("NAME", "KIND", "FAMILY", "INPAINTING", "PRECISION", "SIZE", "SOURCE")]
    for m in models:
        source = m.source if not m.note else f"{m.source}  ({m.note})"
        family = labels.get(m.family, "?")
        if m.few_step:
            family += f" ({m.few_step})"
        rows.append(
            (
                m.name,
                m.kind,
                family,
                yes_no[m.is_inpainting],
                m.precision or "?",
                _human_size(m.size_bytes),
                source,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:6])) + "  " + r[6] for r in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


# -- resolving a reference ------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRef:
    """A model reference resolved to something on disk (nothing loaded yet)."""

    kind: str  # "diffusers" | "single_file" | "hf_cache"
    path: Path  # the folder (diffusers, hf snapshot) or the file
    source: str  # what the user gave, normalised: a path or a repo id
    name: str


def looks_like_repo_id(text: str) -> bool:
    return bool(_REPO_ID.match(text)) and ".." not in text


def snapshot_dir(cache: Path, repo_id: str, revision: str = "main") -> Path:
    """The snapshot folder of ``repo_id`` in the HF cache (``models--org--name/snapshots/<hash>``),
    following ``refs/<revision>``; offline, no network. Raises ModelError if it is not there."""
    repo_dir = cache / ("models--" + repo_id.replace("/", "--"))
    snapshots = repo_dir / "snapshots"
    ref = repo_dir / "refs" / revision
    candidates: list[Path] = []
    if ref.is_file():
        commit = ref.read_text(encoding="utf-8").strip()
        candidates.append(snapshots / commit)
    elif re.fullmatch(r"[0-9a-f]{40}", revision):
        candidates.append(snapshots / revision)
    if snapshots.is_dir():  # no usable ref: newest snapshot that looks complete
        others = sorted(
            (p for p in snapshots.iterdir() if p.is_dir() and p not in candidates),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        candidates.extend(others)
    for snap in candidates:
        if (snap / "model_index.json").is_file():
            return snap
    if candidates:
        raise ModelError(
            f"Model {repo_id!r} is in the Hugging Face cache at {cache} but incomplete: its "
            "snapshot has no model_index.json (a partial download, or not a diffusers pipeline)."
        )
    raise ModelError(
        f"Model {repo_id!r} is not downloaded: it is not in the Hugging Face cache at {cache}. "
        "Inpaint Studio never downloads at run time; fetch it once (e.g. "
        f"`hf download {repo_id}`), or put a diffusers folder or a .safetensors file in "
        f"{models_dir()}."
    )


def resolve_model(model: str | os.PathLike[str]) -> ModelRef:
    """Turn what the user gave into a :class:`ModelRef`: an existing path first, then a name in
    the models folder(s), then a Hugging Face repo id in the cache."""
    text = os.fspath(model).strip()
    if not text:
        raise ModelError(
            "No model given: pass a diffusers folder, a .safetensors file or a repo id"
        )
    path = Path(text).expanduser()
    try:
        if path.exists():
            return _ref_for_path(path.resolve(), text)
    except (OSError, RuntimeError) as exc:  # a symlink loop, a name too long
        raise ModelError(f"Model path {path} cannot be used ({exc})") from None
    if isinstance(model, Path) or _looks_like_path(text):
        raise ModelError(f"Model path does not exist: {path}")
    for directory in models_dirs():
        for candidate in (directory / text, *(directory / (text + s) for s in CHECKPOINT_SUFFIXES)):
            if candidate.exists():
                return _ref_for_path(candidate.resolve(), text)
    if looks_like_repo_id(text):
        snap = snapshot_dir(hf_cache_dir(), text)
        return ModelRef("hf_cache", snap, text, text)
    raise ModelError(
        f"Model {text!r} not found: no such file or folder, no model of that name in "
        f"{', '.join(str(d) for d in models_dirs())}, and not a Hugging Face repo id (org/name)."
    )


def _looks_like_path(text: str) -> bool:
    return (
        text.startswith(("/", "./", "../", "~", "\\"))
        or text.lower().endswith(CHECKPOINT_SUFFIXES)
        or text.count("/") > 1
        or "\\" in text
        or (len(text) > 1 and text[1] == ":")
    )


def _ref_for_path(path: Path, given: str) -> ModelRef:
    if path.is_dir():
        if path.name.startswith("models--") and (path / "snapshots").is_dir():
            # a repo folder inside the HF cache, given by path
            repo_id = path.name.removeprefix("models--").replace("--", "/", 1)
            return ModelRef("hf_cache", snapshot_dir(path.parent, repo_id), repo_id, repo_id)
        if not (path / "model_index.json").is_file():
            raise ModelError(
                f"{path} is a folder but not a diffusers model: it has no model_index.json"
            )
        return ModelRef("diffusers", path, str(path), path.name)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ModelError(f"{path} is not a regular file (a pipe or a device?)")
    if suffix not in CHECKPOINT_SUFFIXES:
        raise ModelError(
            f"{path} is not a model file we can load: use a .safetensors checkpoint "
            "(or .ckpt/.pt/.bin, opened with weights_only), or a diffusers folder"
        )
    return ModelRef("single_file", path, str(path), path.stem)
