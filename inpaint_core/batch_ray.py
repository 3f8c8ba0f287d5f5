"""The Ray executor of the batch command: the same jobs, on Ray actors, one machine or a cluster.

Each actor is one worker process holding one engine (the model is loaded once per worker, and its
caches live as long as the worker); a diffusion actor on a cluster with GPUs asks Ray for one GPU.
Actors only compute (:func:`inpaint_core.batch.render`): they receive the input bytes and return
pixels, and the driver writes every file and the journal, so the outputs are the local executor's
bytes and the cluster needs no shared file system. Ray is an optional extra
(``pip install 'inpaint-studio[ray]'``); it is imported only when this executor is chosen.
"""

from __future__ import annotations

import importlib
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .batch_render import BatchSettings, Job, Outcome, make_engine, render
from .errors import InpaintError
from .ray_address import check_reachable

INSTALL_HINT = (
    "--executor ray needs Ray, which is not installed: pip install 'inpaint-studio[ray]' "
    "(or pip install 'ray[client]>=2.9')"
)
#: jobs in flight per worker: one running, one waiting, so a worker never idles on the driver
IN_FLIGHT_PER_WORKER = 2


def import_ray() -> Any:
    """The ``ray`` module, or an :class:`InpaintError` saying how to install it."""
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise InpaintError(INSTALL_HINT) from None


class Renderer:
    """A Ray actor's body: one engine for the worker's lifetime."""

    def __init__(self, engine_spec: dict[str, Any], render_kwargs: dict[str, Any]) -> None:
        self._engine = make_engine(engine_spec)
        self._kwargs = render_kwargs

    def render(self, request: Any, image_bytes: bytes, mask_bytes: bytes) -> Outcome:
        return render(self._engine, request, image_bytes, mask_bytes, **self._kwargs)


def _worker_plan(ray: Any, settings: BatchSettings) -> tuple[int, float, float]:
    """(workers, CPUs per worker, GPUs per worker) from the flags and the cluster's resources.

    A CPU diffusion worker asks for as many CPUs as it runs torch threads (the driver's CPU
    count unless ``--threads``; capped at the biggest node), so Ray does not pack them onto
    one machine's cores, and its pixels match the local executor's.
    """
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    cpus = max(1, int(resources.get("CPU", 1)))
    diffusion = settings.request.engine == "diffusion"
    use_gpu = diffusion and gpus > 0 and (settings.device or "auto") not in ("cpu", "mps")
    if use_gpu:
        return settings.workers or gpus, 1.0, 1.0
    if not diffusion:
        return settings.workers or cpus, 1.0, 0.0
    biggest = max(
        (n.get("Resources", {}).get("CPU", 1) for n in ray.nodes() if n.get("Alive")), default=1
    )
    per_worker = float(min(settings.engine_spec()["threads"], max(1, int(biggest))))
    return settings.workers or max(1, int(cpus // per_worker)), per_worker, 0.0


def _init(ray: Any, address: str | None) -> bool:
    """Connect (or start a local Ray); True when we started it and must shut it down."""
    if ray.is_initialized():
        return False
    # no --ray-address: Ray joins the cluster in RAY_ADDRESS when that is set
    env_address = os.environ.get("RAY_ADDRESS", "").strip()
    if address:
        check_reachable(address)
    elif env_address:
        check_reachable(env_address, source="RAY_ADDRESS")
    joining = bool(address or env_address)
    if not joining:
        # workers of a local Ray must import inpaint_core the way this process does
        root = str(Path(__file__).resolve().parents[1])
        parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if root not in parts:
            os.environ["PYTHONPATH"] = os.pathsep.join([root, *parts])
    # starting a local Ray takes these; joining a cluster (``ray://`` client too) takes none
    local = {} if joining else {"include_dashboard": False, "logging_level": "ERROR"}
    try:
        ray.init(address=address, **local)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"--ray-address {address}" if address else "Ray"
        raise InpaintError(f"{where}: cannot connect to Ray ({_first_line(exc)})") from None
    return True


def run_on_ray(
    jobs: Iterator[Job],
    settings: BatchSettings,
    on_outcome: Callable[[Job, Outcome], None],
) -> None:
    """Run ``jobs`` on Ray actors; ``on_outcome`` runs in the driver as each one finishes."""
    ray = import_ray()
    first = next(jobs, None)
    if first is None:
        return  # everything was done already: no cluster to join
    jobs = itertools.chain([first], jobs)
    started = _init(ray, settings.ray_address)
    try:
        n_workers, cpus, gpus = _worker_plan(ray, settings)
        # a worker killed mid-item (out of memory on one huge scan) is started again once: that
        # item is reported failed, the next ones go on; an actor that stays dead fails each item
        # handed to it with the reason, so nothing is ever dropped silently
        actor_cls = ray.remote(Renderer).options(num_cpus=cpus, num_gpus=gpus, max_restarts=1)
        spec = settings.engine_spec()
        actors = [actor_cls.remote(spec, settings.render_kwargs()) for _ in range(n_workers)]
        idle = [a for a in actors for _ in range(IN_FLIGHT_PER_WORKER)]
        pending: dict[Any, tuple[Job, Any]] = {}
        source = iter(jobs)
        exhausted = False
        while True:
            while idle and not exhausted:
                job = next(source, None)
                if job is None:
                    exhausted = True
                    break
                actor = idle.pop(0)
                ref = actor.render.remote(job.request, job.image_bytes, job.mask_bytes)
                pending[ref] = (job, actor)
            if not pending:
                break
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                job, actor = pending.pop(ref)
                idle.append(actor)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as exc:  # a worker died or its engine failed to load
                    outcome = Outcome(error=f"Ray worker failed: {_first_line(exc)}")
                on_outcome(job, outcome)
        for actor in actors:
            ray.kill(actor)
    finally:
        if started:
            ray.shutdown()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__
