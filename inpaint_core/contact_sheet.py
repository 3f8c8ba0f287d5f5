"""Exporting a sweep: a contact sheet PNG (cells in a grid with readable row and column labels)
and every cell as a full-size PNG carrying its own parameters."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .document import export_picture
from .imaging.highbits import HighBits
from .saving import save_result_picture
from .sweep import CellResult, SweepPlan


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled scalable font
    except TypeError:  # very old Pillow without FreeType
        return ImageFont.load_default()


def cell_thumbnail(cell: CellResult, size: int) -> Image.Image:
    """The cell's result in its region of the photo (the crop it was made on), ``size`` long side."""
    img = Image.fromarray(cell.result.patch)
    img.thumbnail((size, size), Image.Resampling.LANCZOS)
    return img


def contact_sheet(
    plan: SweepPlan,
    cells: Sequence[CellResult],
    *,
    cell_size: int = 256,
    gap: int = 6,
    font_size: int = 18,
    title: str | None = None,
) -> np.ndarray:
    """Render finished ``cells`` of ``plan`` (missing ones stay blank) as an RGB uint8 array.

    Cells whose result carries a seam score (:mod:`inpaint_core.seam`, lower = better) get it as a
    caption under the thumbnail; the best one is marked.
    """
    font = _font(font_size)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def text_w(t: str) -> int:
        return int(measure.textlength(t, font=font))

    thumbs = {c.cell.index: cell_thumbnail(c, cell_size) for c in cells}
    seams = {
        c.cell.index: c.result.info["seam_score"]
        for c in cells
        if isinstance(c.result.info.get("seam_score"), (int, float))
    }
    lowest = min(seams.values(), default=None)
    # the best is marked only when it is one cell (equal scores, e.g. a deterministic engine: none)
    best_seam = lowest if list(seams.values()).count(lowest) == 1 and len(seams) > 1 else None
    caption_h = font_size + gap if seams else 0
    sample = next(iter(thumbs.values()), None)
    cw = sample.width if sample else cell_size
    ch = sample.height if sample else cell_size
    label_w = max([text_w(t) for t in plan.row_labels] + [0]) + 2 * gap
    header_h = font_size + 2 * gap
    title_h = (font_size + 2 * gap) if title else 0
    width = label_w + plan.n_cols * (cw + gap) + gap
    height = title_h + header_h + plan.n_rows * (ch + caption_h + gap) + gap
    sheet = Image.new("RGB", (width, height), (250, 250, 250))
    draw = ImageDraw.Draw(sheet)
    ink = (20, 20, 20)
    if title:
        draw.text((gap, gap), title, fill=ink, font=font)
    for c, label in enumerate(plan.col_labels):
        x = label_w + c * (cw + gap) + (cw - text_w(label)) // 2
        draw.text((x, title_h + gap), label, fill=ink, font=font)
    for r, label in enumerate(plan.row_labels):
        y = title_h + header_h + r * (ch + caption_h + gap) + (ch - font_size) // 2
        draw.text((gap, y), label, fill=ink, font=font)
    for cell in plan.cells:
        x = label_w + cell.col * (cw + gap)
        y = title_h + header_h + cell.row * (ch + caption_h + gap)
        thumb = thumbs.get(cell.index)
        seam = seams.get(cell.index)
        if seam is not None:
            best = best_seam is not None and seam == best_seam
            caption = f"seam {seam:.3f}" + ("  best" if best else "")
            draw.text((x, y + ch + gap // 2), caption, fill=(0, 110, 0) if best else ink, font=font)
        if thumb is None:
            draw.rectangle([x, y, x + cw - 1, y + ch - 1], outline=(180, 180, 180))
            draw.text((x + gap, y + gap), "not run", fill=(150, 150, 150), font=font)
        else:
            sheet.paste(thumb, (x, y))
    return np.asarray(sheet)


def save_contact_sheet(
    path: str | Path, plan: SweepPlan, cells: Sequence[CellResult], *, title: str | None = None
) -> Path:
    """Render the sheet and write it as a PNG, atomically (a failed save keeps the old file)."""
    return export_picture(path, contact_sheet(plan, cells, title=title))


def cell_filename(cell: CellResult) -> str:
    """``cell-r{row}-c{col}-seed{seed}.png`` (1-based row/column, as the sheet shows them);
    ``cell-r{row}-c{col}.png`` for an unseeded (classical) fill."""
    name = f"cell-r{cell.cell.row + 1}-c{cell.cell.col + 1}"
    seed = cell.result.seed
    return f"{name}-seed{seed}.png" if seed is not None else f"{name}.png"


def save_cell_png(
    folder: str | Path,
    cell: CellResult,
    photo_rgb: np.ndarray,
    alpha: np.ndarray | None = None,
    model_name: str | None = None,
    high_bits: HighBits | None = None,
) -> Path:
    """The cell composited into the full photo, saved with its request as PNG metadata
    (16-bit with ``high_bits``, the samples of a 16-bit photo, as ``run`` writes it).

    Loading it back (``imaging.load_image(path).text`` → ``metadata.request_from_png_text``) gives
    the exact request (concrete seed included) that re-runs this cell.
    """
    return save_result_picture(
        Path(folder) / cell_filename(cell),
        cell.result,
        photo_rgb,
        alpha,
        model_name,
        high_bits=high_bits,
    )
