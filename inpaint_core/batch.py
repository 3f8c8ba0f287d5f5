"""``inpaint-studio-cli batch``: restore a folder of scans, resumably, on one machine or on Ray.

Why it is shaped like this:

* **The driver owns every file.** Executors (local worker processes in :mod:`.batch_local`, Ray
  workers in :mod:`.batch_ray`) only compute: they get the input *bytes* and a request and hand back the
  output PNG's bytes (:func:`inpaint_core.imaging.encode_png`, the encoder of ``save_png``). The
  driver hashes the inputs, writes each output atomically (:func:`inpaint_core.files.atomic_write_bytes`)
  and then journals it (:mod:`.batch_journal`). So a Ray cluster needs no shared file system, the
  journal has one writer, and local and Ray outputs are the same bytes by construction.
* **Resumable.** A re-run skips items whose latest journal line matches the input hashes and the
  parameters and whose outputs still exist; ``force`` redoes everything. A kill can lose at most
  the item in flight: its output is either absent or whole (temp + rename), never half-written.
* **Deterministic.** An item without an explicit seed gets one derived from its input hashes, so a
  re-run, another executor, or a ``run`` with ``--seed`` of the journalled seed gives the same
  picture (a random seed would also change the parameters and redo the item on every re-run).
* **One engine for the whole batch** (per worker on Ray): the model loads once and the diffusion
  engine's prompt-embedding and latent caches carry over from item to item.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one batch per folder is then up to the user
    fcntl = None  # type: ignore[assignment]

from .batch_journal import Journal, JournalEntry, params_key, sha256_bytes
from .batch_local import run_local
from .batch_ray import import_ray, run_on_ray
from .batch_render import BatchItem, BatchSettings, Job, Outcome
from .engines.base import Engine
from .errors import InpaintError
from .files import atomic_write_bytes, clean_stale_temp_files
from .imaging.sources import bytes_from_mib
from .request import MAX_SEED, InpaintRequest

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
MASK_SUFFIX = "_mask"
LOCK_NAME = ".inpaint-batch.lock"
EXECUTORS = ("local", "ray")


# -- what to do -------------------------------------------------------------------------------------
@dataclass
class BatchSummary:
    total: int = 0
    done: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (image, reason)
    outputs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    executor: str = "local"
    journal: str = ""

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "done": self.done,
            "skipped": self.skipped,
            "failed": [{"image": i, "reason": r} for i, r in self.failed],
            "outputs": self.outputs,
            "seconds": round(self.seconds, 3),
            "executor": self.executor,
            "journal": self.journal,
        }


# -- finding the items ------------------------------------------------------------------------------
def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")


def _list_images(images: str) -> list[Path]:
    path = Path(images)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if _is_image(p))
    else:
        found = sorted(Path(p) for p in glob.glob(images) if _is_image(Path(p)))
        if not found and not glob.has_magic(images):
            raise InpaintError(f"--images {images}: no such folder")
    return found


class _MaskIndex:
    """The mask folder listed once (an archive folder holds thousands of files): stem -> path."""

    def __init__(self, folder: Path) -> None:
        self._by_stem: dict[str, Path] = {}
        rank = {suffix: i for i, suffix in enumerate(IMAGE_SUFFIXES)}
        for p in sorted(folder.iterdir(), key=lambda p: (p.stem, rank.get(p.suffix.lower(), 99))):
            if _is_image(p):
                self._by_stem.setdefault(p.stem, p)

    def find(self, image: Path) -> Path | None:
        """``<stem>.*`` or ``<stem>_mask.*`` (never the image itself)."""
        for stem in (image.stem, image.stem + MASK_SUFFIX):
            cand = self._by_stem.get(stem)
            if cand is not None and cand.resolve() != image.resolve():
                return cand
        return None


def _unique_keys(paths: list[Path]) -> list[str]:
    """Output stems: the image's stem; its whole name when two images share a stem; and a row
    number when a manifest lists the same image twice (say, with two prompts)."""
    stems = Counter(p.stem for p in paths)
    keys = [p.stem if stems[p.stem] == 1 else p.name.replace(".", "_") for p in paths]
    counts = Counter(keys)
    seen: Counter[str] = Counter()
    unique = []
    for key in keys:
        seen[key] += 1
        unique.append(key if counts[key] == 1 else f"{key}-{seen[key]}")
    return unique


def discover(images: str, masks: str | None) -> list[BatchItem]:
    """Items for ``--images DIR|GLOB --masks DIR`` (masks default to the images' folder; files
    named ``*_mask.*`` there are masks, not images)."""
    found = _list_images(images)
    if masks is not None:
        mask_dir = Path(masks)
        if not mask_dir.is_dir():
            raise InpaintError(f"--masks {masks}: no such folder")
    else:
        mask_dir = None
    candidates = []
    for p in found:
        if p.stem.endswith(MASK_SUFFIX):
            continue  # a mask beside its image
        candidates.append(p)
    if not candidates:
        raise InpaintError(f"--images {images}: no images found ({', '.join(IMAGE_SUFFIXES)})")
    indexes: dict[Path, _MaskIndex] = {}
    items = []
    for p, key in zip(candidates, _unique_keys(candidates), strict=True):
        folder = mask_dir if mask_dir is not None else p.parent
        if folder not in indexes:
            indexes[folder] = _MaskIndex(folder)
        mask = indexes[folder].find(p)
        problem = "" if mask else f"no mask named {p.stem}.* or {p.stem}{MASK_SUFFIX}.* found"
        items.append(BatchItem(key=key, image=p, mask=mask, problem=problem))
    return items


def read_manifest(manifest: str) -> list[BatchItem]:
    """Items from a CSV with a header ``image,mask[,prompt,seed]``; relative paths are taken from
    the manifest's folder. A row with a bad seed becomes a failed item, not a stopped batch."""
    path = Path(manifest)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InpaintError(f"--manifest {manifest}: cannot read ({exc.strerror})") from None
    rows = list(csv.DictReader(text.splitlines()))
    header = [h.strip().lower() for h in (csv.DictReader(text.splitlines()).fieldnames or [])]
    if "image" not in header or "mask" not in header:
        raise InpaintError(f"--manifest {manifest}: the header must name image,mask[,prompt,seed]")
    base = path.parent
    images, rest = [], []
    for row in rows:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("image"):
            continue
        image = Path(row["image"])
        mask = Path(row["mask"]) if row.get("mask") else None
        images.append(image if image.is_absolute() else base / image)
        rest.append((mask if mask is None or mask.is_absolute() else base / mask, row))
    items = []
    for image, key, (mask, row) in zip(images, _unique_keys(images), rest, strict=True):
        seed, problem = None, "" if mask else "the manifest gives no mask"
        if row.get("seed"):
            try:
                seed = int(row["seed"])
                if not 0 <= seed <= MAX_SEED:
                    raise ValueError
            except ValueError:
                problem = f"seed must be a whole number 0..{MAX_SEED}, got {row['seed']!r}"
        items.append(
            BatchItem(
                key=key,
                image=image,
                mask=mask,
                prompt=row.get("prompt") or None,
                seed=seed,
                problem=problem,
            )
        )
    if not items:
        raise InpaintError(f"--manifest {manifest}: no rows")
    return items


# -- one item ---------------------------------------------------------------------------------------
def derived_seed(image_sha256: str, mask_sha256: str) -> int:
    """A seed from the inputs' hashes: the same picture on every re-run and every executor."""
    return int(sha256_bytes((image_sha256 + mask_sha256).encode())[:8], 16) % (MAX_SEED + 1)


def item_request(base: InpaintRequest, item: BatchItem, image_sha: str, mask_sha: str):
    """The request one item runs with: the flags, the manifest's prompt/seed, a concrete seed."""
    fields: dict[str, Any] = {}
    if item.prompt is not None:
        fields["prompt"] = item.prompt
    if item.seed is not None:
        fields.update(seed=item.seed, seeds=None)
    elif base.seed is None and base.seeds is None:
        fields["seed"] = derived_seed(image_sha, mask_sha)
    return replace(base, **fields) if fields else base


def output_names(key: str, seeds: list[int | None]) -> list[str]:
    """One output per image named after it; several seeds: numbered like ``run`` numbers them."""
    if len(seeds) == 1:
        return [f"{key}.png"]
    return [f"{key}-{i + 1}-seed{s}.png" for i, s in enumerate(seeds)]


# -- the driver -------------------------------------------------------------------------------------
class _FolderLock:
    """One batch per output folder at a time (two would interleave journals and temp files)."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / LOCK_NAME
        self._fd: int | None = None

    def __enter__(self) -> _FolderLock:
        if fcntl is None:
            return self
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise InpaintError(
                f"{self._path.parent}: another batch is writing to this folder"
            ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)


def _params(settings: BatchSettings, request: InpaintRequest, model_name: str | None):
    return {
        "request": request.to_dict(),
        "mask_from": settings.mask_from,
        "resize_mask": settings.resize_mask,
        "model_name": model_name,
    }


def plan_jobs(
    items: list[BatchItem],
    settings: BatchSettings,
    journal: dict[str, JournalEntry],
    summary: BatchSummary,
    fail: Callable[[BatchItem, str, str, str], None],
) -> Iterator[Job]:
    """Jobs still to do, read lazily (one image's bytes in memory per job handed out)."""
    for item in items:
        if item.problem or item.mask is None:
            fail(item, item.problem or "no mask", "", "")
            continue
        try:
            image_bytes = item.image.read_bytes()
            mask_bytes = item.mask.read_bytes()
        except OSError as exc:
            fail(item, f"cannot read ({exc.strerror or exc})", "", "")
            continue
        image_sha, mask_sha = sha256_bytes(image_bytes), sha256_bytes(mask_bytes)
        request = item_request(settings.request, item, image_sha, mask_sha)
        params = _params(settings, request, request.model)
        prev = journal.get(item.key)
        if (
            not settings.force
            and prev is not None
            and prev.status == "done"
            and prev.image_sha256 == image_sha
            and prev.mask_sha256 == mask_sha
            and prev.params_key == params_key(params)
            and all((settings.out / name).is_file() for name in prev.outputs)
        ):
            summary.skipped += 1
            summary.outputs.extend(str(settings.out / n) for n in prev.outputs)
            continue
        yield Job(item, request, image_bytes, mask_bytes, image_sha, mask_sha, params)


def run_batch(
    items: list[BatchItem],
    settings: BatchSettings,
    *,
    progress: bool = False,
    engine: Engine | None = None,
) -> BatchSummary:
    """Run ``items`` into ``settings.out`` and return what happened (see the module docstring).

    ``engine`` (local executor only) reuses an engine already made, e.g. a loaded model.
    """
    from tqdm import tqdm

    out = settings.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InpaintError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    if settings.executor not in EXECUTORS:
        raise InpaintError(f"--executor must be one of {', '.join(EXECUTORS)}")
    summary = BatchSummary(total=len(items), executor=settings.executor)
    journal = Journal(out)
    summary.journal = str(journal.path)
    t0 = time.perf_counter()
    with _FolderLock(out):
        # a killed batch's temp files: safe to remove at any age, we hold the folder's lock
        clean_stale_temp_files(out, older_than_s=0.0)
        previous = journal.load()
        bar = tqdm(
            total=len(items),
            desc="batch",
            unit="img",
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
        )

        def fail(item: BatchItem, reason: str, image_sha: str, mask_sha: str) -> None:
            summary.failed.append((str(item.image), reason))
            journal.append(
                JournalEntry(
                    key=item.key,
                    status="failed",
                    image=str(item.image),
                    mask=str(item.mask or ""),
                    image_sha256=image_sha,
                    mask_sha256=mask_sha,
                    error=reason,
                )
            )
            bar.update(1)

        def on_outcome(job: Job, outcome: Outcome) -> None:
            if outcome.error:
                fail(job.item, outcome.error, job.image_sha256, job.mask_sha256)
                return
            names = output_names(job.item.key, [o.seed for o in outcome.outputs])
            try:
                for o, name in zip(outcome.outputs, names, strict=True):
                    atomic_write_bytes(out / name, o.png)
            except (InpaintError, OSError) as exc:
                fail(job.item, str(exc), job.image_sha256, job.mask_sha256)
                return
            journal.append(
                JournalEntry(
                    key=job.item.key,
                    status="done",
                    image=str(job.item.image),
                    mask=str(job.item.mask),
                    image_sha256=job.image_sha256,
                    mask_sha256=job.mask_sha256,
                    params_key=params_key(job.params),
                    params=job.params,
                    outputs=names,
                    seconds=round(outcome.seconds, 3),
                )
            )
            summary.done += 1
            summary.outputs.extend(str(out / n) for n in names)
            bar.update(1)

        def counted_jobs() -> Iterator[Job]:
            skipped = summary.skipped
            for job in plan_jobs(items, settings, previous, summary, fail):
                if summary.skipped != skipped:
                    bar.update(summary.skipped - skipped)
                    skipped = summary.skipped
                yield job
            bar.update(summary.skipped - skipped)

        try:
            if settings.executor == "ray":
                run_on_ray(counted_jobs(), settings, on_outcome)
            else:
                run_local(counted_jobs(), settings, on_outcome, engine, items=len(items))
        finally:
            bar.close()
    summary.seconds = time.perf_counter() - t0
    return summary


# -- the command ------------------------------------------------------------------------------------
def add_arguments(p: argparse.ArgumentParser) -> None:
    """The batch command's own flags (the request flags come from the CLI's shared set)."""
    p.add_argument("--images", help="folder of photos, or a glob such as 'scans/*.tif'")
    p.add_argument(
        "--masks",
        help="folder of masks named like the photos (NAME.* or NAME_mask.*); "
        "default: beside the photos",
    )
    p.add_argument("--manifest", help="CSV with a header image,mask[,prompt,seed]")
    p.add_argument("--out", required=True, help="output folder (also holds the journal)")
    p.add_argument("--mask-from", choices=["auto", "alpha", "luma"], default="auto")
    p.add_argument("--resize-mask", action="store_true", help="scale masks of another size")
    p.add_argument("--force", action="store_true", help="redo every item, even journalled ones")
    p.add_argument("--executor", choices=list(EXECUTORS), default="local")
    p.add_argument("--ray-address", help="address of an existing Ray cluster (default: local)")
    p.add_argument(
        "--workers",
        type=int,
        help="parallel workers. Local: processes, default one per CPU (at most 16) for the "
        "classical engine; diffusion runs in one process, or one per GPU on a machine with "
        "several. Ray: actors (default one per CPU, or per GPU)",
    )
    p.add_argument(
        "--threads",
        type=int,
        help="torch threads per diffusion worker (default: this machine's CPUs); the same "
        "number gives byte-identical outputs on every executor",
    )
    p.add_argument("--json", action="store_true", help="print one JSON summary")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace, request: InpaintRequest) -> int:
    """Run the command; exit 0 only when every item succeeded (1 when some failed)."""
    if bool(args.manifest) == bool(args.images):
        raise InpaintError("give --images DIR|GLOB (with --masks DIR) or --manifest FILE.csv")
    for flag in ("workers", "threads"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise InpaintError(f"--{flag} must be at least 1")
    if request.engine == "diffusion" and not request.model:
        raise InpaintError("--engine diffusion needs --model PATH|REPO_ID")
    if args.executor == "ray":
        import_ray()  # say how to install it before anything else happens
    items = read_manifest(args.manifest) if args.manifest else discover(args.images, args.masks)
    settings = BatchSettings(
        request=request,
        out=Path(args.out),
        mask_from=args.mask_from,
        resize_mask=args.resize_mask,
        max_pixels=args.max_pixels,
        max_bytes=bytes_from_mib(args.max_mb),
        device=args.device,
        dtype=args.dtype,
        force=args.force,
        executor=args.executor,
        ray_address=args.ray_address,
        workers=args.workers,
        threads=args.threads,
    )
    summary = run_batch(items, settings, progress=not (args.quiet or args.json))
    if args.json:
        print(json.dumps(summary.to_dict()))
    else:
        print(
            f"batch: {summary.done} done, {summary.skipped} already done, "
            f"{len(summary.failed)} failed, of {summary.total} in {summary.seconds:.1f} s "
            f"-> {settings.out}"
        )
        for image, reason in summary.failed:
            print(f"failed: {image}: {reason}", file=sys.stderr)
    return 0 if summary.ok else 1
