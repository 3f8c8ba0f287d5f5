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
import stat
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import ModelError
from ..jsonsafe import JsonLimitError, loads_limited

MODELS_ENV = "INPAINT_STUDIO_MODELS"
SAFE_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
CHECKPOINT_SUFFIXES = SAFE_SUFFIXES + PICKLE_SUFFIXES
KINDS = ("diffusers", "single_file", "hf_cache")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")

# Keys of an original (LDM / A1111-style) Stable Diffusion checkpoint.
LDM_UNET_IN = "model.diffusion_model.input_blocks.0.0.weight"


def not_inpainting_message(what: str, in_channels: int) -> str:
    return (
        f"{what} is not an inpainting model: its UNet takes {in_channels} input channels, "
        "inpainting needs 9. Use an inpainting checkpoint (e.g. stable-diffusion-inpainting)."
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


MAX_CONFIG_BYTES = 4 * 2**20
"""Largest model JSON (``config.json``, ``model_index.json``) read; real ones are a few kB."""
MAX_SAFETENSORS_HEADER = 16 * 2**20
"""Largest ``.safetensors`` JSON header read (SD-1.5's is ~150 kB, SDXL's ~300 kB; the safetensors
library itself allows 100 MB, which a hostile file could fill with a million tiny entries)."""
SAFETENSORS_DTYPES = frozenset(
    "BOOL U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 F4 F6_E2M3 F6_E3M2 I16 U16 F16 BF16 I32 U32 F32 F64 "
    "I64 U64 C64".split()
)


def open_regular(path: Path) -> IO[bytes]:
    """Open ``path`` for reading only if it is a regular file: a FIFO (whose open would block
    until a writer came), a device or a folder is refused with a :class:`ModelError`."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ModelError(f"{path} is not a regular file (a folder, pipe or device)")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ModelError(f"{path} cannot be read ({exc.strerror or exc})") from None
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
        f.close()
        raise ModelError(f"{path} is not a regular file (a folder, pipe or device)")
    return f


# -- cheap inspection -----------------------------------------------------------------------------
def read_json(path: Path, what: str) -> dict[str, Any]:
    """A model's JSON file (a regular file, size- and depth-capped) as a dict, or a ModelError."""
    try:
        with open_regular(path) as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
        data = loads_limited(raw, what=str(path), max_chars=MAX_CONFIG_BYTES, max_depth=16)
    except FileNotFoundError:
        raise ModelError(f"{what}: {path.name} is missing ({path})") from None
    except (OSError, JsonLimitError) as exc:
        raise ModelError(f"{what}: {path} is unreadable or not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{what}: {path} does not hold a JSON object")
    return data


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

    family: str  # "sd1" | "sd2" | "sdxl" | "unknown"
    unet_in_channels: int | None  # None: no UNet in the file (a LoRA, a VAE …)
    unet_width: int | None = None  # output channels of the UNet's first conv (SD-1.x: 320)


def classify_checkpoint(keys: Any, shape_of: Any) -> CheckpointInfo:
    keys = list(keys)
    in_channels = width = None
    if LDM_UNET_IN in keys:
        shape = shape_of(LDM_UNET_IN)
        if len(shape) == 4:
            width, in_channels = int(shape[0]), int(shape[1])
    if any(k.startswith("conditioner.embedders.") for k in keys):
        family = "sdxl"
    elif any(k.startswith("cond_stage_model.model.") for k in keys):
        family = "sd2"
    elif any(k.startswith("cond_stage_model.transformer.") for k in keys):
        family = "sd1"
    else:
        family = "unknown"
    return CheckpointInfo(family, in_channels, width)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_tensor_entry(path: Path, key: str, meta: Any) -> int:
    """One header entry must be ``{"dtype": known, "shape": [ints >= 0], "data_offsets": [a, b]}``
    with ``0 <= a <= b``; returns ``b``."""

    def bad(why: str) -> ModelError:
        return ModelError(f"{path} is not a valid safetensors file (entry {key[:80]!r}: {why})")

    if not isinstance(meta, dict):
        raise bad("not an object")
    if meta.get("dtype") not in SAFETENSORS_DTYPES:
        raise bad(f"unknown dtype {str(meta.get('dtype'))[:20]!r}")
    shape = meta.get("shape")
    if not isinstance(shape, list) or len(shape) > 8 or not all(_is_count(d) for d in shape):
        raise bad("the shape is not a list of sizes")
    offsets = meta.get("data_offsets")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_count(o) for o in offsets)
        or offsets[0] > offsets[1]
    ):
        raise bad("data_offsets is not [begin, end]")
    return int(offsets[1])


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a ``.safetensors`` file: size-capped (:data:`MAX_SAFETENSORS_HEADER`),
    depth-capped, schema-checked (every tensor entry's dtype, shape and offsets; ``__metadata__``
    text to text) and checked against the file size. A truncated or corrupt file is a
    :class:`ModelError`, not a crash inside the loader (or in a models listing)."""
    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(8)
            if len(head) < 8:
                raise ModelError(f"{path} is not a safetensors file (only {size} bytes)")
            (length,) = struct.unpack("<Q", head)
            if length < 2 or length > MAX_SAFETENSORS_HEADER:
                raise ModelError(f"{path} is not a valid safetensors file (corrupt header)")
            if length > size - 8:
                raise ModelError(
                    f"{path} is truncated or not a safetensors file: its header alone should be "
                    f"{length} bytes, the file has {size}"
                )
            raw = fh.read(length)
        header = loads_limited(
            raw, what=f"{path} header", max_chars=MAX_SAFETENSORS_HEADER, max_depth=4
        )
    except ModelError:
        raise
    except JsonLimitError as exc:
        raise ModelError(f"{path} is not a valid safetensors file ({exc})") from None
    except (OSError, struct.error) as exc:
        raise ModelError(f"{path} is not a valid safetensors file ({exc})") from None
    if not isinstance(header, dict):
        raise ModelError(f"{path} is not a valid safetensors file (corrupt header)")
    end = 0
    for key, meta in header.items():
        if key == "__metadata__":
            if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
                raise ModelError(
                    f"{path} is not a valid safetensors file (__metadata__ is not text)"
                )
            continue
        end = max(end, _check_tensor_entry(path, key, meta))
    if 8 + length + end > size:
        raise ModelError(
            f"{path} is truncated: its header describes {8 + length + end} bytes, "
            f"the file has {size} (an interrupted download?)"
        )
    return header


def inspect_safetensors(path: Path) -> CheckpointInfo:
    header = read_safetensors_header(path)
    keys = [k for k in header if k != "__metadata__"]
    return classify_checkpoint(keys, lambda k: header[k].get("shape", []))


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe_folder(folder: Path) -> ModelInfo:
    channels = folder_in_channels(folder)
    note = "" if channels is not None else "no readable unet/config.json"
    if channels is not None and channels != 9:
        note = f"UNet takes {channels} input channels"
    return ModelInfo(
        name=folder.name,
        source=str(folder),
        kind="diffusers",
        is_inpainting=None if channels is None else channels == 9,
        size_bytes=_tree_size(folder),
        path=str(folder),
        note=note,
    )


def describe_file(path: Path) -> ModelInfo:
    inpainting: bool | None = None
    note = ""
    if path.suffix.lower() in SAFE_SUFFIXES:
        try:
            info = inspect_safetensors(path)
        except ModelError as exc:
            inpainting, note = False, str(exc).replace(str(path), path.name)
        else:
            if info.unet_in_channels is None:
                inpainting, note = False, "no Stable Diffusion UNet inside (a LoRA or a VAE?)"
            else:
                inpainting = info.unet_in_channels == 9
                note = {"sd2": "SD 2.x", "sdxl": "SDXL", "unknown": "unknown text encoder"}.get(
                    info.family, ""
                )
    else:
        note = "pickle checkpoint: opened with weights_only"
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return ModelInfo(path.stem, str(path), "single_file", inpainting, size, str(path), note)


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
        channels = folder_in_channels(snapshot)
        found.append(
            ModelInfo(
                name=repo.repo_id,
                source=repo.repo_id,
                kind="hf_cache",
                is_inpainting=None if channels is None else channels == 9,
                size_bytes=int(repo.size_on_disk),
                path=str(snapshot),
                note="" if channels in (None, 9) else f"UNet takes {channels} input channels",
            )
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
    rows = [("NAME", "KIND", "INPAINTING", "SIZE", "SOURCE")]
    for m in models:
        source = m.source if not m.note else f"{m.source}  ({m.note})"
        rows.append((m.name, m.kind, yes_no[m.is_inpainting], _human_size(m.size_bytes), source))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r[:4])) + "  " + r[4] for r in rows
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
