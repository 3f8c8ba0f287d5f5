"""``inpaint-studio-cli params FILE``: print the generation parameters a picture carries, as JSON.

Reads PNG/JPEG/WebP made by Inpaint Studio (our ``inpaint_studio`` chunk) or by A1111 (its
``parameters`` text / EXIF comment) through :func:`inpaint_core.metadata.read_parameters`, the one
entry point for metadata reading. Exit 0 with one JSON object on stdout; exit 2 with a one-line
reason on stderr when the file has none (or is not a readable picture).
"""

from __future__ import annotations

import argparse
import json
import math

from .errors import InpaintError
from .metadata import read_parameters


def add_params_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "params", help="print the generation parameters found in a PNG/JPEG/WebP as JSON"
    )
    p.add_argument("file", help="picture: path or http(s) URL")
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail on any unreadable value instead of skipping it",
    )
    p.add_argument("--timeout", type=float, default=15.0, help="seconds allowed for a URL")


def cmd_params(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise InpaintError(f"--timeout must be a positive number of seconds, got {args.timeout!r}")
    found = read_parameters(args.file, strict=args.strict, timeout=args.timeout)
    print(json.dumps({"file": args.file, **found.to_dict()}, indent=2, ensure_ascii=False))
    return 0
