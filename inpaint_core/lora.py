"""LoRAs: small weight deltas people download to give a model a style, a subject or few-step speed.

Two file formats are read, both ``.safetensors`` and both through diffusers' ``load_lora_weights``
(which needs ``peft``):

* **kohya / A1111** (what Civitai serves): ``lora_unet_*`` / ``lora_te_*`` (SDXL: ``lora_te1_*``,
  ``lora_te2_*``) keys with ``lora_down`` / ``lora_up`` / ``alpha``;
* **diffusers / PEFT**: ``unet.…lora_A.weight`` / ``lora_B.weight`` (or ``text_encoder.…``).

Several LoRAs apply at once, each with its weight (``set_adapters``); a LoRA stays loaded on the
pipeline between jobs, so switching sets or weights costs no reload. A LoRA made for another
family is refused before anything is loaded: its cross-attention input width (768 SD 1.x,
1024 SD 2.x, 2048 SDXL) and its text-encoder keys are read from the file's header and compared
with the model.

In A1111's convention a LoRA is written into the prompt as ``<lora:NAME:WEIGHT>``; we write it
that way in the ``parameters`` text (and read it back), and keep the full path in our JSON.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InpaintError, ModelError
from .models.discovery import ModelInfo, models_dirs
from .models.families import few_step_kind, precision_of, read_safetensors_header
from .request import MAX_LORA_SCALE, LoraRef

LORA_DIR = "loras"
_TAG_RE = re.compile(r"<lora:([^:>]+)(?::([-+0-9.eE]+))?>")
_CROSS_DIM_LABELS = {768: "SD 1.x", 1024: "SD 2.x", 2048: "SDXL"}
#: at most this many LoRAs stay loaded on a pipeline (the least recently used are dropped)
MAX_LOADED = 8


def lora_dirs() -> list[Path]:
    """Where LoRAs named without a path are looked up: ``<models folder>/loras`` for each models
    folder."""
    return [d / LORA_DIR for d in models_dirs()]


# -- text forms -----------------------------------------------------------------------------------
def parse_lora_arg(text: str) -> LoraRef:
    """``PATH[:SCALE]`` (the CLI's ``--lora``) -> LoraRef. A colon is a scale only when what follows
    it is a number, so ``C:\\loras\\x.safetensors`` stays a path."""
    text = text.strip()
    path, scale = text, 1.0
    head, sep, tail = text.rpartition(":")
    if sep and head:
        try:
            scale = float(tail)
        except ValueError:
            pass
        else:
            path = head
    if not path:
        raise InpaintError(f"--lora needs a file: PATH[:SCALE], got {text!r}")
    if not -MAX_LORA_SCALE <= scale <= MAX_LORA_SCALE:
        raise InpaintError(
            f"--lora {text}: the weight must be between {-MAX_LORA_SCALE} and {MAX_LORA_SCALE}"
        )
    return LoraRef(path, scale)


def split_lora_tags(prompt: str) -> tuple[str, list[LoraRef]]:
    """Take A1111's ``<lora:NAME:WEIGHT>`` tags out of a prompt: (clean prompt, LoRAs)."""
    loras = [
        LoraRef(m.group(1).strip(), float(m.group(2) or 1.0)) for m in _TAG_RE.finditer(prompt)
    ]
    clean = _TAG_RE.sub("", prompt)
    clean = re.sub(r"[ \t]{2,}", " ", clean).strip().rstrip(",").strip()
    return clean, loras


def lora_tags(loras: tuple[LoraRef, ...] | list[LoraRef]) -> str:
    """``<lora:NAME:WEIGHT>`` tags, space separated (A1111's way of writing them into a prompt)."""
    return " ".join(f"<lora:{lora.name}:{lora.scale!r}>" for lora in loras)


# -- files ----------------------------------------------------------------------------------------
def resolve_lora(path_or_name: str) -> Path:
    """A LoRA file: an existing path, or a name in a models folder's ``loras/`` (with or without
    ``.safetensors``)."""
    path = Path(path_or_name).expanduser()
    if path.is_file():
        return path.resolve()
    for folder in lora_dirs():
        for candidate in (folder / path_or_name, folder / f"{path_or_name}.safetensors"):
            if candidate.is_file():
                return candidate.resolve()
    where = ", ".join(str(d) for d in lora_dirs())
    raise ModelError(f"LoRA {path_or_name!r} not found: no such file, and not in {where}")


@dataclass(frozen=True)
class LoraInfo:
    """What a LoRA file's header says (no weights read)."""

    path: Path
    format: str  # "kohya" | "diffusers"
    family: str  # "sd1" | "sd2" | "sdxl" | "flux" | "unknown"
    cross_attention_dim: int | None  # input width of the cross-attention key projection
    text_encoders: int  # how many text encoders it changes (0, 1, 2)
    few_step: str | None  # see inpaint_core.models.families.few_step_kind


def _is_down(key: str) -> bool:
    return key.endswith(("lora_down.weight", "lora_A.weight", "lora.down.weight"))


def inspect_lora(path: Path) -> LoraInfo:
    """Format, family and shape of a LoRA ``.safetensors`` (header only)."""
    if path.suffix.lower() != ".safetensors":
        raise ModelError(f"{path.name}: LoRAs are read from .safetensors files only")
    header = read_safetensors_header(path)
    keys = [k for k in header if k != "__metadata__"]
    if not keys or not any(_is_down(k) for k in keys):
        raise ModelError(
            f"{path.name} is not a LoRA (no lora_down/lora_A weights): a full model or an "
            "embedding?"
        )
    kohya = any(k.startswith(("lora_unet_", "lora_te")) for k in keys)
    cross = None
    for k in keys:
        low = k.lower()
        if "attn2" in low and "to_k" in low and _is_down(k):
            shape = header[k].get("shape") or []
            if len(shape) >= 2:
                cross = int(shape[1])
                break
    te2 = any(k.startswith(("lora_te2_", "text_encoder_2.")) for k in keys)
    te1 = any(k.startswith(("lora_te_", "lora_te1_", "text_encoder.")) for k in keys)
    flux = any(
        s in k
        for k in keys
        for s in ("double_blocks", "single_blocks", "single_transformer_blocks")
    ) or any(k.startswith("transformer.") for k in keys)
    if flux:
        family = "flux"
    elif te2 or cross == 2048 or any("input_blocks_" in k for k in keys):
        family = "sdxl"
    elif cross == 1024:
        family = "sd2"
    elif cross == 768:
        family = "sd1"
    else:
        family = "unknown"
    return LoraInfo(
        path=path,
        format="kohya" if kohya else "diffusers",
        family=family,
        cross_attention_dim=cross,
        text_encoders=int(te1) + int(te2),
        few_step=few_step_kind(path.stem),
    )


def _model_label(family: str) -> str:
    return {"sd1": "SD 1.x", "sd2": "SD 2.x", "sdxl": "SDXL", "flux": "FLUX.1"}.get(family, family)


def check_compatible(info: LoraInfo, family: str, pipe: Any) -> None:
    """Refuse a LoRA made for another family than the loaded model's, with a message naming both."""
    name = info.path.name
    model = _model_label(family)
    if (info.family == "flux") != (family == "flux"):
        theirs = "FLUX.1" if info.family == "flux" else "a UNet model (SD/SDXL)"
        raise ModelError(f"LoRA {name} is made for {theirs}; the model is {model}")
    unet = getattr(pipe, "unet", None)
    if unet is not None and info.cross_attention_dim is not None:
        ours = int(unet.config.cross_attention_dim)
        if ours != info.cross_attention_dim:
            theirs = (
                _model_label(info.family)
                if info.family != "unknown"
                else _CROSS_DIM_LABELS.get(
                    info.cross_attention_dim, f"a model {info.cross_attention_dim} wide"
                )
            )
            raise ModelError(
                f"LoRA {name} is made for {theirs} (cross-attention {info.cross_attention_dim}); "
                f"the model is {model} (cross-attention {ours}): use a LoRA for {model}"
            )
    if info.text_encoders == 2 and getattr(pipe, "text_encoder_2", None) is None:
        raise ModelError(f"LoRA {name} is made for SDXL (two text encoders); the model is {model}")


def family_mismatch(info: LoraInfo, family: str | None) -> str | None:
    """The refusal message for ``info`` on a model of ``family`` when the header alone shows it
    is for another family (None when it may fit, or either family is unknown) — what a form
    shows at its LoRA field before anything is loaded; :func:`check_compatible` has the last
    word on the loaded pipeline."""
    if not family or family == "unknown" or info.family == "unknown" or info.family == family:
        return None
    model = _model_label(family)
    return (
        f"LoRA {info.path.name} is made for {_model_label(info.family)}; the model is {model}: "
        f"use a LoRA for {model}"
    )


def adapter_name(path: Path) -> str:
    """A stable adapter name per file version (path, size, mtime): a replaced file loads anew."""
    st = os.stat(path)
    ident = f"{path}|{st.st_size}|{st.st_mtime_ns}".encode()
    return "lora_" + hashlib.blake2b(ident, digest_size=6).hexdigest()


class LoraSet:
    """The LoRAs loaded on one pipeline, and which of them are active with which weights."""

    def __init__(self) -> None:
        self._pipe_id: int | None = None
        self._loaded: dict[str, Path] = {}  # adapter name -> file, least recently used first
        self._active: tuple[tuple[str, float], ...] = ()

    def apply(self, pipe: Any, family: str, loras: tuple[LoraRef, ...]) -> tuple[Any, ...]:
        """Make exactly ``loras`` active on ``pipe`` (loading the new ones). Returns a key naming
        the active set (for caches of anything the LoRAs change, e.g. prompt embeddings)."""
        if self._pipe_id != id(pipe):
            self._pipe_id, self._loaded, self._active = id(pipe), {}, ()
        wanted: dict[str, float] = {}
        files: dict[str, Path] = {}
        for lora in loras:
            path = resolve_lora(lora.path)
            name = adapter_name(path)
            wanted[name] = wanted.get(name, 0.0) + float(lora.scale)
            files[name] = path
        for name, path in files.items():
            if name not in self._loaded:
                check_compatible(inspect_lora(path), family, pipe)
                self._load(pipe, name, path)
            self._loaded[name] = self._loaded.pop(name)  # most recently used last
        active = tuple(wanted.items())
        if active != self._active:
            if active:
                pipe.enable_lora()
                pipe.set_adapters([n for n, _ in active], adapter_weights=[w for _, w in active])
            elif self._loaded:
                pipe.disable_lora()
            self._active = active
        self._evict(pipe, keep=set(wanted))
        return tuple((str(files[n]), w) for n, w in active)

    def _load(self, pipe: Any, name: str, path: Path) -> None:
        try:
            pipe.load_lora_weights(str(path), adapter_name=name)
        except ImportError as exc:
            raise ModelError(f"LoRAs need the peft package: pip install peft ({exc})") from None
        except Exception as exc:
            try:  # a half-loaded adapter must not stay behind
                pipe.delete_adapters([name])
            except Exception:
                pass
            raise ModelError(
                f"Could not apply LoRA {path.name} to this model: {type(exc).__name__}: {exc}"
            ) from None
        self._loaded[name] = path
        self._active = ()  # loading activates the new adapter: set the weights again

    def _evict(self, pipe: Any, keep: set[str]) -> None:
        extra = [n for n in self._loaded if n not in keep]
        while len(self._loaded) > MAX_LOADED and extra:
            name = extra.pop(0)
            pipe.delete_adapters([name])
            del self._loaded[name]


def list_loras() -> list[ModelInfo]:
    """The LoRAs in the models folders' ``loras/`` (header only): family, precision, few-step."""
    found: list[ModelInfo] = []
    for folder in lora_dirs():
        try:
            files = sorted(folder.glob("*.safetensors"), key=lambda p: p.name.lower())
        except OSError:
            continue
        for path in files:
            try:
                info = inspect_lora(path)
                header = read_safetensors_header(path)
            except ModelError as exc:
                found.append(
                    ModelInfo(
                        path.stem,
                        str(path),
                        "lora",
                        False,
                        path.stat().st_size,
                        str(path),
                        str(exc).replace(str(path), path.name),
                    )
                )
                continue
            found.append(
                ModelInfo(
                    name=path.stem,
                    source=str(path),
                    kind="lora",
                    is_inpainting=None,
                    size_bytes=path.stat().st_size,
                    path=str(path),
                    note=f"LoRA ({info.format})",
                    family=info.family,
                    precision=precision_of(
                        v.get("dtype") for k, v in header.items() if k != "__metadata__"
                    ),
                    few_step=info.few_step,
                )
            )
    return found
