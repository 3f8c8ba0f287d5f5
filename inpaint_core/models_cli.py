"""``inpaint-studio-cli models [list|catalog|download|remove]``: the model manager's front door.

``models`` alone lists what is installed (as it always did). Downloads show one progress bar
with bytes, rate and ETA on stderr; Ctrl+C stops and keeps the partial files for a resume.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .errors import JobCancelled
from .events import CancelToken


def add_models_parser(sub: Any) -> None:
    models = sub.add_parser(
        "models", help="list, download and remove models (alone: list the installed ones)"
    )
    models.add_argument("--json", action="store_true")
    models.add_argument("--dir", action="append", default=[], help="also look in this folder")
    msub = models.add_subparsers(dest="models_command")
    lst = msub.add_parser("list", help="installed models: family, precision, size, where")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--dir", action="append", default=[], help="also look in this folder")
    cat = msub.add_parser("catalog", help="the curated models `download` knows by name")
    cat.add_argument("--json", action="store_true")
    dl = msub.add_parser(
        "download", help="download a catalogue name, a repo id (org/name) or a URL"
    )
    dl.add_argument(
        "source", help="catalogue name (see `models catalog`), org/name, or http(s) URL"
    )
    dl.add_argument("--revision", default=None, help="branch, tag or commit (default main)")
    dl.add_argument("--token", default=None, help="Hugging Face token (gated repos); or HF_TOKEN")
    dl.add_argument("--file", default=None, help="fetch only this file of the repo (a LoRA)")
    dl.add_argument("--variant", default=None, help="weights variant, e.g. fp16")
    dl.add_argument("--sha256", default=None, help="expected SHA-256 of a URL download")
    dl.add_argument("--dest", default=None, help="models folder to download into")
    dl.add_argument(
        "--accept-license", action="store_true", help="accept the model's licence (gated models)"
    )
    dl.add_argument("--json", action="store_true")
    dl.add_argument("--quiet", action="store_true")
    rm = msub.add_parser("remove", help="delete a downloaded model or LoRA from the models folder")
    rm.add_argument("name", help="folder or file name in the models folder (or its path)")
    rm.add_argument("--json", action="store_true")


def cmd_models(args: argparse.Namespace) -> int:
    command = getattr(args, "models_command", None) or "list"
    return {"list": _list, "catalog": _catalog, "download": _download, "remove": _remove}[command](
        args
    )


def _list(args: argparse.Namespace) -> int:
    from . import models
    from .lora import list_loras

    found = models.list_models([Path(d) for d in args.dir] or None) + list_loras()
    if args.json:
        print(json.dumps({"models": [m.to_dict() for m in found]}, default=str))
    else:
        print(models.format_model_table(found))
    return 0


def _catalog(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from .models.manager import CATALOG

    if args.json:
        print(json.dumps({"catalog": [asdict(e) for e in CATALOG.values()]}))
        return 0
    for e in CATALOG.values():
        gate = "  [gated: licence + token]" if e.gated else ""
        vram = f", ~{e.vram_gb:g} GB VRAM" if e.vram_gb else ""
        print(f"{e.name:18} {e.repo_id:52} ~{e.approx_gb:g} GB{vram}  {e.description}{gate}")
    return 0


class _Bar:
    """tqdm in bytes (size, rate, ETA) on stderr."""

    def __init__(self, enabled: bool, total: int, initial: int) -> None:
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total or None,
                initial=initial,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                desc="download",
                leave=False,
            )

    def __call__(self, progress: Any) -> None:
        if self._bar is not None:
            self._bar.set_description_str(progress.file, refresh=False)
            self._bar.update(progress.done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _download(args: argparse.Namespace) -> int:
    from .models.manager import download, plan_download

    plan = plan_download(
        args.source,
        dest_dir=Path(args.dest) if args.dest else None,
        revision=args.revision,
        token=args.token,
        file=args.file,
        variant=args.variant,
        sha256=args.sha256,
        accept_license=args.accept_license,
    )
    if not args.quiet and not args.json:
        size = f"{plan.total_bytes / 2**20:.1f} MB" if plan.total_bytes else "size unknown"
        print(f"downloading {len(plan.files)} file(s), {size}, to {plan.dest}", file=sys.stderr)
    cancel = CancelToken()
    bar = _Bar(not args.quiet and not args.json, plan.total_bytes, 0)
    try:
        dest = download(plan, token=args.token, on_progress=bar, cancel=cancel)
    except KeyboardInterrupt:
        cancel.cancel()
        raise JobCancelled("download interrupted; run the same command again to resume") from None
    finally:
        bar.close()
    if args.json:
        print(json.dumps({"path": str(dest), "files": len(plan.files), "bytes": plan.total_bytes}))
    else:
        print(f"downloaded {plan.source} to {dest}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from .models.manager import remove_model

    removed = remove_model(args.name)
    print(json.dumps({"removed": str(removed)}) if args.json else f"removed {removed}")
    return 0
