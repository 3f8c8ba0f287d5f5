"""Compare sweeps: seeds × schedulers (× steps, guidance, strength) in one job with shared work.

Cells that differ only by seed run as one engine call (the diffusion engine batches their seeds;
each cell records its batch, so its PNG re-makes it exactly); scheduler changes are swaps on the
loaded model; the prompt embeddings and the masked-image latents are cached by the diffusion engine,
so a sweep encodes them once. Cells stream out (``partial`` events) as each group finishes, and a
cancel keeps the finished ones.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .engines.base import Engine
from .errors import RequestValidationError
from .events import CancelToken, EngineEvent, EventCallback, ignore_events
from .inpaint import InpaintResult, inpaint
from .request import MAX_SEED, InpaintRequest
from .seam import rank_by_seam

#: axis name -> (request field, label maker)
AXES: dict[str, tuple[str, Callable[[Any], str]]] = {
    "scheduler": ("scheduler", lambda v: str(v)),
    "steps": ("steps", lambda v: f"{v} steps"),
    "guidance_scale": ("guidance_scale", lambda v: f"CFG {v:g}"),
    "strength": ("strength", lambda v: f"strength {v:g}"),
    "seed": ("seed", lambda v: f"seed {v}"),
}
MAX_CELLS = 256


@dataclass(frozen=True)
class SweepCell:
    index: int
    row: int
    col: int
    request: InpaintRequest  # one output, concrete seed
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return ", ".join(AXES[k][1](v) for k, v in self.values.items())


@dataclass
class SweepPlan:
    base: InpaintRequest
    axes: dict[str, list[Any]]  # ordered: the non-seed axes make rows, seeds make columns
    cells: list[SweepCell]
    n_rows: int
    n_cols: int

    @property
    def row_labels(self) -> list[str]:
        labels = []
        for r in range(self.n_rows):
            cell = self.cells[r * self.n_cols]
            labels.append(
                ", ".join(AXES[k][1](v) for k, v in cell.values.items() if k != "seed") or "—"
            )
        return labels

    @property
    def col_labels(self) -> list[str]:
        return [AXES["seed"][1](self.cells[c].values["seed"]) for c in range(self.n_cols)]

    def groups(self) -> list[list[SweepCell]]:
        """Cells that differ only by seed: one batched engine call each (a row of the grid)."""
        return [self.cells[r * self.n_cols : (r + 1) * self.n_cols] for r in range(self.n_rows)]

    def estimate_seconds(self, seconds_per_step: float, batch_cost: float = 0.8) -> float:
        """Rough time: each row is one call whose cost grows by ``batch_cost`` per extra seed."""
        total = 0.0
        for group in self.groups():
            req = group[0].request
            steps = max(1, int(req.steps * req.strength)) if req.engine == "diffusion" else 1
            total += steps * seconds_per_step * (1 + batch_cost * (len(group) - 1))
        return total

    def summary(self, seconds_per_step: float | None = None) -> str:
        text = f"{len(self.cells)} images ({self.n_rows} rows × {self.n_cols} seeds)"
        if seconds_per_step:
            text += f", about {format_duration(self.estimate_seconds(seconds_per_step))}"
        return text


#: how a Compare grid can order its cells: key -> what the sort control says
GRID_ORDERS: dict[str, str] = {
    "scheduler": "by scheduler",
    "seed": "by seed",
    "seam": "by seam score",
}


@dataclass(frozen=True)
class GridLayout:
    """Where a Compare grid shows each cell (``positions[cell index] = (row, col)``) and the
    labels of its rows and columns (empty when every cell carries its own label)."""

    positions: dict[int, tuple[int, int]]
    n_rows: int
    n_cols: int
    row_labels: list[str]
    col_labels: list[str]

    def reading_order(self) -> list[int]:
        """The cell indices row by row, left to right."""
        return sorted(self.positions, key=lambda i: self.positions[i])

    def at(self, row: int, col: int) -> int | None:
        """The cell shown at (row, col), or None where the grid has a hole."""
        return next((i for i, p in self.positions.items() if p == (row, col)), None)


def grid_layout(
    plan: SweepPlan, order: str, seam_scores: dict[int, float | None] | None = None
) -> GridLayout:
    """The one place a Compare grid's order is decided. ``"scheduler"``: the plan's grid (a
    row per scheduler and other row values, a column per seed); ``"seed"``: the same cells
    transposed (a row per seed); ``"seam"``: best blend first (lowest seam score, reading
    order, as wide as the plan), cells without a score yet last in plan order, each cell with
    its own label (rows and columns no longer share a value)."""
    if order == "scheduler":
        positions = {c.index: (c.row, c.col) for c in plan.cells}
        return GridLayout(positions, plan.n_rows, plan.n_cols, plan.row_labels, plan.col_labels)
    if order == "seed":
        positions = {c.index: (c.col, c.row) for c in plan.cells}
        return GridLayout(positions, plan.n_cols, plan.n_rows, plan.col_labels, plan.row_labels)
    if order == "seam":
        scores = seam_scores or {}
        ranked = rank_by_seam(plan.cells, key=lambda c: scores.get(c.index))
        positions = {c.index: divmod(k, plan.n_cols) for k, c in enumerate(ranked)}
        return GridLayout(positions, plan.n_rows, plan.n_cols, [], [])
    raise ValueError(f"unknown grid order {order!r} (one of {', '.join(GRID_ORDERS)})")


#: seconds per denoising step (with CFG) of one 512² image, before anything was measured on this
#: machine. CPU: measured for SD-1.5 shapes in fp32 on the 2-core development machines
#: (FIELD_NOTES). GPU/MPS: a rough mid-range figure, not measured here. Real timings replace these
#: as soon as one generation has run (the GUI learns them; an engine may expose ``seconds_per_step``).
PRIOR_SECONDS_PER_STEP_512 = {"cpu": 10.0, "cuda": 0.1, "mps": 0.5}


def prior_seconds_per_step(
    request: InpaintRequest, grid: tuple[int, int] | None = None, device: str = "cpu"
) -> float:
    """A first guess of one image's seconds per step on ``grid`` (w, h), for "about T" estimates."""
    if request.engine != "diffusion":
        return 0.5  # the classical engine: about half a second per call, whatever the steps
    w, h = grid or (request.width or request.target_size, request.height or request.target_size)
    per_512 = PRIOR_SECONDS_PER_STEP_512.get(
        device.split(":")[0], PRIOR_SECONDS_PER_STEP_512["cpu"]
    )
    return per_512 * (w * h) / 512**2


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    return (
        f"{minutes} min {sec:02d} s"
        if minutes < 60
        else f"{minutes // 60} h {minutes % 60:02d} min"
    )


def plan_sweep(
    base: InpaintRequest,
    *,
    seeds: int | Sequence[int] = 4,
    schedulers: Sequence[str] | None = None,
    steps: Sequence[int] | None = None,
    guidance_scales: Sequence[float] | None = None,
    strengths: Sequence[float] | None = None,
) -> SweepPlan:
    """The grid is the product of the given axes; ``seeds`` is N random seeds or a list."""
    if isinstance(seeds, int):
        if not 1 <= seeds <= 64:
            raise RequestValidationError(
                "seeds", f"must be between 1 and 64 random seeds, got {seeds}"
            )
        start = base.seed if base.seed is not None else secrets.randbelow(MAX_SEED - 64)
        seed_list = [start + i for i in range(seeds)]
    else:
        seed_list = [int(s) for s in seeds]
        if not seed_list:
            raise RequestValidationError("seeds", "must list at least one seed")
    axes: dict[str, list[Any]] = {}
    for name, values in (
        ("scheduler", schedulers),
        ("steps", steps),
        ("guidance_scale", guidance_scales),
        ("strength", strengths),
    ):
        if values:
            axes[name] = list(values)
    axes["seed"] = seed_list
    row_axes = [k for k in axes if k != "seed"]
    rows = list(itertools.product(*(axes[k] for k in row_axes))) or [()]
    n_cells = len(rows) * len(seed_list)
    if n_cells > MAX_CELLS:
        raise RequestValidationError(
            "sweep", f"{n_cells} cells is more than the limit of {MAX_CELLS}"
        )
    cells = []
    for r, row_values in enumerate(rows):
        values = dict(zip(row_axes, row_values, strict=True))
        for c, seed in enumerate(seed_list):
            fields = {AXES[k][0]: v for k, v in values.items()}
            req = replace(
                base, **fields, seed=seed, seeds=None, num_outputs=1
            )  # validates every value
            cells.append(SweepCell(len(cells), r, c, req, {**values, "seed": seed}))
    return SweepPlan(base, axes, cells, len(rows), len(seed_list))


@dataclass
class CellResult:
    cell: SweepCell
    result: InpaintResult


def run_sweep(
    plan: SweepPlan,
    image: Any,
    mask: np.ndarray,
    engine: Engine,
    on_event: EventCallback = ignore_events,
    cancel: CancelToken | None = None,
    *,
    resize_mask: bool = False,
) -> list[CellResult]:
    """Run every cell; rows are batched engine calls. Emits ``partial`` events as rows finish."""
    cancel = cancel or CancelToken()
    groups = plan.groups()
    done: list[CellResult] = []
    for gi, group in enumerate(groups):
        cancel.raise_if_cancelled()
        request = replace(
            group[0].request, seeds=tuple(c.request.seed for c in group), num_outputs=len(group)
        )

        def scaled(event: EngineEvent, gi: int = gi) -> None:
            if event.kind == "progress":
                event.progress = (gi + event.progress) / len(groups)
                event.message = event.message or f"row {gi + 1}/{len(groups)}"
            on_event(event)

        results = inpaint(request, image, mask, engine, scaled, cancel, resize_mask=resize_mask)
        if len(results) == 1 and len(group) > 1 and results[0].seed is None:
            # a deterministic engine (classical) makes one picture whatever the seed
            results = results * len(group)
        # (each diffusion output already records the batch it was made in: see RunOptions.batch_seeds)
        cells = [CellResult(cell, res) for cell, res in zip(group, results, strict=True)]
        done.extend(cells)
        on_event(EngineEvent("partial", progress=(gi + 1) / len(groups), images=cells))
    return done
