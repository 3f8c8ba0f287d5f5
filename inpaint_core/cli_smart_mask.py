"""``inpaint-studio-cli smart-mask``: click points -> an object mask PNG (Segment Anything).

``--point X,Y`` marks the object (repeatable), ``--not X,Y`` marks what is not part of it; the mask
is written as a white-on-black PNG (the format ``run --mask`` reads), optionally grown/feathered.
"""

from __future__ import annotations

import argparse
import json

from .errors import InpaintError


def _point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a point is X,Y in photo pixels, got {text!r}") from None
    return x, y


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("smart-mask", help="mask the object under clicked points (Segment Anything)")
    p.add_argument("--image", required=True, help="photo: path or http(s) URL")
    p.add_argument("--model", required=True, help="SAM model: folder or repo id in the HF cache")
    p.add_argument("--point", type=_point, action="append", default=[], help="X,Y on the object")
    p.add_argument(
        "--not", dest="negative", type=_point, action="append", default=[], help="X,Y off it"
    )
    p.add_argument("--grow", type=int, default=0, help="grow the mask by N pixels")
    p.add_argument("--feather", type=int, default=0, help="feather the mask's edge by N pixels")
    p.add_argument("--out", required=True, help="mask PNG to write")
    p.add_argument("--device", help="auto (default), cpu, cuda, mps")
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    from PIL import Image

    from . import imaging, masks
    from .files import atomic_write
    from .smart_mask import Click, SmartMasker

    if not args.point:
        raise InpaintError("give at least one --point X,Y on the object")
    if args.grow < 0 or args.feather < 0:
        raise InpaintError("--grow and --feather must be 0 or more")
    photo = imaging.load_image(args.image)
    clicks = [Click(x, y) for x, y in args.point] + [
        Click(x, y, positive=False) for x, y in args.negative
    ]
    mask = SmartMasker(model=args.model, device=args.device).mask(photo.rgb, clicks)
    mask = masks.feather(masks.grow(mask, args.grow), args.feather)
    path = atomic_write(args.out, lambda f: Image.fromarray(mask, "L").save(f, format="PNG"))
    covered = float((mask >= 128).mean())
    if args.json:
        print(json.dumps({"path": str(path), "coverage": round(covered, 6)}))
    else:
        print(f"wrote {path} (mask covers {100 * covered:.1f} % of the photo)")
    return 0
