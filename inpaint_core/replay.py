"""``run --params-from PICTURE``: make a picture again from the generation parameters inside it.

The request comes whole from the picture (our ``inpaint_studio`` JSON, else A1111 ``parameters``,
through :func:`inpaint_core.metadata.read_parameters`): seed, sampler, strength, grow, feather,
padding... exactly as they were, with no engine default or model preset put in their place. Only
the flags the command line itself gives change it (``--seed 9`` tries another seed, ``--model``
points at the model where it lives on this machine); a flag left at its default changes nothing.
So ``run --image photo --mask mask --params-from out.png`` gives ``out.png`` again, bit for bit
(same device and dtype).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .lora import parse_lora_arg, split_lora_tags
from .metadata import read_parameters
from .request import InpaintRequest, follow_seam_defaults

#: ``run`` flags (their argparse dest) that set one request field as they are
_SAME_VALUE = {
    "negative_prompt": "negative_prompt",
    "scheduler": "scheduler",
    "steps": "steps",
    "guidance_scale": "guidance_scale",
    "strength": "strength",
    "width": "width",
    "height": "height",
    "target_size": "target_size",
    "padding": "mask_padding",
    "grow": "mask_grow",
    "feather": "mask_feather",
    "masked_content": "masked_content",
    "model": "model",
}


def explicit_dests(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The argparse destinations ``argv`` sets itself (not the parser's defaults): ``argv`` parsed
    again with every default suppressed. ``parser`` is changed: build a fresh one for this."""
    parsers = [parser]
    for p in parsers:  # grows while walking: the subcommands' parsers too
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
            else:
                action.default = argparse.SUPPRESS
        p._defaults.clear()
    return set(vars(parser.parse_args(list(argv))))


def request_from_picture(
    source: str, args: argparse.Namespace, given: set[str], *, timeout: float = 15.0
) -> InpaintRequest:
    """The request stored in ``source`` (a picture's path or URL), changed only by the flags in
    ``given`` (:func:`explicit_dests`). Raises :class:`~inpaint_core.metadata.MetadataError`
    when the picture carries none, :class:`~inpaint_core.errors.RequestValidationError` when a
    flag makes it invalid."""
    stored = read_parameters(source, strict=True, timeout=timeout).request
    changes: dict[str, Any] = {
        field: getattr(args, dest) for dest, field in _SAME_VALUE.items() if dest in given
    }
    if "prompt" in given:
        changes["prompt"], tagged = split_lora_tags(args.prompt)
    else:
        tagged = []
    if "lora" in given or tagged:
        changes["loras"] = (*(parse_lora_arg(x) for x in getattr(args, "lora", ())), *tagged)
    if "no_safety_checker" in given:
        changes["safety_checker"] = False
    if "color_match" in given:
        changes["color_match"] = True
    if "no_soft_inpainting" in given:
        changes["soft_inpainting"] = False
    if "method" in given:
        changes["options"] = replace(stored.options, method=args.method)
    if "seed" in given:
        changes.update(seed=args.seed, seeds=None)
    if "seeds" in given:
        changes["seeds"] = args.seeds
    if "num_outputs" in given:
        changes.update(num_outputs=args.num_outputs, seeds=changes.get("seeds"))
    if "engine" in given and args.engine != stored.engine:
        changes["engine"] = args.engine
        # grow/feather still at the stored engine's defaults take the new engine's (as the studio)
        grow, feather = follow_seam_defaults(
            stored.engine,
            args.engine,
            changes.get("mask_grow", stored.mask_grow),
            changes.get("mask_feather", stored.mask_feather),
        )
        changes.setdefault("mask_grow", grow)
        changes.setdefault("mask_feather", feather)
        if args.engine == "classical" and "model" not in given:
            changes["model"] = None  # the classical engine runs no model
    return replace(stored, **changes)
