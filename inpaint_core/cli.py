"""``inpaint-studio-cli``: the headless front door (run, models; compare comes with sweeps).

Exit codes: 0 done, 2 bad input (one-line reason on stderr), 3 cancelled, 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import batch
from .errors import InpaintError, JobCancelled
from .events import EngineEvent
from .request import SEAM_DEFAULTS, InpaintRequest


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds must be whole numbers separated by commas, got {text!r}"
        ) from None


def add_request_arguments(p: argparse.ArgumentParser) -> None:
    """Every InpaintRequest field as a flag named after it (shared by run and compare)."""
    d = InpaintRequest()
    p.add_argument(
        "--engine",
        choices=["classical", "diffusion"],
        default=None,
        help="fill engine (default: diffusion when --model is given, else classical)",
    )
    p.add_argument(
        "--model", help="diffusers folder, .safetensors file, or a repo id in the HF cache"
    )
    p.add_argument("--prompt", default=d.prompt)
    p.add_argument("--negative-prompt", default=d.negative_prompt)
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--guidance-scale", type=float, default=d.guidance_scale)
    p.add_argument("--strength", type=float, default=d.strength)
    p.add_argument("--num-outputs", type=int, default=d.num_outputs)
    p.add_argument(
        "--width", type=int, help="working width (multiple of 8); default: crop's aspect"
    )
    p.add_argument("--height", type=int, help="working height (multiple of 8)")
    p.add_argument(
        "--target-size",
        type=int,
        default=d.target_size,
        help="working long side when no size is given",
    )
    p.add_argument("--no-safety-checker", action="store_true", help="turn the safety checker off")
    p.add_argument(
        "--padding", type=int, default=d.mask_padding, help="context pixels around the mask"
    )
    grow_c, feather_c = SEAM_DEFAULTS["classical"]
    grow_d, feather_d = SEAM_DEFAULTS["diffusion"]
    p.add_argument(
        "--grow",
        type=int,
        default=None,
        help=f"grow the mask by N pixels (default: {grow_c} classical, {grow_d} diffusion)",
    )
    p.add_argument(
        "--feather",
        type=int,
        default=None,
        help=f"feather the paste-back seam by N pixels "
        f"(default: {feather_c} classical, {feather_d} diffusion)",
    )
    p.add_argument(
        "--color-match", action="store_true", help="match the fill's colours to its surroundings"
    )
    p.add_argument(
        "--method",
        help="classical engine method: auto (default), dct, biharmonic, telea, ns, "
        "patch (large holes: copies texture)",
    )
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N, mps")
    p.add_argument(
        "--dtype", help="auto (default: fp16 on CUDA, fp32 elsewhere), float32, float16, bfloat16"
    )
    p.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        help="refuse photos above this many pixels (default 150 MP)",
    )
    p.add_argument("--timeout", type=float, default=15.0, help="seconds allowed to download a URL")


def request_from_args(args: argparse.Namespace, **overrides: Any) -> InpaintRequest:
    engine = args.engine or ("diffusion" if args.model else "classical")
    fields: dict[str, Any] = dict(
        prompt=args.prompt,
        negative_prompt=args.negative_prompt,
        steps=args.steps,
        guidance_scale=args.guidance_scale,
        strength=args.strength,
        num_outputs=args.num_outputs,
        width=args.width,
        height=args.height,
        target_size=args.target_size,
        safety_checker=not args.no_safety_checker,
        engine=engine,
        model=args.model,
        mask_padding=args.padding,
        mask_grow=args.grow,
        mask_feather=args.feather,
        color_match=args.color_match,
        options={"method": args.method} if args.method else {},
    )
    for name in ("scheduler", "seed", "seeds"):
        if getattr(args, name, None) is not None:
            fields[name] = getattr(args, name)
    fields.update(overrides)
    return InpaintRequest(**fields)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inpaint-studio-cli", description="Inpaint Studio from the command line."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="fill the masked area of a photo")
    run.add_argument("--image", required=True, help="photo: path or http(s) URL")
    run.add_argument(
        "--mask",
        required=True,
        help="mask: path or URL (white/opaque-paint = fill, or transparency)",
    )
    run.add_argument("--out", required=True, help="output PNG, or a folder for several outputs")
    run.add_argument("--mask-from", choices=["auto", "alpha", "luma"], default="auto")
    run.add_argument(
        "--resize-mask", action="store_true", help="scale a mask of another size to the photo"
    )
    run.add_argument("--scheduler", default=None)
    run.add_argument("--seed", type=int, default=None)
    run.add_argument(
        "--seeds", type=_seeds, default=None, help="comma-separated seeds, one output each"
    )
    add_request_arguments(run)
    run.add_argument(
        "--json", action="store_true", help="print one JSON object listing the outputs"
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    cmp_ = sub.add_parser(
        "compare",
        help="sweep seeds x schedulers (x steps, guidance, strength) into a contact sheet",
    )
    cmp_.add_argument("--image", required=True, help="photo: path or http(s) URL")
    cmp_.add_argument("--mask", required=True, help="mask: path or URL")
    cmp_.add_argument("--out", required=True, help="folder for the contact sheet and every cell")
    cmp_.add_argument("--mask-from", choices=["auto", "alpha", "luma"], default="auto")
    cmp_.add_argument("--resize-mask", action="store_true")
    cmp_.add_argument("--seeds", default="4", help="N random seeds, or a comma-separated list")
    cmp_.add_argument("--seed", type=int, default=None, help="first seed when --seeds is a count")
    cmp_.add_argument("--schedulers", default="", help="comma-separated scheduler names")
    cmp_.add_argument("--steps-list", default="", help="comma-separated step counts (an axis)")
    cmp_.add_argument(
        "--guidance-list", default="", help="comma-separated guidance scales (an axis)"
    )
    cmp_.add_argument("--strength-list", default="", help="comma-separated strengths (an axis)")
    cmp_.add_argument("--scheduler", default=None, help="scheduler when --schedulers is not given")
    add_request_arguments(cmp_)
    cmp_.add_argument("--json", action="store_true")
    cmp_.add_argument("--quiet", action="store_true")
    cmp_.add_argument(
        "--yes", action="store_true", help="(kept for scripts) start without the estimate pause"
    )

    batch_ = sub.add_parser(
        "batch", help="restore a folder of photos with their masks (resumable; local or Ray)"
    )
    batch.add_arguments(batch_)
    batch_.add_argument("--scheduler", default=None)
    batch_.add_argument("--seed", type=int, default=None, help="default: derived from each input")
    batch_.add_argument("--seeds", type=_seeds, default=None, help="comma-separated, per image")
    add_request_arguments(batch_)

    models = sub.add_parser("models", help="list the models found on this machine")
    models.add_argument("--json", action="store_true")
    models.add_argument("--dir", action="append", default=[], help="also look in this folder")
    return parser


class ProgressBar:
    """tqdm on stderr, driven by engine events."""

    def __init__(self, enabled: bool, label: str) -> None:
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=100,
                desc=label,
                unit="%",
                file=sys.stderr,
                leave=False,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
            )

    def __call__(self, event: EngineEvent) -> None:
        if self._bar is None:
            return
        if event.kind == "progress":
            self._bar.n = int(round(100 * event.progress))
            if event.message:
                self._bar.set_description_str(event.message, refresh=False)
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def output_paths(out: str, stem: str, seeds: list[int | None]) -> list[Path]:
    """``--out`` names a file (one output) or a folder (several; or any name without a suffix)."""
    path = Path(out)
    if len(seeds) == 1 and path.suffix and not path.is_dir():
        return [path]
    if path.suffix and not path.is_dir():  # several outputs but a file name: number them beside it
        return [
            path.with_name(f"{path.stem}-{i + 1}-seed{s}{path.suffix}") for i, s in enumerate(seeds)
        ]
    return [path / f"{stem}-{i + 1}-seed{s}.png" for i, s in enumerate(seeds)]


def cmd_run(args: argparse.Namespace) -> int:
    from . import imaging
    from .inpaint import inpaint

    request = request_from_args(args)
    photo, mask = _load_inputs(args)
    engine = _engine_for(request, args)
    bar = ProgressBar(not args.quiet and not args.json, request.engine)
    try:
        results = inpaint(request, photo, mask, engine, bar)
    finally:
        bar.close()
    model_name = getattr(engine, "model_name", None)
    paths = output_paths(
        args.out, Path(str(photo.source)).stem or "inpaint", [r.seed for r in results]
    )
    outputs = []
    for result, path in zip(results, paths, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        imaging.save_png(
            path,
            result.composite(photo.rgb),
            alpha=photo.alpha,
            request=result.request,
            seed=result.seed,
            model_name=model_name,
        )
        outputs.append(
            {
                "path": str(path),
                "seed": result.seed,
                "nsfw_flagged": result.nsfw_flagged,
                "box": [result.box.x0, result.box.y0, result.box.x1, result.box.y1],
            }
        )
    if args.json:
        print(json.dumps({"outputs": outputs, "engine": request.engine, "model": request.model}))
    else:
        for o in outputs:
            flag = "  (flagged by the safety checker)" if o["nsfw_flagged"] else ""
            print(f"wrote {o['path']} (seed {o['seed']}){flag}")
    return 0


def _list(text: str, kind: type, flag: str) -> list[Any]:
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InpaintError(
            f"{flag} must be a comma-separated list of numbers, got {text!r}"
        ) from None


def _load_inputs(args: argparse.Namespace):
    from . import imaging

    limits: dict[str, Any] = {"timeout": args.timeout}
    if args.max_pixels:
        limits["max_pixels"] = args.max_pixels
    photo = imaging.load_image(args.image, **limits)
    mask = imaging.load_mask(args.mask, photo.size, resize=args.resize_mask, channel=args.mask_from)
    return photo, mask


def _engine_for(request: InpaintRequest, args: argparse.Namespace):
    from .engines.base import get_engine

    if request.engine == "diffusion":
        if not request.model:
            raise InpaintError("--engine diffusion needs --model PATH|REPO_ID")
        return get_engine("diffusion", model=request.model, device=args.device, dtype=args.dtype)
    return get_engine("classical")


def _prior_step_seconds(base: InpaintRequest, mask: Any, engine: Any) -> float | None:
    """A first guess for the estimate: the real working grid, the device the model will use."""
    from .inpaint import plan_for
    from .sweep import prior_seconds_per_step

    try:
        grid = plan_for(base, mask, engine).grid
    except InpaintError:
        return None
    device = "cpu"
    if base.engine == "diffusion":
        from .models import resolve_device

        try:
            device = resolve_device(getattr(engine, "device", None))
        except InpaintError:
            pass
    return prior_seconds_per_step(base, grid, device)


def cmd_compare(args: argparse.Namespace) -> int:
    from PIL import Image

    from .contact_sheet import contact_sheet, save_cell_png
    from .sweep import plan_sweep, run_sweep

    seeds_text = args.seeds.strip()
    seeds: int | list[int] = (
        int(seeds_text) if "," not in seeds_text else _list(seeds_text, int, "--seeds")
    )
    base = request_from_args(args, seeds=None)
    plan = plan_sweep(
        base,
        seeds=seeds,
        schedulers=[s.strip() for s in args.schedulers.split(",") if s.strip()] or None,
        steps=_list(args.steps_list, int, "--steps-list") or None,
        guidance_scales=_list(args.guidance_list, float, "--guidance-list") or None,
        strengths=_list(args.strength_list, float, "--strength-list") or None,
    )
    photo, mask = _load_inputs(args)
    engine = _engine_for(base, args)
    step_s = getattr(engine, "seconds_per_step", None) or _prior_step_seconds(base, mask, engine)
    print(f"compare: {plan.summary(step_s)}", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_name = getattr(engine, "model_name", None)
    written: list[dict[str, Any]] = []

    bar = ProgressBar(not args.quiet and not args.json, "compare")

    def on_event(event: EngineEvent) -> None:
        bar(event)
        if event.kind == "partial":
            for cr in event.images:
                path = save_cell_png(out, cr, photo.rgb, photo.alpha, model_name)
                written.append(
                    {
                        "path": str(path),
                        "row": cr.cell.row,
                        "col": cr.cell.col,
                        "seed": cr.result.seed,
                        "label": cr.cell.label,
                        "nsfw_flagged": cr.result.nsfw_flagged,
                    }
                )

    cells = []
    try:
        cells = run_sweep(plan, photo, mask, engine, on_event)
    finally:
        bar.close()
    sheet_path = out / "contact-sheet.png"
    title = f"{Path(str(photo.source)).name}: {base.prompt or '(no prompt)'}"
    Image.fromarray(contact_sheet(plan, cells, title=title)).save(sheet_path)
    if args.json:
        print(json.dumps({"contact_sheet": str(sheet_path), "cells": written}))
    else:
        print(f"wrote {sheet_path} and {len(written)} cells to {out}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from . import models

    found = models.list_models([Path(d) for d in args.dir] or None)
    if args.json:
        print(
            json.dumps(
                {"models": [m.to_dict() if hasattr(m, "to_dict") else vars(m) for m in found]},
                default=str,
            )
        )
    else:
        print(models.format_model_table(found))
    return 0


def main(argv: list[str] | None = None) -> int:
    import os

    # our own progress bar reports loading; keep library chatter off stderr (users can override)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "models":
            return cmd_models(args)
        if args.command == "batch":
            return batch.main(args, request_from_args(args))
    except JobCancelled:
        print("cancelled", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 3
    except (InpaintError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
