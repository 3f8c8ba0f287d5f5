"""InpaintRequest: every input of a generation in one validated dataclass.

Metadata written into PNGs is this object, serialised (``to_json``); ``from_json`` reads it back.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .errors import RequestValidationError
from .options import RunOptions

ENGINES = ("classical", "diffusion", "erase")
MAX_SEED = 2**32 - 1
#: keys our PNG JSON chunk carries beside the request: facts about one output (not inputs), skipped
#: when a request is read back (``seam_score``: inpaint_core.seam)
OUTPUT_FACTS = frozenset({"seam_score"})
#: what the diffusion model starts from inside the mask (inpaint_core.engines.masked_content)
MASKED_CONTENT = ("original", "fill", "latent_noise", "latent_nothing")
MAX_LORA_SCALE = 10.0


@dataclass(frozen=True)
class LoraRef:
    """One LoRA applied to the model: a ``.safetensors`` file (kohya/A1111 or diffusers/PEFT
    format) or a name in the models folder's ``loras/``, and its weight (0 = no effect)."""

    path: str
    scale: float = 1.0

    @property
    def name(self) -> str:
        """The name A1111 writes in ``<lora:NAME:scale>``: the file name without its suffix."""
        base = self.path.replace("\\", "/").rsplit("/", 1)[-1]
        return base.rsplit(".", 1)[0] if base.lower().endswith(".safetensors") else base


#: ``(mask_grow, mask_feather)`` a request gets when it leaves them out, per engine. The classical
#: engine restores exact damage masks (a scanner's dust channel, a painted scratch): growing a
#: 3-px scratch into an 11-px band throws away the very pixels the fill continues, and feathering
#: blends the fill into good pixels outside the damage (measured: -3 dB against OpenCV Telea and
#: ~19,000 changed pixels outside the mask on a 600x400 photo). Diffusion regenerates the crop
#: through a VAE and needs a grown, feathered seam so the paste-back does not show.
SEAM_DEFAULTS: dict[str, tuple[int, int]] = {"classical": (0, 0), "diffusion": (4, 8)}


def seam_defaults(engine: str) -> tuple[int, int]:
    return SEAM_DEFAULTS.get(engine, SEAM_DEFAULTS["diffusion"])


def follow_seam_defaults(
    old_engine: str | None, new_engine: str, grow: int, feather: int
) -> tuple[int, int]:
    """Grow/feather when the engine changes: while they still hold the old engine's defaults they
    take the new engine's (the studio then gives what the CLI gives); values a user set are kept."""
    if old_engine is None or (grow, feather) == seam_defaults(old_engine):
        return seam_defaults(new_engine)
    return grow, feather


@dataclass(frozen=True)
class InpaintRequest:
    # what to paint
    prompt: str = ""
    negative_prompt: str = ""
    # sampler
    scheduler: str = "DPMSolverMultistep"
    steps: int = 25
    guidance_scale: float = 7.5
    strength: float = 1.0
    # what the model starts from inside the mask: original | fill | latent_noise | latent_nothing;
    # None = automatic: fill with an empty prompt (object removal), original with a prompt.
    # A1111's spellings ("latent noise") are accepted and stored with an underscore.
    masked_content: str | None = None
    # soft inpainting (differential diffusion): a feathered mask becomes a per-pixel change map.
    # Only where the mask is feathered (mask_feather > 0); a hard mask runs the normal path.
    soft_inpainting: bool = True
    # seeds: ``seed`` None means random (the seed used is reported). ``seeds`` overrides: one output each.
    seed: int | None = None
    seeds: tuple[int, ...] | None = None
    num_outputs: int = 1
    # working size (multiples of 8); None = matched to the crop's aspect at ``target_size`` long side
    width: int | None = None
    height: int | None = None
    target_size: int = 512
    safety_checker: bool = True
    # engine + model
    engine: str = "classical"
    model: str | None = None
    # region + compositing (pixels of the full-resolution photo)
    mask_padding: int = 32
    # None = the engine's default (:data:`SEAM_DEFAULTS`), filled in when the request is made
    mask_grow: int | None = None
    mask_feather: int | None = None
    color_match: bool = False
    # engine-specific options (classical method, batch seeds, ...); a dict is read as RunOptions
    options: RunOptions = field(default_factory=RunOptions)
    # LoRAs on the diffusion model, applied in this order with their weights
    loras: tuple[LoraRef, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.seeds, list):
            object.__setattr__(self, "seeds", tuple(self.seeds))
        if not isinstance(self.options, RunOptions):
            object.__setattr__(self, "options", RunOptions.from_dict(self.options))
        if isinstance(self.masked_content, str):
            canonical = self.masked_content.strip().lower().replace(" ", "_").replace("-", "_")
            object.__setattr__(self, "masked_content", canonical)
        if isinstance(self.loras, (list, tuple)):
            object.__setattr__(self, "loras", tuple(_lora_ref(x) for x in self.loras))
        self._resolve_seam_defaults()
        self.validate()

    def _resolve_seam_defaults(self) -> None:
        """Grow/feather left out (None) take the engine's defaults, so every front door (CLI,
        batch, API, studio) gives a user the same pixels for the same request.

        Stored as numbers, so a saved request (PNG metadata, batch journal) is explicit. Note that
        ``dataclasses.replace(r, engine=...)`` keeps ``r``'s numbers: pass ``mask_grow=None,
        mask_feather=None`` too to take the new engine's defaults.
        """
        if not isinstance(self.engine, str):
            return  # validate() names the bad engine
        grow, feather = seam_defaults(self.engine)
        if self.mask_grow is None:
            object.__setattr__(self, "mask_grow", grow)
        if self.mask_feather is None:
            object.__setattr__(self, "mask_feather", feather)

    # -- validation ---------------------------------------------------------------------------
    def validate(self) -> None:
        def rng(name: str, value: float, lo: float, hi: float) -> None:
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not (lo <= value <= hi)
            ):
                raise RequestValidationError(name, f"must be between {lo} and {hi}, got {value!r}")

        def integer(name: str, value: Any) -> None:
            if not isinstance(value, int) or isinstance(value, bool):
                raise RequestValidationError(name, f"must be a whole number, got {value!r}")

        if not isinstance(self.prompt, str):
            raise RequestValidationError("prompt", "must be text")
        if not isinstance(self.negative_prompt, str):
            raise RequestValidationError("negative_prompt", "must be text")
        # types first: values read from a file's metadata arrive as whatever JSON held
        if not isinstance(self.scheduler, str):
            raise RequestValidationError("scheduler", f"must be a name, got {self.scheduler!r}")
        for name in ("safety_checker", "color_match"):
            if not isinstance(getattr(self, name), bool):
                raise RequestValidationError(
                    name, f"must be true or false, got {getattr(self, name)!r}"
                )
        if not isinstance(self.engine, str):
            raise RequestValidationError("engine", f"must be a name, got {self.engine!r}")
        if self.model is not None and not isinstance(self.model, str):
            raise RequestValidationError("model", f"must be a path or a name, got {self.model!r}")
        if not all(isinstance(k, str) for k in self.options.extra):
            raise RequestValidationError("options", "must be a mapping of names to values")
        if self.options.method is not None and not isinstance(self.options.method, str):
            raise RequestValidationError(
                "options.method", f"must be a name, got {self.options.method!r}"
            )
        if self.seeds is not None and not isinstance(self.seeds, tuple):
            raise RequestValidationError("seeds", f"must be a list of seeds, got {self.seeds!r}")
        integer("steps", self.steps)
        rng("steps", self.steps, 1, 500)
        rng("guidance_scale", self.guidance_scale, 0.0, 50.0)
        rng("strength", self.strength, 0.0, 1.0)
        if self.strength <= 0.0:
            raise RequestValidationError("strength", "must be above 0 (0 would change nothing)")
        integer("num_outputs", self.num_outputs)
        rng("num_outputs", self.num_outputs, 1, 64)
        if self.seed is not None:
            integer("seed", self.seed)
            rng("seed", self.seed, 0, MAX_SEED)
        if self.seeds is not None:
            if len(self.seeds) == 0:
                raise RequestValidationError("seeds", "must list at least one seed")
            for s in self.seeds:
                integer("seeds", s)
                rng("seeds", s, 0, MAX_SEED)
        for name in ("width", "height"):
            v = getattr(self, name)
            if v is not None:
                integer(name, v)
                rng(name, v, 64, 4096)
                if v % 8:
                    raise RequestValidationError(name, f"must be a multiple of 8, got {v}")
        integer("target_size", self.target_size)
        rng("target_size", self.target_size, 64, 4096)
        if self.target_size % 8:
            raise RequestValidationError(
                "target_size", f"must be a multiple of 8, got {self.target_size}"
            )
        if self.engine not in ENGINES:
            raise RequestValidationError(
                "engine", f"must be one of {', '.join(ENGINES)}, got {self.engine!r}"
            )
        for name in ("mask_padding", "mask_grow", "mask_feather"):
            v = getattr(self, name)
            integer(name, v)
            rng(name, v, 0, 2048)
        if self.masked_content is not None and self.masked_content not in MASKED_CONTENT:
            raise RequestValidationError(
                "masked_content",
                f"must be one of {', '.join(MASKED_CONTENT)}, got {self.masked_content!r}",
            )
        if not isinstance(self.soft_inpainting, bool):
            raise RequestValidationError("soft_inpainting", "must be true or false")
        if not isinstance(self.loras, tuple):
            raise RequestValidationError("loras", "must be a list of LoRAs")
        for lora in self.loras:
            if not isinstance(lora.path, str) or not lora.path.strip():
                raise RequestValidationError("loras", "a LoRA needs a file path or name")
            rng("loras", lora.scale, -MAX_LORA_SCALE, MAX_LORA_SCALE)
        if self.engine == "diffusion":
            from .schedulers import canonical_scheduler_name  # local: keeps import light

            try:
                canonical_scheduler_name(self.scheduler)
            except KeyError as exc:
                raise RequestValidationError("scheduler", str(exc.args[0])) from None

    # -- derived settings -------------------------------------------------------------------
    def effective_masked_content(self) -> str:
        """The masked-content mode a run uses: the chosen one, else ``fill`` for an empty prompt
        (removing something: start from the surroundings) and ``original`` with a prompt."""
        if self.masked_content is not None:
            return self.masked_content
        return "original" if self.prompt.strip() else "fill"

    def soft_inpainting_active(self) -> bool:
        """Soft inpainting runs only where there is a soft edge to blend: a feathered mask."""
        return self.soft_inpainting and self.mask_feather > 0

    # -- seeds --------------------------------------------------------------------------------
    def resolved(self) -> InpaintRequest:
        """A copy with concrete seeds (random ones drawn now), so the result can be reproduced."""
        if self.seeds is not None:
            return replace(self, seed=self.seeds[0], num_outputs=len(self.seeds))
        seed = self.seed if self.seed is not None else secrets.randbelow(MAX_SEED)
        seeds = tuple((seed + i) % (MAX_SEED + 1) for i in range(self.num_outputs))
        return replace(self, seed=seed, seeds=seeds)

    def output_seeds(self) -> list[int]:
        r = self if self.seeds is not None else self.resolved()
        assert r.seeds is not None
        return list(r.seeds)

    # -- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        if d["seeds"] is not None:
            d["seeds"] = list(d["seeds"])
        d["options"] = self.options.to_dict()
        d["loras"] = [{"path": x.path, "scale": x.scale} for x in self.loras]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InpaintRequest:
        """Build and validate a request; every field is type-checked (``"safety_checker": "no"``
        is an error, not true), so data from a file cannot smuggle a wrong type past here."""
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise RequestValidationError("request", "must be a mapping of field names to values")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - OUTPUT_FACTS
        if unknown:
            raise RequestValidationError(sorted(unknown)[0], "is not a request field")
        data = {k: v for k, v in data.items() if k not in OUTPUT_FACTS}
        if data.get("seeds") is not None:
            if not isinstance(data["seeds"], (list, tuple)):
                raise RequestValidationError(
                    "seeds", f"must be a list of seeds, got {data['seeds']!r}"
                )
            data["seeds"] = tuple(data["seeds"])
        if "loras" in data:
            if not isinstance(data["loras"], (list, tuple)):
                raise RequestValidationError("loras", "must be a list of LoRAs")
            data["loras"] = tuple(_lora_ref(x) for x in data["loras"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> InpaintRequest:
        return cls.from_dict(json.loads(text))


def _lora_ref(value: Any) -> LoraRef:
    """A LoraRef from a LoraRef, a ``{"path", "scale"}`` dict or a ``(path, scale)`` pair."""
    if isinstance(value, LoraRef):
        return value
    if isinstance(value, dict) and set(value) <= {"path", "scale", "name"} and "path" in value:
        scale = value.get("scale", 1.0)
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        value, scale = {"path": value[0]}, value[1]
    else:
        raise RequestValidationError("loras", f"cannot read a LoRA from {value!r}")
    if not isinstance(scale, (int, float)) or isinstance(scale, bool):
        raise RequestValidationError("loras", f"a LoRA weight must be a number, got {scale!r}")
    if not isinstance(value["path"], str):
        raise RequestValidationError("loras", "a LoRA needs a file path or name")
    return LoraRef(value["path"], float(scale))
