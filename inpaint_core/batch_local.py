"""The local executor of the batch command: this machine's cores, one engine per worker process.

Why it is shaped like this:

* **Processes, not threads.** The classical fill is numpy/OpenCV code that holds the GIL for much
  of an item, so one process per core (spawned, each with its own engine made once by
  :func:`inpaint_core.batch_render.init_worker`) is what scales. Diffusion runs in the driver's
  process: torch already uses every core, and one model is loaded once.
* **Workers only compute.** They get a job's bytes and hand back PNG bytes
  (:func:`inpaint_core.batch_render.render`, the function a Ray worker runs too); the driver writes
  each output and journals it as it completes, so outputs are the same bytes whatever the worker
  count, and the journal has one writer.
* **Ctrl-C is the driver's.** Workers start with SIGINT blocked (a terminal sends it to the whole
  process group, and a worker still importing numpy would print a traceback); the driver stops
  them itself: a clean exit waits for them, an interrupt terminates them.
* **A dead worker costs one item, not the night.** When a worker process dies (the kernel's
  out-of-memory killer, a crash in a native decoder), Python's pool fails every job in flight and
  cannot be used again. The pool is started afresh and the jobs that were in flight are run again
  *one at a time*, so the one that kills its worker again is recorded as failed with the reason
  and the others complete; then the batch goes on at full width.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from .batch_render import (
    BatchSettings,
    Job,
    Outcome,
    WorkerStartError,
    init_worker,
    make_engine,
    render,
    render_in_worker,
)
from .cpu_threads import available_cpus
from .engines.base import Engine
from .errors import InpaintError

#: default ceiling on local worker processes: each holds an engine and up to two scans' pixels
#: as floats (a 24-megapixel scan is ~1 GB of working memory), so "one per CPU" on a 128-core
#: server would trade memory for little; ``--workers N`` goes above it
DEFAULT_MAX_WORKERS = 16
#: Windows cannot wait on more than 61 worker processes (ProcessPoolExecutor's own limit)
WINDOWS_MAX_WORKERS = 61
#: jobs queued per worker: one running, one waiting, so a worker never idles on the driver while
#: the driver reads the next scan (bounds the input bytes held in memory, too)
IN_FLIGHT_PER_WORKER = 2

CRASH_REASON = (
    "the worker process restoring this image died (out of memory, or a crash in a decoder or "
    "the engine)"
)


def cuda_gpus(settings: BatchSettings) -> int:
    """CUDA GPUs a diffusion batch spreads over: every one when ``--device`` is ``auto`` or
    ``cuda`` (``cuda:N``, ``cpu`` or ``mps`` name one device); 0 for the classical engine."""
    if settings.request.engine != "diffusion":
        return 0
    if (settings.device or "auto").strip().lower() not in ("auto", "cuda"):
        return 0
    try:
        import torch  # only a diffusion batch asks; it imports torch anyway to load its model
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def local_workers(settings: BatchSettings, items: int | None = None) -> int:
    """Processes the local executor uses: one per CPU for the classical engine (up to
    :data:`DEFAULT_MAX_WORKERS` unless ``--workers`` says more); for diffusion one per GPU when
    there are several (one model on each), else one (torch already uses every core, and the model
    loads once). Never more than ``items``."""
    if settings.request.engine != "classical":
        gpus = cuda_gpus(settings)
        workers = (settings.workers or gpus) if gpus > 1 else 1
    else:
        workers = settings.workers or min(available_cpus(), DEFAULT_MAX_WORKERS)
    if sys.platform == "win32":
        workers = min(workers, WINDOWS_MAX_WORKERS)
    if items is not None:
        workers = min(workers, max(1, items))
    return max(1, workers)


def run_local(
    jobs: Iterator[Job],
    settings: BatchSettings,
    on_outcome: Callable[[Job, Outcome], None],
    engine: Engine | None = None,
    *,
    items: int | None = None,
) -> None:
    """Run ``jobs`` here: in this process with one engine (diffusion, one CPU, or an ``engine``
    given), or on a pool of worker processes with one classical engine each. Same
    :func:`render`, same bytes. ``on_outcome`` runs in this process, as each job completes.
    ``items`` (how many jobs there may be) keeps a small batch from starting idle workers.
    """
    workers = 1 if engine is not None else local_workers(settings, items)
    kwargs = settings.render_kwargs()
    if workers == 1:
        for job in jobs:
            engine = engine or make_engine(settings.engine_spec())  # not made if all are done
            on_outcome(job, render(engine, job.request, job.image_bytes, job.mask_bytes, **kwargs))
        return
    first = next(jobs, None)
    if first is None:
        return  # everything was done already: no pool to start
    gpus = cuda_gpus(settings) if settings.request.engine == "diffusion" else 0
    _WorkerPool(workers, settings.engine_spec(), kwargs, gpus=gpus).run(
        itertools.chain([first], jobs), on_outcome
    )


@dataclass
class _InFlight:
    job: Job
    alone: bool  # run by itself after a crash: if its worker dies, this job killed it


class _WorkerPool:
    """A process pool that is started again when one of its workers dies (module docstring)."""

    def __init__(
        self,
        workers: int,
        engine_spec: dict[str, Any],
        kwargs: dict[str, Any],
        *,
        gpus: int = 0,
    ) -> None:
        self.workers = workers
        self._spec, self._kwargs, self._gpus = engine_spec, kwargs, gpus
        self._pool: ProcessPoolExecutor | None = None

    def _start(self) -> ProcessPoolExecutor:
        # spawn: the driver may hold threads (tqdm's monitor), which fork does not carry safely
        context = multiprocessing.get_context("spawn")
        devices = None
        if self._gpus > 1:  # each worker of this pool takes one index: GPUs round-robin
            devices = context.Queue()
            for i in range(self.workers):
                devices.put(i % self._gpus)
        return ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=init_worker,
            initargs=(self._spec, self._kwargs, devices),
        )

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)  # already dead: returns at once
        self._pool = self._start()

    def run(self, jobs: Iterator[Job], on_outcome: Callable[[Job, Outcome], None]) -> None:
        source = iter(jobs)
        suspects: deque[Job] = deque()  # in flight when a worker died: each is run again alone
        pending: dict[Future, _InFlight] = {}
        self._pool = self._start()
        finished_cleanly = False
        try:
            while True:
                isolating = bool(suspects) or any(f.alone for f in pending.values())
                limit = 1 if isolating else IN_FLIGHT_PER_WORKER * self.workers
                while len(pending) < limit:
                    alone = bool(suspects)
                    job = suspects.popleft() if alone else next(source, None)
                    if job is None:
                        break
                    pending[self._submit(job)] = _InFlight(job, alone)
                if not pending:
                    finished_cleanly = True
                    return
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                if any(_crashed(f) for f in finished):
                    self._after_crash(pending, suspects, on_outcome)
                    continue
                for future in [f for f in pending if f in finished]:  # in submission order
                    on_outcome(pending.pop(future).job, _result(future))
        finally:
            if finished_cleanly:
                self._pool.shutdown(wait=True)
            else:  # Ctrl-C or an error in the driver: queued jobs are dropped, workers stopped
                _stop_now(self._pool)

    def _submit(self, job: Job) -> Future:
        assert self._pool is not None
        args = (render_in_worker, job.request, job.image_bytes, job.mask_bytes)
        # the pool starts its worker processes inside submit(): they inherit this signal mask
        with _sigint_blocked():
            try:
                return self._pool.submit(*args)
            except BrokenProcessPool:  # it broke between two results; this job has not run
                self._restart()
                return self._pool.submit(*args)

    def _after_crash(
        self,
        pending: dict[Future, _InFlight],
        suspects: deque[Job],
        on_outcome: Callable[[Job, Outcome], None],
    ) -> None:
        """A worker died: every job in flight fails together. Those that had finished keep their
        result; a job that ran alone is the one that killed its worker; the rest run again."""
        wait(list(pending))  # the pool marks all of them at once
        for future, flight in list(pending.items()):
            del pending[future]
            if not _crashed(future):
                on_outcome(flight.job, _result(future))
            elif flight.alone:
                on_outcome(flight.job, Outcome(error=CRASH_REASON))
            else:
                suspects.append(flight.job)
        self._restart()


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread for the block (not lost: a Ctrl-C meanwhile is delivered
    when it ends). A process started inside inherits the mask and keeps it: Ctrl-C in a terminal
    reaches the driver only. No-op where signal masks do not exist (Windows)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _stop_now(pool: ProcessPoolExecutor) -> None:
    """Drop queued jobs and terminate the workers (they ignore Ctrl-C; a big scan could keep one
    busy for minutes). ``terminate_workers`` is Python 3.14's; before it, the pool's own list."""
    terminate = getattr(pool, "terminate_workers", None)
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    if terminate is not None:
        with contextlib.suppress(Exception):
            terminate()
        return
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()


def _crashed(future: Future) -> bool:
    return isinstance(future.exception(), BrokenProcessPool)


def _result(future: Future) -> Outcome:
    """A worker's outcome; an engine that cannot start in a worker stops the batch, as it does
    when it cannot start in this process (a setup problem, not an item's)."""
    try:
        return future.result()
    except WorkerStartError as exc:
        raise InpaintError(f"the engine could not start in a batch worker: {exc}") from None
