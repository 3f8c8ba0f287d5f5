"""JSON from untrusted places (image metadata, model headers and configs), size- and depth-capped.

``json.loads`` is linear-time, but it recurses once per nesting level: a few kB of ``[[[[...`` raise
RecursionError (or, deep inside a Qt slot, hit the interpreter's limit sooner). :func:`loads_limited`
caps the text's length before parsing, turns a RecursionError into a typed error, and checks the
nesting depth of what it got (iteratively), so every caller sees one error type with a reason.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import InpaintError

DEFAULT_MAX_CHARS = 1024 * 1024
DEFAULT_MAX_DEPTH = 32


class JsonLimitError(InpaintError, ValueError):
    """Untrusted JSON is over a limit (size, nesting depth) or not valid JSON."""


def json_depth(value: Any) -> int:
    """Nesting depth of lists/dicts in ``value`` (a scalar is 0, ``[]`` is 1); iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def loads_limited(
    text: str | bytes,
    *,
    what: str = "JSON",
    max_chars: int = DEFAULT_MAX_CHARS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Any:
    """``json.loads`` with a length cap and a depth cap; every failure is a :class:`JsonLimitError`
    whose message starts with ``what``."""
    if len(text) > max_chars:
        raise JsonLimitError(
            f"{what} is {len(text):,} characters long, over the limit of {max_chars:,}"
        )
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonLimitError(f"{what} is nested too deeply (over {max_depth} levels)") from None
    except (ValueError, TypeError) as exc:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
        raise JsonLimitError(f"{what} is not valid JSON ({exc})") from None
    if json_depth(value) > max_depth:
        raise JsonLimitError(f"{what} is nested too deeply (over {max_depth} levels)")
    return value
