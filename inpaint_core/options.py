"""RunOptions: the engine-specific knobs of a request, typed (they used to be a free-form dict).

Saved parameters keep their old shape: :meth:`RunOptions.to_dict` writes only the options that are
set, under the same keys as before (``{"method": "telea"}``, ``{"batch_seeds": [11, 12]}``), and
:meth:`RunOptions.from_dict` reads them back, so a PNG written by an older version (its JSON
``"options"`` or A1111 ``Options:`` text) loads and reproduces. Keys this version does not know are
carried in ``extra`` and written back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from .errors import RequestValidationError


@dataclass(frozen=True)
class RunOptions:
    """``method``: the classical fill method (None = ``auto``). ``batch_seeds``: the seeds an output
    was batched with (the diffusion engine re-runs that batch to reproduce it bit for bit).
    ``max_batch``: seeds per pipeline call. ``preview``: step previews on/off (None = engine's
    default). ``extra``: unknown keys from a file, kept as they were."""

    method: str | None = None
    batch_seeds: tuple[int, ...] | None = None
    max_batch: int | None = None
    preview: bool | None = None
    #: torch CPU threads an output was made with (diffusion on the CPU only): kernels split their
    #: sums by thread, so 1 and 2 threads differ by a level in a few pixels; a re-run uses it
    cpu_threads: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=True)

    def __post_init__(self) -> None:
        if isinstance(self.batch_seeds, list):
            object.__setattr__(self, "batch_seeds", tuple(self.batch_seeds))
        if self.batch_seeds is not None and not all(
            isinstance(s, int) and not isinstance(s, bool) for s in self.batch_seeds
        ):
            raise RequestValidationError("options.batch_seeds", "must list whole numbers")
        if self.max_batch is not None and (
            not isinstance(self.max_batch, int)
            or isinstance(self.max_batch, bool)
            or self.max_batch < 1
        ):
            raise RequestValidationError("options.max_batch", "must be a whole number, at least 1")
        if self.cpu_threads is not None and (
            not isinstance(self.cpu_threads, int)
            or isinstance(self.cpu_threads, bool)
            or not 1 <= self.cpu_threads <= 4096
        ):
            raise RequestValidationError(
                "options.cpu_threads", f"must be a whole number 1..4096, got {self.cpu_threads!r}"
            )

    def __bool__(self) -> bool:
        return bool(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """Only the options that are set, JSON-ready, under their historical keys."""
        out: dict[str, Any] = dict(self.extra)
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any] | RunOptions | None) -> RunOptions:
        if data is None:
            return cls()
        if isinstance(data, RunOptions):
            return data
        if not isinstance(data, dict):
            raise RequestValidationError("options", f"must be a mapping, got {type(data).__name__}")
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in data.items() if k in known}
        if kwargs.get("batch_seeds") is not None:
            seeds = kwargs["batch_seeds"]
            if not isinstance(seeds, (list, tuple)):
                raise RequestValidationError("options.batch_seeds", "must list whole numbers")
            kwargs["batch_seeds"] = tuple(seeds)
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(**kwargs, extra=extra)
