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
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from os import PathLike
from typing import Any

from .errors import InpaintError, RequestValidationError
from .imaging import MAX_BYTES, LoadedImage, load_image
from .jsonsafe import loads_limited
from .lora import lora_tags, split_lora_tags
from .request import InpaintRequest
from .schedulers import canonical_scheduler_name

JSON_CHUNK = "inpaint_studio"
PARAMETERS_CHUNK = "parameters"
#: A1111-style key of the seam score in ``parameters``, and its key in our JSON chunk
SEAM_SCORE_KEY = "Seam score"
SEAM_SCORE_JSON = "seam_score"

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

# A1111's pairs (modules/infotext_utils.py: ``\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)``)
# read by a scanner that never looks at a character twice: A1111's regex, retried at every position
# of one long line, is quadratic (a 1 MB line kept it busy for minutes). Same pairs, linear time.
_SPACE_RE = re.compile(r"\s*+")
_KEY_RUN_RE = re.compile(r"[\w \-/]*+")
_QUOTED_RE = re.compile(r'"(?:\\.|[^\\"])++"')
_TO_COMMA_RE = re.compile(r"[^,]*+")
_WORD_RE = re.compile(r"\w")

MAX_PARAMETERS_CHARS = 256 * 1024
"""Longest ``parameters`` text read (A1111's own are a few kB; a long prompt is ~10 kB)."""
MAX_JSON_CHARS = 1024 * 1024
"""Longest ``inpaint_studio`` JSON chunk read."""
MAX_JSON_DEPTH = 16
"""Deepest nesting accepted in metadata JSON (ours is 3 levels deep)."""

#: our masked-content modes -> A1111's ``Masked content`` values (its radio order: fill, original,
#: latent noise, latent nothing; older files may hold the index)
A1111_MASKED_CONTENT: dict[str, str] = {
    "fill": "fill",
    "original": "original",
    "latent_noise": "latent noise",
    "latent_nothing": "latent nothing",
}
_A1111_MASKED_CONTENT_ORDER = ("fill", "original", "latent_noise", "latent_nothing")

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
    request: InpaintRequest,
    seed: int | None = None,
    model_name: str | None = None,
    seam_score: float | None = None,
) -> str:
    """The A1111 ``parameters`` text for ``request`` (``seed``: the seed used, if known).

    ``seam_score`` (:mod:`inpaint_core.seam`, lower = better) is a fact about the picture, not a
    parameter: it is written as ``Seam score`` and ignored when the request is read back.
    """
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
    # the sampler's fields describe a diffusion run only: a classical or erase fill has none (its
    # request keeps their defaults, which a reader would take for settings that were used)
    sampled = request.engine == "diffusion"
    pairs: list[tuple[str, Any]] = []
    if sampled:
        pairs += [
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
    if sampled:
        pairs.append(("Denoising strength", _num(request.strength)))
    pairs += [
        ("Mask blur", request.mask_feather),
        ("Inpaint area", "Only masked"),
        ("Masked area padding", request.mask_padding),
        ("Engine", request.engine),
        ("Mask grow", request.mask_grow),
        ("Target size", request.target_size),
    ]
    if request.color_match:
        pairs.append(("Color match", "True"))
    # masked content / soft inpainting: A1111's key names; written when not our default, so a
    # request read back from these lines alone is the same request
    if request.masked_content is not None:
        pairs.append(("Masked content", A1111_MASKED_CONTENT[request.masked_content]))
    if not request.soft_inpainting:
        pairs.append(("Soft inpainting enabled", "False"))
    if not request.safety_checker:
        pairs.append(("Safety checker", "False"))
    if request.options:
        pairs.append(("Options", json.dumps(request.options.to_dict(), sort_keys=True)))
    if seam_score is not None:
        pairs.append((SEAM_SCORE_KEY, f"{seam_score:.4f}"))
    lines.append(", ".join(f"{k}: {_quote(v)}" for k, v in pairs))
    return "\n".join(lines)


def request_json(request: InpaintRequest, seam_score: float | None = None) -> str:
    """Our JSON chunk: the request's fields, plus ``seam_score`` when known (not a request field:
    readers skip keys that are not request fields)."""
    data = request.to_dict()
    if seam_score is not None:
        data[SEAM_SCORE_JSON] = round(float(seam_score), 4)
    return json.dumps(data, sort_keys=True)


# -- reading ----------------------------------------------------------------------------------


def seam_score_from_png_text(text: dict[str, str]) -> float | None:
    """The seam score stored with an image (our JSON chunk first, then ``parameters``), or None."""
    raw = text.get(JSON_CHUNK)
    if raw:
        try:
            value = json.loads(raw).get(SEAM_SCORE_JSON)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        except (ValueError, AttributeError):
            pass
    params = text.get(PARAMETERS_CHUNK)
    if params:
        try:
            return float(parse_parameters(params)[SEAM_SCORE_KEY])
        except (KeyError, ValueError):
            return None
    return None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            out = json.loads(value)
        except ValueError:
            return value
        return out if isinstance(out, str) else value
    return value


def _scan_pairs(line: str) -> list[tuple[str, str]]:
    """The ``Key: value`` pairs of A1111's last line, as its regex finds them, in linear time.

    A key is a run of word characters, spaces, ``-`` and ``/`` starting with a word character, at
    least two long, right before a ``:``. When a key fails, every later start inside the same run
    reaches the same end and fails the same way, so the scan jumps past the run (the regex tries
    each position again: that is its quadratic case).
    """
    pairs: list[tuple[str, str]] = []
    n = len(line)
    pos = 0
    while pos < n:
        start = _SPACE_RE.match(line, pos).end()
        if start >= n:
            break
        if not _WORD_RE.match(line, start):
            pos = start + 1
            continue
        end = _KEY_RUN_RE.match(line, start).end()
        if end - start < 2 or end >= n or line[end] != ":":
            pos = max(end, start + 1)
            continue
        vstart = _SPACE_RE.match(line, end + 1).end()
        quoted = _QUOTED_RE.match(line, vstart) if line.startswith('"', vstart) else None
        if quoted is not None and (quoted.end() == n or line[quoted.end()] == ","):
            vend = quoted.end()
        else:
            vend = _TO_COMMA_RE.match(line, vstart).end()
        pairs.append((line[start:end], line[vstart:vend]))
        pos = vend + 1  # past the comma (or the end)
    return pairs


def parse_parameters(text: str) -> dict[str, str]:
    """Parse A1111 ``parameters`` text into ``{"prompt", "negative_prompt", <Key>: <value>...}``.

    Values stay strings (quoted ones unquoted); keys are as written (``"Steps"``, ``"CFG scale"``).
    Multi-line prompts and negative prompts keep their newlines. Follows A1111's own rule: the last
    line holds the parameters only if at least three ``Key: value`` pairs are found on it.
    """
    if len(text) > MAX_PARAMETERS_CHARS:
        raise MetadataError(
            f"the parameters text is {len(text):,} characters long, over the limit of "
            f"{MAX_PARAMETERS_CHARS:,}"
        )
    lines = text.strip().replace("\r\n", "\n").split("\n")
    pairs = _scan_pairs(lines[-1])
    if len(pairs) >= 3:
        lines = lines[:-1]
    else:
        pairs = []
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
    for key, value in pairs:
        out[key.strip()] = _unquote(value.strip())
    return out


def _request_fields() -> set[str]:
    return {f.name for f in fields(InpaintRequest)}


def _from_json(raw: str) -> InpaintRequest:
    data = loads_limited(
        raw, what=f"the {JSON_CHUNK!r} chunk", max_chars=MAX_JSON_CHARS, max_depth=MAX_JSON_DEPTH
    )
    if not isinstance(data, dict):
        raise ValueError("the JSON is not an object")
    known = _request_fields()
    # a newer version may add fields: keep what this version knows
    return InpaintRequest.from_dict({k: v for k, v in data.items() if k in known})


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise ValueError("expected True or False")


def _options(text: str) -> dict[str, Any]:
    value = loads_limited(text, what="Options", max_chars=64 * 1024, max_depth=MAX_JSON_DEPTH)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _masked_content(text: str) -> str:
    value = text.strip().lower()
    if value.isdigit():
        index = int(value)
        if index >= len(_A1111_MASKED_CONTENT_ORDER):
            raise ValueError("expected an index 0-3")
        return _A1111_MASKED_CONTENT_ORDER[index]
    value = value.replace(" ", "_")
    if value not in _A1111_MASKED_CONTENT_ORDER:
        raise ValueError("expected fill, original, latent noise or latent nothing")
    return value


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
    take("Options", "options", _options)
    take("Masked content", "masked_content", _masked_content)
    take("Soft inpainting enabled", "soft_inpainting", _bool)
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


@dataclass(frozen=True)
class FoundParameters:
    """Generation parameters found in an image: the request, the chunk it came from
    (``"inpaint_studio"`` or ``"parameters"``) and, for A1111 text, its pairs as written."""

    request: InpaintRequest
    chunk: str
    fields: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"chunk": self.chunk, "request": self.request.to_dict()}
        if self.fields:
            out["a1111"] = dict(self.fields)
        return out


def parameters_from_text(text: Mapping[str, str], *, strict: bool = True) -> FoundParameters:
    """The parameters in an image's text chunks (``LoadedImage.text``).

    Prefers our ``inpaint_studio`` JSON; falls back to A1111 ``parameters`` (also when the JSON is
    unreadable). Raises :class:`MetadataError` when neither gives a request. Every reader here is
    linear-time and size-capped: safe on any file's text, but still meant for a worker thread.
    """
    json_error: str | None = None
    raw = text.get(JSON_CHUNK)
    if raw is not None:
        try:
            return FoundParameters(_from_json(raw), JSON_CHUNK)
        except (ValueError, TypeError, RequestValidationError) as exc:
            json_error = f"the {JSON_CHUNK!r} chunk is unreadable ({exc})"
    params = text.get(PARAMETERS_CHUNK)
    if params is not None and params.strip():
        request = request_from_parameters(params, strict=strict)
        return FoundParameters(request, PARAMETERS_CHUNK, parse_parameters(params))
    if json_error:
        raise MetadataError(json_error)
    raise MetadataError(
        f"the image has no generation parameters (no {JSON_CHUNK!r} or {PARAMETERS_CHUNK!r} text chunk)"
    )


def request_from_png_text(text: Mapping[str, str], *, strict: bool = True) -> InpaintRequest:
    """The request stored in an image's text chunks: :func:`parameters_from_text`'s request."""
    return parameters_from_text(text, strict=strict).request


def parameters_or_none(text: Mapping[str, str]) -> FoundParameters | None:
    """:func:`parameters_from_text` (lenient) or None when the image carries none (or bad ones)."""
    if not text:
        return None
    try:
        return parameters_from_text(text, strict=False)
    except InpaintError:
        return None


def read_parameters(
    source: str | PathLike[str] | bytes | LoadedImage | Mapping[str, str],
    *,
    strict: bool = False,
    max_bytes: int = MAX_BYTES,
    max_pixels: int | None = None,
    timeout: float = 15.0,
) -> FoundParameters:
    """The one entry point for reading generation parameters from a picture (PNG/JPEG/WebP made by
    us or by A1111): a path, URL or bytes (loaded with the usual limits), an already loaded image,
    or its text chunks. Raises :class:`MetadataError` when there are none, ``ImageLoadError`` when
    the file is not a readable image."""
    if isinstance(source, LoadedImage):
        text: Mapping[str, str] = source.text
    elif isinstance(source, Mapping):
        text = source
    else:
        text = load_image(source, max_bytes=max_bytes, max_pixels=max_pixels, timeout=timeout).text
    return parameters_from_text(text, strict=strict)
