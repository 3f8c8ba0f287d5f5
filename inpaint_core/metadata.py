"""Generation parameters in PNG text chunks: the A1111 ``parameters`` format, and our own JSON.

A1111's format (other tools read it)::

    a photo of a cat
    wearing a hat
    Negative prompt: blurry, lowres
    Steps: 25, Sampler: DPM++ 2M, CFG scale: 7.5, Seed: 123, Size: 512x512, Model: name, ...

The last line is ``Key: value`` pairs separated by commas; a value holding a comma, colon, quote
or newline is written as a JSON string. We write ours the same way and add a few keys of our own
(``Engine``, ``Mask grow``, ``Target size`` ...); A1111 keeps unknown keys, and so does our parser.

Our full request lives in a second chunk, ``inpaint_studio`` (``InpaintRequest.to_json``), which
:func:`request_from_png_text` prefers; ``parameters`` is the fallback for files made by other tools.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields, replace
from typing import Any

from .errors import InpaintError, RequestValidationError
from .lora import lora_tags, split_lora_tags
from .request import InpaintRequest
from .schedulers import canonical_scheduler_name

JSON_CHUNK = "inpaint_studio"
PARAMETERS_CHUNK = "parameters"

# our canonical scheduler name -> the sampler name A1111 writes
A1111_SAMPLERS: dict[str, str] = {
    "DDIM": "DDIM",
    "K_EULER": "Euler",
    "K_EULER_ANCESTRAL": "Euler a",
    "DPMSolverMultistep": "DPM++ 2M",
    "DPM++ 2M Karras": "DPM++ 2M Karras",
    "PNDM": "PLMS",
    "KLMS": "LMS",
    "UniPC": "UniPC",
    "LCM": "LCM",
    "TCD": "TCD",
    "K_EULER_TRAILING": "Euler trailing",
}

# A1111's own pattern (modules/infotext_utils.py): key, then a JSON-quoted or comma-free value
_PARAM_RE = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE_RE = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*$")


class MetadataError(InpaintError):
    """An image carries no usable generation parameters (or unreadable ones)."""


# -- writing ----------------------------------------------------------------------------------


def request_for_output(request: InpaintRequest, seed: int | None = None) -> InpaintRequest:
    """The request that makes exactly one output: ``seed`` (the one used) replaces any seed list."""
    if seed is None:
        if request.seeds is not None and len(request.seeds) == 1:
            seed = request.seeds[0]
        else:
            return request
    return replace(request, seed=seed, seeds=None, num_outputs=1)


def _quote(value: Any) -> str:
    text = str(value)
    if any(c in text for c in ',:\n"'):
        return json.dumps(text, ensure_ascii=False)
    return text


def _num(value: float) -> str:
    return repr(float(value))  # shortest text that reads back to the same float: 7.5, 1.0


def a1111_sampler_name(scheduler: str) -> str:
    """Our scheduler name (or any alias) -> the name A1111 writes; unknown names pass through."""
    try:
        return A1111_SAMPLERS[canonical_scheduler_name(scheduler)]
    except KeyError:
        return scheduler


def format_parameters(
    request: InpaintRequest, seed: int | None = None, model_name: str | None = None
) -> str:
    """The A1111 ``parameters`` text for ``request`` (``seed``: the seed used, if known)."""
    lines: list[str] = []
    prompt = request.prompt
    if request.loras:  # A1111 writes LoRAs into the prompt as <lora:NAME:WEIGHT>
        prompt = f"{prompt} {lora_tags(request.loras)}".strip()
    if prompt:
        lines.append(prompt)
    if request.negative_prompt:
        lines.append(f"Negative prompt: {request.negative_prompt}")
    if seed is None:
        seed = request.seed if request.seed is not None else (request.seeds or (None,))[0]
    model = model_name or request.model
    pairs: list[tuple[str, Any]] = [
        ("Steps", request.steps),
        ("Sampler", a1111_sampler_name(request.scheduler)),
        ("CFG scale", _num(request.guidance_scale)),
    ]
    if seed is not None:
        pairs.append(("Seed", seed))
    if request.width is not None and request.height is not None:
        pairs.append(("Size", f"{request.width}x{request.height}"))
    if model:
        pairs.append(("Model", model))
    pairs += [
        ("Denoising strength", _num(request.strength)),
        ("Mask blur", request.mask_feather),
        ("Inpaint area", "Only masked"),
        ("Masked area padding", request.mask_padding),
        ("Engine", request.engine),
        ("Mask grow", request.mask_grow),
        ("Target size", request.target_size),
    ]
    if request.color_match:
        pairs.append(("Color match", "True"))
    if not request.safety_checker:
        pairs.append(("Safety checker", "False"))
    if request.options:
        pairs.append(("Options", json.dumps(request.options, sort_keys=True)))
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in pairs))
    return "\n".join(lines)


# -- reading ----------------------------------------------------------------------------------


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            out = json.loads(value)
        except ValueError:
            return value
        return out if isinstance(out, str) else value
    return value


def parse_parameters(text: str) -> dict[str, str]:
    """Parse A1111 ``parameters`` text into ``{"prompt", "negative_prompt", <Key>: <value>...}``.

    Values stay strings (quoted ones unquoted); keys are as written (``"Steps"``, ``"CFG scale"``).
    Multi-line prompts and negative prompts keep their newlines. Follows A1111's own rule: the last
    line holds the parameters only if at least three ``Key: value`` pairs are found on it.
    """
    lines = text.strip().replace("\r\n", "\n").split("\n")
    last = lines[-1]
    if len(_PARAM_RE.findall(last)) >= 3:
        lines = lines[:-1]
    else:
        last = ""
    prompt: list[str] = []
    negative: list[str] = []
    in_negative = False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:") :].lstrip()
        (negative if in_negative else prompt).append(line)
    out: dict[str, str] = {
        "prompt": "\n".join(prompt).strip(),
        "negative_prompt": "\n".join(negative).strip(),
    }
    for key, value in _PARAM_RE.findall(last):
        out[key.strip()] = _unquote(value.strip())
    return out


def _request_fields() -> set[str]:
    return {f.name for f in fields(InpaintRequest)}


def _from_json(raw: str) -> InpaintRequest:
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the JSON is not an object")
    known = _request_fields()
    # a newer version may add fields: keep what this version knows
    return InpaintRequest.from_dict({k: v for k, v in data.items() if k in known})


def _bool(text: str) -> bool:
    return text.strip().lower() in ("true", "1", "yes", "on")


def request_from_parameters(text: str, *, strict: bool = True) -> InpaintRequest:
    """Build a request from A1111 ``parameters`` text (``engine="diffusion"`` unless it says otherwise).

    ``strict`` (default): an unknown sampler or a value out of range is a :class:`MetadataError`;
    otherwise such values are skipped and the request's defaults used.
    """
    p = parse_parameters(text)
    prompt, loras = split_lora_tags(p["prompt"])
    kw: dict[str, Any] = {
        "prompt": prompt,
        "loras": tuple(loras),
        "negative_prompt": p["negative_prompt"],
        "engine": "diffusion",
    }

    def take(key: str, name: str, conv: Any) -> None:
        if key not in p:
            return
        try:
            kw[name] = conv(p[key])
        except (ValueError, KeyError) as exc:
            if strict:
                raise MetadataError(f"parameters: cannot read {key}: {p[key]!r} ({exc})") from None

    def sampler(value: str) -> str:
        # A1111 1.6+ writes "Sampler: DPM++ 2M, Schedule type: Karras"; older ones "DPM++ 2M Karras"
        schedule = p.get("Schedule type", "").strip().lower()
        if schedule == "karras" and "karras" not in value.lower():
            try:
                return canonical_scheduler_name(f"{value} Karras")
            except KeyError:
                pass  # no Karras variant of this one here: keep the sampler itself
        return canonical_scheduler_name(value)

    def size(value: str) -> tuple[int, int]:
        m = _SIZE_RE.match(value)
        if not m:
            raise ValueError("expected WIDTHxHEIGHT")
        return int(m.group(1)), int(m.group(2))

    def engine(value: str) -> str:
        value = value.strip().lower()
        if value not in ("classical", "diffusion", "erase"):
            raise ValueError("expected classical, diffusion or erase")
        return value

    take("Steps", "steps", int)
    take("Sampler", "scheduler", sampler)
    take("CFG scale", "guidance_scale", float)
    take("Seed", "seed", int)
    take("Size", "size", size)
    take("Model", "model", str)
    take("Denoising strength", "strength", float)
    take("Mask blur", "mask_feather", int)
    take("Masked area padding", "mask_padding", int)
    take("Engine", "engine", engine)
    take("Mask grow", "mask_grow", int)
    take("Target size", "target_size", int)
    take("Color match", "color_match", _bool)
    take("Safety checker", "safety_checker", _bool)
    take("Options", "options", json.loads)
    if "size" in kw:
        kw["width"], kw["height"] = kw.pop("size")
    if not isinstance(kw.get("options", {}), dict):
        kw.pop("options")
    try:
        return InpaintRequest(**kw)
    except RequestValidationError as exc:
        if strict:
            raise MetadataError(f"parameters: {exc}") from None
    # lenient: drop the offending fields one by one until the request validates
    for _ in range(len(kw)):
        try:
            return InpaintRequest(**kw)
        except RequestValidationError as exc:
            bad = exc.field if exc.field in kw else None
            if bad is None or bad in ("prompt", "negative_prompt"):
                raise MetadataError(f"parameters: {exc}") from None
            kw.pop(bad)
            if bad in ("width", "height"):
                kw.pop("width", None)
                kw.pop("height", None)
    raise MetadataError("parameters: no valid request could be built")  # pragma: no cover


def request_from_png_text(text: dict[str, str], *, strict: bool = True) -> InpaintRequest:
    """The request stored in an image's text chunks (``LoadedImage.text``).

    Prefers our ``inpaint_studio`` JSON; falls back to A1111 ``parameters`` (also when the JSON is
    unreadable). Raises :class:`MetadataError` when neither gives a request.
    """
    json_error: str | None = None
    raw = text.get(JSON_CHUNK)
    if raw is not None:
        try:
            return _from_json(raw)
        except (ValueError, TypeError, RequestValidationError) as exc:
            json_error = f"the {JSON_CHUNK!r} chunk is unreadable ({exc})"
    params = text.get(PARAMETERS_CHUNK)
    if params is not None and params.strip():
        return request_from_parameters(params, strict=strict)
    if json_error:
        raise MetadataError(json_error)
    raise MetadataError(
        f"the image has no generation parameters (no {JSON_CHUNK!r} or {PARAMETERS_CHUNK!r} text chunk)"
    )
