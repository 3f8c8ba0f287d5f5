"""InpaintRequest: every input of a generation in one validated dataclass.

Metadata written into PNGs is this object, serialised (``to_json``); ``from_json`` reads it back.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .errors import RequestValidationError

ENGINES = ("classical", "diffusion")
MAX_SEED = 2**32 - 1

#: ``(mask_grow, mask_feather)`` a request gets when it leaves them out, per engine. The classical
#: engine restores exact damage masks (a scanner's dust channel, a painted scratch): growing a
#: 3-px scratch into an 11-px band throws away the very pixels the fill continues, and feathering
#: blends the fill into good pixels outside the damage (measured: -3 dB against OpenCV Telea and
#: ~19,000 changed pixels outside the mask on a 600x400 photo). Diffusion regenerates the crop
#: through a VAE and needs a grown, feathered seam so the paste-back does not show.
SEAM_DEFAULTS: dict[str, tuple[int, int]] = {"classical": (0, 0), "diffusion": (4, 8)}


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
    # free-form engine options (e.g. classical method)
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.seeds, list):
            object.__setattr__(self, "seeds", tuple(self.seeds))
        self._resolve_seam_defaults()
        self.validate()

    def _resolve_seam_defaults(self) -> None:
        """Grow/feather left out (None) take the engine's defaults, so every front door (CLI,
        batch, API, studio) gives a user the same pixels for the same request.

        Stored as numbers, so a saved request (PNG metadata, batch journal) is explicit. Note that
        ``dataclasses.replace(r, engine=...)`` keeps ``r``'s numbers: pass ``mask_grow=None,
        mask_feather=None`` too to take the new engine's defaults.
        """
        grow, feather = SEAM_DEFAULTS.get(self.engine, SEAM_DEFAULTS["diffusion"])
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
        if self.engine == "diffusion":
            from .schedulers import canonical_scheduler_name  # local: keeps import light

            try:
                canonical_scheduler_name(self.scheduler)
            except KeyError as exc:
                raise RequestValidationError("scheduler", str(exc.args[0])) from None

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
        d = asdict(self)
        if d["seeds"] is not None:
            d["seeds"] = list(d["seeds"])
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InpaintRequest:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise RequestValidationError(sorted(unknown)[0], "is not a request field")
        data = dict(data)
        if data.get("seeds") is not None:
            data["seeds"] = tuple(data["seeds"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> InpaintRequest:
        return cls.from_dict(json.loads(text))
