"""The input of a prediction: the hosted SD-inpainting model's names, validated, mapped onto
:class:`~inpaint_core.request.InpaintRequest`.

Pydantic checks types and ranges (a 422 names the field); the request's own validation runs after
the mapping, and its errors are reported under the *input* name (``steps`` → ``num_inference_steps``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import RequestValidationError
from ..request import MAX_SEED, InpaintRequest
from ..schedulers import scheduler_names
from .catalog import ModelEntry

SchedulerName = Literal[tuple(scheduler_names())]  # type: ignore[valid-type]
ClassicalMethod = Literal["auto", "dct", "biharmonic", "telea", "ns"]

#: InpaintRequest field -> input name, for error messages
_INPUT_NAMES = {
    "steps": "num_inference_steps",
    "safety_checker": "disable_safety_checker",
    "options": "method",
}

_DEFAULT = InpaintRequest()


class PredictionInput(BaseModel):
    """What ``input`` may hold. Unknown names are refused (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", title="Input")

    image: str = Field(
        description="The photo: the URL of an uploaded file (POST /v1/files), a data: URI, or a "
        "public http(s) URL",
        max_length=80 * 1024 * 1024,
    )
    mask: str = Field(
        description="The mask, same size as the photo: white (or opaque paint on transparency) is "
        "filled. Same forms as image.",
        max_length=80 * 1024 * 1024,
    )
    prompt: str = Field(_DEFAULT.prompt, description="What to paint in the masked area")
    negative_prompt: str = Field(_DEFAULT.negative_prompt, description="What not to paint")
    num_inference_steps: int = Field(_DEFAULT.steps, ge=1, le=500, description="Denoising steps")
    guidance_scale: float = Field(
        _DEFAULT.guidance_scale, ge=0.0, le=50.0, description="Classifier-free guidance scale"
    )
    strength: float = Field(
        _DEFAULT.strength,
        gt=0.0,
        le=1.0,
        description="How much of the masked area is repainted (1 = all, from pure noise)",
    )
    scheduler: SchedulerName = Field(_DEFAULT.scheduler, description="Sampler")  # type: ignore[valid-type]
    seed: int | None = Field(
        None, ge=0, le=MAX_SEED, description="Random seed; leave out for a random one (reported)"
    )
    num_outputs: int = Field(
        1,
        ge=1,
        le=4,
        description="Outputs, with seeds seed, seed+1, ... (batched; replayable from each PNG)",
    )
    width: int | None = Field(
        None,
        ge=64,
        le=2048,
        multiple_of=8,
        description="Working width of the region around the mask (default: its aspect at 512)",
    )
    height: int | None = Field(
        None, ge=64, le=2048, multiple_of=8, description="Working height (multiple of 8)"
    )
    target_size: int = Field(
        _DEFAULT.target_size,
        ge=64,
        le=4096,
        multiple_of=8,
        description="Working long side when width/height are not given",
    )
    disable_safety_checker: bool = Field(False, description="Do not run the safety checker")
    engine: Literal["classical", "diffusion"] | None = Field(
        None,
        description="The model's own engine when left out; a diffusion model may run the "
        "classical engine, not the other way round",
    )
    method: ClassicalMethod | None = Field(None, description="Classical engine method")
    mask_padding: int = Field(
        _DEFAULT.mask_padding, ge=0, le=2048, description="Context pixels around the mask"
    )
    mask_grow: int | None = Field(
        None,
        ge=0,
        le=2048,
        description="Grow the mask (default: the engine's: classical 0, else 4)",
    )
    mask_feather: int | None = Field(
        None,
        ge=0,
        le=2048,
        description="Feather the paste-back seam (default: the engine's: classical 0, else 8)",
    )
    color_match: bool = Field(False, description="Match the fill's colours to its surroundings")
    paste_back: bool = Field(
        True,
        description="False: output the engine's fill of the working area on its grid, not "
        "pasted into the photo (what a remote engine needs)",
    )


class InputError(ValueError):
    """A valid-looking input that the request refuses; ``field`` is the input's name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def to_request(inp: PredictionInput, entry: ModelEntry) -> InpaintRequest:
    """The one :class:`InpaintRequest` this input asks of ``entry``'s model."""
    engine = inp.engine or entry.engine
    if engine == "diffusion" and entry.engine != "diffusion":
        raise InputError("engine", f"{entry.slug} runs the classical engine only")
    fields: dict[str, Any] = dict(
        prompt=inp.prompt,
        negative_prompt=inp.negative_prompt,
        scheduler=inp.scheduler,
        steps=inp.num_inference_steps,
        guidance_scale=inp.guidance_scale,
        strength=inp.strength,
        seed=inp.seed,
        num_outputs=inp.num_outputs,
        width=inp.width,
        height=inp.height,
        target_size=inp.target_size,
        safety_checker=not inp.disable_safety_checker,
        engine=engine,
        model=entry.model if engine == "diffusion" else None,
        mask_padding=inp.mask_padding,
        mask_grow=inp.mask_grow,
        mask_feather=inp.mask_feather,
        color_match=inp.color_match,
        options={"method": inp.method} if inp.method else {},
    )
    try:
        return InpaintRequest(**fields)
    except RequestValidationError as exc:
        name = _INPUT_NAMES.get(exc.field, exc.field)
        message = str(exc).split(": ", 1)[-1]
        raise InputError(name, message) from None


def openapi_schema(entry: ModelEntry) -> dict[str, Any]:
    """The version's ``openapi_schema``: Cog's layout (``components.schemas.Input``/``Output``),
    which is where the hosted API's clients and UIs look for the inputs."""
    schema = PredictionInput.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    props = schema.get("properties", {})
    for order, prop in enumerate(props.values()):
        prop["x-order"] = order
    return {
        "openapi": "3.0.2",
        "info": {"title": entry.slug, "version": entry.version_id},
        "paths": {},
        "components": {
            "schemas": {
                **defs,
                "Input": schema,
                "Output": {
                    "title": "Output",
                    "type": "array",
                    "items": {"type": "string", "format": "uri"},
                },
            }
        },
    }
