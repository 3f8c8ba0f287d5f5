"""``inpaint-studio-cli serve``: flags, the refusal to listen beyond loopback without a token."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from .config import DEFAULT_PORT, TOKEN_ENV, ServiceConfig, is_loopback_host


def add_serve_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the engine over HTTP (the hosted predictions API's shapes)",
        description="Serve predictions over HTTP. Loopback only unless --host is given, and then "
        "only with a token.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    p.add_argument(
        "--model",
        help="model behind inpaint-studio/stable-diffusion-inpainting (folder, file or repo id)",
    )
    p.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV) or None,
        help=f"API token clients must send as 'Authorization: Bearer T' (or ${TOKEN_ENV})",
    )
    p.add_argument(
        "--allow-private-urls",
        action="store_true",
        help="let input URLs point at loopback/private/link-local addresses",
    )
    p.add_argument("--queue-size", type=int, default=32, help="predictions waiting (then 429)")
    p.add_argument(
        "--keep", type=float, default=3600.0, help="seconds finished predictions are kept"
    )
    p.add_argument("--data-dir", help="folder for outputs and uploads (default: a temp folder)")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N, mps")
    p.add_argument("--dtype", help="auto (default), float32, float16, bfloat16")


def config_from_args(args: argparse.Namespace) -> ServiceConfig:
    return ServiceConfig(
        host=args.host,
        port=args.port,
        model=args.model,
        token=args.token,
        allow_private_urls=args.allow_private_urls,
        queue_size=args.queue_size,
        keep_seconds=args.keep,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        device=args.device,
        dtype=args.dtype,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """Exit 2 with one line for a bad start (no token off loopback, bad numbers)."""
    if not is_loopback_host(args.host) and not args.token:
        print(
            f"error: --host {args.host} is reachable from other machines: give --token T "
            f"(or set {TOKEN_ENV}) to serve beyond loopback",
            file=sys.stderr,
        )
        return 2
    if not 0 <= args.port <= 65535:
        print(f"error: --port must be 0..65535, got {args.port}", file=sys.stderr)
        return 2
    if args.queue_size < 0 or args.keep <= 0:
        print("error: --queue-size must be >= 0 and --keep above 0", file=sys.stderr)
        return 2
    try:  # a busy port or an address not on this machine: one line, before uvicorn starts
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        socket.create_server((args.host.strip("[]"), args.port), family=family).close()
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port} ({exc.strerror or exc})",
            file=sys.stderr,
        )
        return 2
    from .server import serve  # local: uvicorn and FastAPI load only for this command

    serve(config_from_args(args))
    return 0
