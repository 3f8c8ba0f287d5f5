"""``inpaint-studio-cli``: the headless front door (run, models; compare comes with sweeps).

Exit codes: 0 done, 2 bad input (one-line reason on stderr), 3 cancelled, 1 unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from . import batch, cli_smart_mask
from .errors import InpaintError, JobCancelled
from .events import EngineEvent
from .files import FileWriteError, clean_stale_temp_files, describe_os_error
from .masks import RESIZE_FLAG_HINT
from .models_cli import add_models_parser, cmd_models
from .params_cli import add_params_parser, cmd_params
from .request import MASKED_CONTENT, SEAM_DEFAULTS, InpaintRequest
from .service.cli import add_serve_parser, cmd_serve


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
        choices=["classical", "diffusion", "erase"],
        default=None,
        help="fill engine (default: diffusion when --model is given, else classical)",
    )
    p.add_argument(
        "--model", help="diffusers folder, .safetensors file, or a repo id in the HF cache"
    )
    p.add_argument("--prompt", default=d.prompt)
    p.add_argument("--negative-prompt", default=d.negative_prompt)
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help=f"denoising steps (default {d.steps}, or a few-step model's own)",
    )
    p.add_argument(
        "--guidance-scale",
        type=float,
        default=None,
        help=f"CFG scale (default {d.guidance_scale}, or a few-step model's own)",
    )
    p.add_argument("--strength", type=float, default=d.strength)
    p.add_argument("--num-outputs", type=int, default=d.num_outputs)
    p.add_argument(
        "--max-batch",
        type=int,
        default=None,
        help="seeds per diffusion call (default 4: faster, each seed within a level of itself "
        "alone; 1: each seed exactly the picture it gives alone). Replays are exact either way",
    )
    p.add_argument(
        "--width", type=int, help="working width (multiple of 8); default: crop's aspect"
    )
    p.add_argument("--height", type=int, help="working height (multiple of 8)")
    p.add_argument(
        "--target-size",
        type=int,
        default=None,
        help=f"working long side when no size is given (default {d.target_size}; SDXL 1024)",
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
    p.add_argument(
        "--lora",
        action="append",
        default=[],
        metavar="PATH[:SCALE]",
        help="apply a LoRA (.safetensors, kohya/A1111 or diffusers format, or a name in the "
        "models folder's loras/) with a weight (default 1.0); repeat for several. "
        "<lora:NAME:WEIGHT> in the prompt works too",
    )
    p.add_argument(
        "--allow-non-inpainting",
        action="store_true",
        help="use a plain (4-channel) SD/SDXL model as an inpainting model via masked img2img "
        "(lower quality than an inpainting model)",
    )
    p.add_argument(
        "--memory",
        choices=["auto", "full", "sliced", "tiled", "offload", "sequential"],
        default=None,
        help="GPU memory ladder: auto (default: from the VRAM), full, sliced (attention "
        "slicing), tiled (+VAE tiling), offload (model CPU offload), sequential (slowest)",
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
    p.add_argument(
        "--max-mb",
        type=float,
        default=None,
        help="refuse image and mask files above this many MiB (default $INPAINT_MAX_MB or 50; "
        "raise it for big 16-bit scans)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=15.0,
        help="seconds allowed for a URL: connect, headers, redirects and body together",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="allow --out to name an input file (it is replaced)",
    )
    # -- masked content / soft inpainting (engines/masked_content.py, engines/soft_inpaint.py)
    p.add_argument(
        "--masked-content",
        choices=list(MASKED_CONTENT),
        default=None,
        help="what the model starts from inside the mask (default: fill with an empty prompt, "
        "else original)",
    )
    p.add_argument(
        "--no-soft-inpainting",
        action="store_true",
        help="feathered masks: blend only at paste-back, not during denoising",
    )


def request_from_args(args: argparse.Namespace, **overrides: Any) -> InpaintRequest:
    from .lora import parse_lora_arg, split_lora_tags

    engine = args.engine or ("diffusion" if args.model else "classical")
    prompt, tagged = split_lora_tags(args.prompt)
    loras = (*(parse_lora_arg(x) for x in getattr(args, "lora", None) or ()), *tagged)
    fields: dict[str, Any] = dict(
        prompt=prompt,
        loras=loras,
        negative_prompt=args.negative_prompt,
        strength=args.strength,
        num_outputs=args.num_outputs,
        width=args.width,
        height=args.height,
        safety_checker=not args.no_safety_checker,
        engine=engine,
        model=args.model,
        mask_padding=args.padding,
        mask_grow=args.grow,
        mask_feather=args.feather,
        color_match=args.color_match,
        options={
            k: v
            for k, v in (("method", args.method), ("max_batch", args.max_batch))
            if v is not None
        },
    )
    fields["masked_content"] = args.masked_content
    fields["soft_inpainting"] = not args.no_soft_inpainting
    # what the model asks for (its family's grid; a few-step model's sampler), where not given
    if engine == "diffusion" and args.model:
        from .models.presets import suggested_settings

        suggestion = suggested_settings(args.model, [lora.path for lora in loras])
        given = {
            name
            for name in ("scheduler", "steps", "guidance_scale", "target_size")
            if getattr(args, name, None) is not None
        }
        fields.update({k: v for k, v in suggestion.fields.items() if k not in given})
        if suggestion.reason and not {"scheduler", "steps", "guidance_scale"} <= given:
            print(
                f"{suggestion.reason} (set --scheduler/--steps/--guidance-scale to override)",
                file=sys.stderr,
            )
    for name in ("scheduler", "seed", "seeds", "steps", "guidance_scale", "target_size"):
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
    run.add_argument(
        "--image", required=True, help="photo: path or http(s) URL, or an .ora project"
    )
    run.add_argument(
        "--mask",
        help="mask: path or URL (white/opaque-paint = fill, or transparency); "
        "optional with --extend, or when --image is an .ora with a Mask layer",
    )
    run.add_argument(
        "--out",
        required=True,
        help="output PNG/JPEG/WebP, a folder for several outputs, or NAME.ora for one layered project",
    )
    run.add_argument("--mask-from", choices=["auto", "alpha", "luma"], default="auto")
    run.add_argument(
        "--resize-mask", action="store_true", help="scale a mask of another size to the photo"
    )
    run.add_argument(
        "--params-from",
        metavar="PICTURE",
        help="make a picture again: every generation setting from the parameters inside PICTURE "
        "(a PNG/JPEG/WebP made by us or A1111); flags given beside it change those settings",
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
    # -- outpainting (inpaint_core.outpaint)
    run.add_argument(
        "--extend", help="outpaint: grow the canvas by LEFT,TOP,RIGHT,BOTTOM pixels (or one N)"
    )
    run.add_argument(
        "--extend-to-aspect", help="outpaint: grow the short side to an aspect ratio, e.g. 16:9"
    )
    run.add_argument(
        "--overlap",
        type=int,
        default=None,
        help="outpaint: photo pixels along the old edge that may be repainted (default 32)",
    )
    run.add_argument(
        "--prefill",
        choices=["edge", "classical"],
        default="edge",
        help="outpaint: what the new area starts as (stretched edge, or the classical fill)",
    )

    cmp_ = sub.add_parser(
        "compare",
        help="sweep seeds x schedulers (x steps, guidance, strength) into a contact sheet",
    )
    cmp_.add_argument("--image", required=True, help="photo: path or http(s) URL, or an .ora")
    cmp_.add_argument("--mask", help="mask: path or URL (optional for an .ora with a Mask layer)")
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

    cli_smart_mask.add_parser(sub)
    add_models_parser(sub)
    add_params_parser(sub)
    add_serve_parser(sub)
    batch_ = sub.add_parser(
        "batch", help="restore a folder of photos with their masks (resumable; local or Ray)"
    )
    batch.add_arguments(batch_)
    batch_.add_argument("--scheduler", default=None)
    batch_.add_argument("--seed", type=int, default=None, help="default: derived from each input")
    batch_.add_argument("--seeds", type=_seeds, default=None, help="comma-separated, per image")
    add_request_arguments(batch_)
    return parser


class ProgressBar:
    """tqdm on stderr, driven by engine events. The bar appears with the first progress event, so
    a run refused before any work prints its one-line reason and nothing else."""

    def __init__(self, enabled: bool, label: str) -> None:
        self._enabled = enabled
        self._label = label
        self._bar = None

    def _open(self):
        from tqdm import tqdm

        self._bar = tqdm(
            total=100,
            desc=self._label,
            unit="%",
            file=sys.stderr,
            leave=False,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
            disable=None,  # a terminal gets the bar; a log file or pipe gets no \r noise
        )
        return self._bar

    def __call__(self, event: EngineEvent) -> None:
        if not self._enabled or event.kind != "progress":
            return
        bar = self._bar or self._open()
        bar.n = int(round(100 * event.progress))
        if event.message:
            bar.set_description_str(event.message, refresh=False)
        bar.refresh()

    def close(self) -> None:
        """Close the bar; whatever is printed next starts on a line of its own (on a terminal the
        bar's line is cleared; in a log, where ``\r`` clears nothing, a newline ends it)."""
        if self._bar is None:
            return
        self._bar.close()
        self._bar = None
        try:
            tty = sys.stderr.isatty()
        except (AttributeError, ValueError):
            tty = False
        if not tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _output_tag(i: int, seed: int | None, label: str | None) -> str:
    """``1-seed7`` for a seeded output; ``1-telea`` (or ``1``) for an unseeded (classical) one."""
    if seed is not None:
        return f"{i + 1}-seed{seed}"
    return f"{i + 1}-{label}" if label else f"{i + 1}"


def output_paths(
    out: str, stem: str, seeds: list[int | None], labels: list[str | None] | None = None
) -> list[Path]:
    """``--out`` names a file (one output) or a folder (several; or any name without a suffix).

    Outputs are numbered, with their seed (``-1-seed7``) or, for unseeded classical fills, their
    method (``-1-telea``): never ``-seedNone``."""
    path = Path(out)
    tags = [_output_tag(i, s, (labels or [None] * len(seeds))[i]) for i, s in enumerate(seeds)]
    if len(seeds) == 1 and path.suffix and not path.is_dir():
        return [path]
    if path.suffix and not path.is_dir():  # several outputs but a file name: number them beside it
        return [path.with_name(f"{path.stem}-{t}{path.suffix}") for t in tags]
    return [path / f"{stem}-{t}.png" for t in tags]


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):  # a link loop or an unreadable path cannot be an input we read
        return False


def refuse_overwriting_inputs(outputs: list[Path], args: argparse.Namespace) -> None:
    """``--out`` naming the photo or the mask would replace the user's original: refused unless
    ``--overwrite``."""
    if getattr(args, "overwrite", False):
        return
    for flag in ("image", "mask", "params_from"):
        source = getattr(args, flag, None)
        if not source or "://" in source:
            continue
        for out in outputs:
            if _same_file(out, Path(source).expanduser()):
                raise InpaintError(
                    f"--out {out} is the --{flag.replace('_', '-')} file: refusing to replace an input "
                    "(choose another --out, or pass --overwrite)"
                )


def _prepare_output_folder(folder: Path) -> None:
    """Remove crash leftovers (our temp files) from the folder we are about to write into."""
    clean_stale_temp_files(folder)


def _out_folder(out: str) -> Path:
    path = Path(out)
    return path.parent if path.suffix and not path.is_dir() else path


def cmd_run(args: argparse.Namespace) -> int:
    from .document import picture_format
    from .imaging.highbits import HighBits
    from .inpaint import inpaint
    from .project import is_project_path
    from .saving import save_result_picture, save_results_project

    refuse_overwriting_inputs([Path(args.out)], args)
    if args.params_from:
        from .replay import request_from_picture

        given = getattr(args, "given", None) or set()
        request = request_from_picture(args.params_from, args, given, timeout=args.timeout)
    else:
        request = request_from_args(args)
    out = Path(args.out)
    if out.suffix and not out.is_dir() and not is_project_path(out):
        picture_format(out)  # an unknown suffix fails now, not after the run
    photo, mask = _load_inputs(args)
    engine = _engine_for(request, args)
    canvas_rgb, canvas_alpha = photo.rgb, photo.alpha
    high_bits = HighBits.of(photo.rgb16)  # a 16-bit photo: PNG outputs are 16-bit
    outpaint_text: dict[str, str] = {}
    extension = _extension_of(args, photo.size)
    if extension is None and mask is None:
        raise InpaintError("--mask is required (unless outpainting with --extend)")
    if extension is not None and is_project_path(args.out):
        raise InpaintError("--out NAME.ora with --extend is not supported yet: write a PNG")
    bar = ProgressBar(not args.quiet and not args.json, request.engine)
    try:
        if extension is not None:  # outpainting (inpaint_core.outpaint)
            from .outpaint import DEFAULT_OVERLAP, OUTPAINT_CHUNK, outpaint

            overlap = DEFAULT_OVERLAP if args.overlap is None else args.overlap
            canvas, results = outpaint(
                request,
                photo.rgb,
                extension,
                engine,
                bar,
                overlap=overlap,
                prefill=args.prefill,
                alpha=photo.alpha,
                mask=mask,
            )
            canvas_rgb, canvas_alpha = canvas.image, canvas.alpha
            if high_bits is not None:
                high_bits = high_bits.moved(canvas.photo_box.x0, canvas.photo_box.y0)
            outpaint_text = {OUTPAINT_CHUNK: canvas.describe(args.prefill)}
        else:
            results = inpaint(request, photo, mask, engine, bar)
    finally:
        bar.close()
    model_name = getattr(engine, "model_name", None)
    _prepare_output_folder(_out_folder(args.out))
    if is_project_path(args.out):  # one layered project: photo, mask, one layer per output
        paths = [save_results_project(args.out, photo, mask, results, model_name)] * len(results)
    else:
        paths = output_paths(
            args.out,
            Path(str(photo.source)).stem or "inpaint",
            [r.seed for r in results],
            [r.info.get("method") for r in results],
        )
        refuse_overwriting_inputs(paths, args)
    outputs = []
    for result, path in zip(results, paths, strict=True):
        if not is_project_path(path):
            save_result_picture(
                path,
                result,
                canvas_rgb,
                canvas_alpha,
                model_name,
                text=outpaint_text,
                high_bits=high_bits,
            )
        outputs.append(
            {
                "path": str(path),
                "seed": result.seed,
                "nsfw_flagged": result.nsfw_flagged,
                "box": [result.box.x0, result.box.y0, result.box.x1, result.box.y1],
                "seam_score": result.info.get("seam_score"),
            }
        )
    if args.json:
        report: dict[str, Any] = {
            "outputs": outputs,
            "engine": request.engine,
            "model": request.model,
        }
        if extension is not None:  # outpainting: the grown canvas and what was added per side
            report["canvas"] = [int(canvas_rgb.shape[1]), int(canvas_rgb.shape[0])]
            report["extend"] = list(extension.as_tuple())
        print(json.dumps(report))
    else:
        for o, result in zip(outputs, results, strict=True):
            flag = "  (flagged by the safety checker)" if o["nsfw_flagged"] else ""
            how = f"seed {o['seed']}" if o["seed"] is not None else _unseeded(result)
            seam_text = "" if o["seam_score"] is None else f", seam score {o['seam_score']:.3f}"
            print(f"wrote {o['path']} ({how}{seam_text}){flag}")
    return 0


def _unseeded(result: Any) -> str:
    method = result.info.get("method")
    return f"{result.request.engine}, {method}" if method else result.request.engine


def _list(text: str, kind: type, flag: str) -> list[Any]:
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InpaintError(
            f"{flag} must be a comma-separated list of numbers, got {text!r}"
        ) from None


def _load_inputs(args: argparse.Namespace):
    from . import imaging
    from .project import is_project_path, project_picture

    timeout = args.timeout
    if not (isinstance(timeout, float) and math.isfinite(timeout) and timeout > 0):
        raise InpaintError(f"--timeout must be a positive number of seconds, got {timeout!r}")
    limits: dict[str, Any] = {"timeout": timeout}
    if args.max_pixels is not None:
        if args.max_pixels <= 0:
            raise InpaintError(
                f"--max-pixels must be a positive number of pixels, got {args.max_pixels}"
            )
        limits["max_pixels"] = args.max_pixels
    max_bytes = imaging.bytes_from_mib(args.max_mb)
    if max_bytes is not None:
        limits["max_bytes"] = max_bytes
    if is_project_path(args.image):  # its flattened picture, and its Mask layer unless --mask
        photo, mask = project_picture(args.image, max_pixels=args.max_pixels)
        if args.mask is None:
            if mask is None:
                raise InpaintError(
                    f"{args.image}: the project has no painted Mask layer: give --mask"
                )
            return photo, mask
    else:
        photo = imaging.load_image(args.image, **limits)
    if args.mask is None:
        return photo, None  # the caller says what it needs instead (--extend, an .ora mask)
    mask = imaging.load_mask(
        args.mask,
        photo.size,
        resize=args.resize_mask,
        channel=args.mask_from,
        resize_hint=RESIZE_FLAG_HINT,
        **limits,
    )
    return photo, mask


def _extension_of(args: argparse.Namespace, size: tuple[int, int]) -> Any:
    """``--extend`` / ``--extend-to-aspect`` as an :class:`~inpaint_core.outpaint.Extension`."""
    from .outpaint import Extension, extension_to_aspect

    if args.extend and args.extend_to_aspect:
        raise InpaintError("give --extend or --extend-to-aspect, not both")
    if args.extend:
        return Extension.parse(args.extend)
    if args.extend_to_aspect:
        ext = extension_to_aspect(size[0], size[1], args.extend_to_aspect)
        if ext.empty:
            raise InpaintError(f"the photo already has the aspect ratio {args.extend_to_aspect}")
        return ext
    if args.overlap is not None:
        raise InpaintError("--overlap only applies to outpainting (--extend)")
    return None


def _engine_for(request: InpaintRequest, args: argparse.Namespace):
    from .engines.registry import get_engine

    if request.engine == "diffusion":
        if not request.model:
            raise InpaintError("--engine diffusion needs --model PATH|REPO_ID")
        return get_engine(
            "diffusion",
            model=request.model,
            device=args.device,
            dtype=args.dtype,
            allow_non_inpainting=getattr(args, "allow_non_inpainting", False),
            memory=getattr(args, "memory", None),
        )
    if request.engine == "erase":
        if not request.model:
            raise InpaintError("--engine erase needs --model big-lama.pt (a LaMa TorchScript file)")
        return get_engine("erase", model=request.model, device=args.device)
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
    from .contact_sheet import save_cell_png, save_contact_sheet
    from .imaging.highbits import HighBits
    from .sweep import plan_sweep, run_sweep

    seeds_text = args.seeds.strip()
    if "," in seeds_text:
        seeds: int | list[int] = _list(seeds_text, int, "--seeds")
    else:
        try:
            seeds = int(seeds_text)
        except ValueError:
            raise InpaintError(
                f"--seeds must be a count or a comma-separated list of seeds, got {args.seeds!r}"
            ) from None
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
    if out.exists() and not out.is_dir():
        raise InpaintError(f"--out {out}: compare writes a folder, and this is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileWriteError(
            f"{out}: cannot create the folder ({describe_os_error(exc)})"
        ) from None
    _prepare_output_folder(out)
    model_name = getattr(engine, "model_name", None)
    written: list[dict[str, Any]] = []

    bar = ProgressBar(not args.quiet and not args.json, "compare")

    def on_event(event: EngineEvent) -> None:
        bar(event)
        if event.kind == "partial":
            for cr in event.images:
                path = save_cell_png(
                    out, cr, photo.rgb, photo.alpha, model_name, HighBits.of(photo.rgb16)
                )
                written.append(
                    {
                        "path": str(path),
                        "row": cr.cell.row,
                        "col": cr.cell.col,
                        "seed": cr.result.seed,
                        "label": cr.cell.label,
                        "nsfw_flagged": cr.result.nsfw_flagged,
                        "seam_score": cr.result.info.get("seam_score"),
                    }
                )

    cells = []
    try:
        cells = run_sweep(plan, photo, mask, engine, on_event)
    finally:
        bar.close()
    sheet_path = out / "contact-sheet.png"
    title = f"{Path(str(photo.source)).name}: {base.prompt or '(no prompt)'}"
    save_contact_sheet(sheet_path, plan, cells, title=title)
    if args.json:
        print(json.dumps({"contact_sheet": str(sheet_path), "cells": written}))
    else:
        print(f"wrote {sheet_path} and {len(written)} cells to {out}")
    return 0


def _one_line(exc: BaseException) -> str:
    """The error as one line: an OSError names its path and a short reason."""
    if isinstance(exc, OSError) and not isinstance(exc, FileWriteError):
        where = exc.filename if exc.filename is not None else ""
        text = f"{where}: {describe_os_error(exc)}" if where else describe_os_error(exc)
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    # our own progress bar reports loading; keep library chatter off stderr (users can override)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "params_from", None):  # which flags change the picture's settings
            from .replay import explicit_dests

            args.given = explicit_dests(build_parser(), sys.argv[1:] if argv is None else argv)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "models":
            return cmd_models(args)
        if args.command == "params":
            return cmd_params(args)
        if args.command == "smart-mask":
            return cli_smart_mask.run(args)
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "batch":
            return batch.main(args, request_from_args(args))
    except JobCancelled:
        print("cancelled", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 3
    except (InpaintError, OSError, ValueError) as exc:
        # bad input, a full or read-only disk, a path that cannot be: one line, exit 2
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
