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
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .batch_render import BatchSettings, Job, Outcome, make_engine, render
from .errors import InpaintError
from .imaging.url_guard import resolve_within

INSTALL_HINT = (
    "--executor ray needs Ray, which is not installed: pip install 'inpaint-studio[ray]' "
    "(or pip install 'ray>=2.9')"
)
#: jobs in flight per worker: one running, one waiting, so a worker never idles on the driver
IN_FLIGHT_PER_WORKER = 2
#: how long the reachability check of ``--ray-address`` waits for a TCP answer (name lookup
#: included) before it calls the address unreachable; Ray itself would retry for minutes
PROBE_TIMEOUT_S = 5.0
#: Ray's default ports: the head's GCS (``HOST`` alone) and the Ray Client server (``ray://HOST``)
GCS_PORT, CLIENT_PORT = 6379, 10001


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


def probe_target(address: str, source: str = "--ray-address") -> tuple[str, int] | None:
    """``(host, port)`` a Ray address connects to first, or None for the addresses Ray resolves
    itself (``auto``, ``local``). ``ray://HOST[:PORT]`` is the Ray Client server (default port
    10001); ``HOST[:PORT]`` the head node's GCS (default 6379)."""
    address = address.strip()
    if address.lower() in ("auto", "local", ""):
        return None
    client = address.lower().startswith("ray://")
    try:
        parts = urlsplit(address if client else f"//{address}")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number, or out of range
        raise InpaintError(
            f"{source} {address}: not an address (HOST:PORT or ray://HOST:PORT)"
        ) from None
    if not host:
        raise InpaintError(f"{source} {address}: not an address (HOST:PORT or ray://HOST:PORT)")
    return host, port or (CLIENT_PORT if client else GCS_PORT)


def check_reachable(
    address: str, *, source: str = "--ray-address", timeout_s: float = PROBE_TIMEOUT_S
) -> None:
    """Fail fast, with what to check, when nothing answers at a Ray address.

    Why: ``ray.init`` retries an address where nothing listens for minutes (its GCS client keeps
    reconnecting), and the knob that shortens that wait (``RAY_gcs_rpc_server_reconnect_timeout_s``)
    also governs the whole run afterwards, where it ends the process outright rather than raising.
    So a plain TCP connect with a short timeout comes first, after a name lookup bounded by the
    URL fetcher's resolver (``getaddrinfo`` has no timeout of its own). Something that answers is
    left to Ray.
    """
    target = probe_target(address, source)
    if target is None:
        return
    host, port = target
    problem: list[str] = []
    try:
        addresses = resolve_within(host, port, 2 * timeout_s)
    except TimeoutError:
        addresses = []
        problem.append(f"cannot resolve {host} within {2 * timeout_s:g} s")
    except OSError as exc:  # socket.gaierror
        addresses = []
        problem.append(f"cannot resolve {host}: {exc.strerror or exc}")
    for ip in addresses:
        try:
            with socket.create_connection((ip, port), timeout=timeout_s):
                return
        except TimeoutError:
            problem.append(f"no answer within {timeout_s:g} s")
        except OSError as exc:
            problem.append(exc.strerror or str(exc) or type(exc).__name__)
    if problem:
        raise InpaintError(
            f"{source} {address}: nothing answers at {host}:{port} ({problem[0]}); "
            f"check that the Ray head node is running there (`ray status` on it), the host and "
            f"the port (the head's GCS port, {GCS_PORT} by default, or ray://HOST:{CLIENT_PORT} "
            f"for Ray Client) and that no firewall is in the way"
        )


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
