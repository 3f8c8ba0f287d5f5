"""The predictions API under load vs the same predictions in-process (loopback, bounded).

N classical predictions (default 200) from C concurrent clients (default 20), each through the
real ``replicate`` client against ``inpaint-studio-cli serve``'s app on a loopback port: the photo
and mask are uploaded once (``POST /v1/files``), then every client creates predictions by version
and long-polls them (``GET /v1/predictions/{id}`` with ``Prefer: wait``). Checked: all succeed,
none lost (every id comes back exactly once, with one output). Printed beside the same N run
in-process by C threads on the engine's own one-worker ``JobQueue`` (decode the same bytes,
inpaint, write the same PNG): p95 create latency, throughput, and the wall-time ratio
(target: API overhead ≤ 1.2x).

Run: ``.venv/bin/python bench/api_load.py [--n 200 --clients 20 --scale 1.0]``
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import replicate
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inpaint_core import imaging  # noqa: E402
from inpaint_core.events import EngineEvent  # noqa: E402
from inpaint_core.inpaint import inpaint  # noqa: E402
from inpaint_core.jobs import EngineCache, JobQueue  # noqa: E402
from inpaint_core.request import InpaintRequest  # noqa: E402
from inpaint_core.service.config import ServiceConfig  # noqa: E402
from inpaint_core.service.server import BackgroundServer  # noqa: E402


def inputs(scale: float) -> tuple[bytes, bytes]:
    photo = Image.open(ROOT / "resources" / "sample.jpg").convert("RGB")
    mask = Image.open(ROOT / "resources" / "sample_mask.png")
    if scale != 1.0:
        size = (round(photo.width * scale), round(photo.height * scale))
        photo, mask = photo.resize(size, Image.LANCZOS), mask.resize(size, Image.NEAREST)
    out = []
    for im in (photo, mask):
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        out.append(buf.getvalue())
    return out[0], out[1]


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def split(n: int, clients: int) -> list[int]:
    return [n // clients + (1 if i < n % clients else 0) for i in range(clients)]


def run_api(photo: bytes, mask: bytes, n: int, clients: int) -> dict:
    cfg = ServiceConfig(port=0, discover_models=False, queue_size=n)
    with BackgroundServer(cfg) as server:
        setup = replicate.Client(api_token="bench", base_url=server.url)
        image_url = setup.files.create(io.BytesIO(photo), filename="photo.png").urls["get"]
        mask_url = setup.files.create(io.BytesIO(mask), filename="mask.png").urls["get"]
        version = setup.models.get("inpaint-studio/classical").latest_version.id
        latencies: list[float] = []
        finished: list[dict] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client_loop(count: int) -> None:
            client = replicate.Client(api_token="bench", base_url=server.url)
            with httpx.Client(timeout=httpx.Timeout(90)) as poll:
                created = []
                for _ in range(count):
                    t0 = time.perf_counter()
                    pred = client.predictions.create(
                        version=version, input={"image": image_url, "mask": mask_url}
                    )
                    with lock:
                        latencies.append(time.perf_counter() - t0)
                    created.append(pred.urls["get"])
                for url in created:
                    while True:
                        body = poll.get(url, headers={"Prefer": "wait=60"}).json()
                        if body["status"] in ("succeeded", "failed", "canceled"):
                            break
                    with lock:
                        (finished if body["status"] == "succeeded" else errors).append(body)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client_loop, args=(k,)) for k in split(n, clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        ids = [b["id"] for b in finished]
        assert not errors, errors[:3]
        assert len(ids) == n and len(set(ids)) == n, "predictions lost or duplicated"
        assert all(len(b["output"]) == 1 for b in finished)
        predict = [b["metrics"]["predict_time"] for b in finished]
    return {"wall": wall, "latencies": latencies, "predict": predict}


def run_inprocess(photo: bytes, mask: bytes, n: int, clients: int) -> dict:
    out_dir = Path(tempfile.mkdtemp(prefix="api-load-inproc-"))
    done: dict[str, threading.Event] = {}
    results: dict[str, list] = {}
    lock = threading.Lock()

    def on_event(event: EngineEvent) -> None:
        if event.kind == "result":
            results[event.job_id] = event.images
        if event.kind == "finished":
            with lock:
                done.setdefault(event.job_id, threading.Event()).set()

    queue = JobQueue(on_event, EngineCache())
    latencies: list[float] = []
    counter = iter(range(n))

    def client_loop(count: int) -> None:
        jobs = []
        for _ in range(count):
            t0 = time.perf_counter()
            request = InpaintRequest()
            image = imaging.load_image(photo)
            mask_px = imaging.load_mask(mask, image.size)
            k = next(counter)

            def run(on_ev, cancel, image=image, mask_px=mask_px, request=request, k=k):
                res = inpaint(request, image, mask_px, EngineCache()(request), on_ev, cancel)
                for r in res:
                    imaging.save_png(
                        out_dir / f"{k}.png",
                        r.composite(image.rgb),
                        alpha=image.alpha,
                        request=r.request,
                        seed=r.seed,
                    )
                return res

            job = queue.submit_call(run)
            with lock:
                latencies.append(time.perf_counter() - t0)
                done.setdefault(job, threading.Event())
            jobs.append(job)
        for job in jobs:
            done[job].wait()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client_loop, args=(k,)) for k in split(n, clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    queue.shutdown()
    assert len(results) == n and all(len(v) == 1 for v in results.values())
    return {"wall": wall, "latencies": latencies}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--scale", type=float, default=1.0, help="scale of the 600x400 sample")
    args = ap.parse_args()
    photo, mask = inputs(args.scale)
    size = Image.open(io.BytesIO(photo)).size
    print(f"{args.n} classical predictions, {args.clients} concurrent clients, {size[0]}x{size[1]}")
    local = run_inprocess(photo, mask, args.n, args.clients)
    api = run_api(photo, mask, args.n, args.clients)
    print(f"{'':12} {'wall s':>8} {'pred/s':>8} {'p95 create ms':>14} {'median create ms':>17}")
    for name, r in (("in-process", local), ("API", api)):
        print(
            f"{name:12} {r['wall']:8.2f} {args.n / r['wall']:8.2f} "
            f"{1000 * p95(r['latencies']):14.1f} {1000 * statistics.median(r['latencies']):17.1f}"
        )
    print(f"all {args.n} API predictions succeeded, none lost (ids unique, one output each)")
    print(f"mean predict_time (API metrics): {statistics.mean(api['predict']):.3f} s")
    ratio = api["wall"] / local["wall"]
    print(f"API / in-process wall time: {ratio:.2f}x (target <= 1.2x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
