"""``inpaint-studio-cli batch``: outputs, the journal (resume, redo, truncation), bad inputs, a
kill mid-run, manifests, and the diffusion engine kept across items."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from inpaint_core import batch, cli, imaging
from inpaint_core.batch_journal import JOURNAL_NAME, Journal
from inpaint_core.errors import InpaintError
from inpaint_core.files import TEMP_MARK
from inpaint_core.synthetic_damage import damage, scratches

REPO = Path(__file__).resolve().parents[1]
PHOTOS = {"coffee": data.coffee, "astronaut": data.astronaut, "chelsea": data.chelsea}


def make_folder(root: Path, size=(160, 120), names=PHOTOS, mask_style="stem") -> tuple[Path, Path]:
    """Damaged photos in root/scans, their masks in root/masks (``NAME.png`` or ``NAME_mask.png``)."""
    scans, masks = root / "scans", root / "masks"
    scans.mkdir(parents=True, exist_ok=True)
    masks.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    for i, name in enumerate(names):
        photo = np.asarray(Image.fromarray(PHOTOS[name]()).resize(size, Image.LANCZOS))
        mask = scratches(size[1], size[0], rng)
        Image.fromarray(damage(photo, mask)).save(scans / f"{name}.png")
        suffix = "_mask" if (mask_style == "mixed" and i % 2) else ""
        Image.fromarray(mask).save(masks / f"{name}{suffix}.png")
    return scans, masks


def run_batch_cli(*args: str, capsys=None) -> tuple[int, dict]:
    code = cli.main(["batch", *args, "--json"])
    report = json.loads(capsys.readouterr().out) if capsys is not None else {}
    return code, report


def journal_lines(out: Path) -> list[str]:
    return (out / JOURNAL_NAME).read_text().splitlines()


def test_batch_outputs_equal_single_run_outputs(tmp_path, capsys):
    scans, masks = make_folder(tmp_path, mask_style="mixed")
    out = tmp_path / "out"
    code, report = run_batch_cli(
        "--images", str(scans), "--masks", str(masks), "--out", str(out), capsys=capsys
    )
    assert code == 0 and report["done"] == 3 and not report["failed"]
    assert sorted(Path(p).name for p in report["outputs"]) == sorted(f"{n}.png" for n in PHOTOS)
    for name in PHOTOS:
        mask = next(masks.glob(f"{name}*.png"))
        single = tmp_path / f"single-{name}.png"
        assert cli.main(["run", "--image", str(scans / f"{name}.png"), "--mask", str(mask),
                         "--out", str(single), "--quiet"]) == 0  # fmt: skip
        capsys.readouterr()
        got = imaging.load_image(out / f"{name}.png").rgb
        assert np.array_equal(got, imaging.load_image(single).rgb), name
    assert len(journal_lines(out)) == 3
    entry = json.loads(journal_lines(out)[0])
    assert entry["status"] == "done" and len(entry["image_sha256"]) == 64
    assert entry["params"]["request"]["mask_grow"] == 0  # the classical defaults


def test_rerun_skips_done_items_changed_params_or_input_redo_force_redoes_all(tmp_path, capsys):
    scans, masks = make_folder(tmp_path)
    out = tmp_path / "out"
    base = ["--images", str(scans), "--masks", str(masks), "--out", str(out)]
    assert run_batch_cli(*base, capsys=capsys)[0] == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")}
    code, report = run_batch_cli(*base, capsys=capsys)
    assert code == 0 and (report["done"], report["skipped"]) == (0, 3)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.png")} == stamps
    assert len(journal_lines(out)) == 3  # nothing appended for skipped items

    # one changed input: only that item again
    img = np.asarray(Image.open(scans / "chelsea.png")).copy()
    img[0, 0] = 255 - img[0, 0]
    Image.fromarray(img).save(scans / "chelsea.png")
    code, report = run_batch_cli(*base, capsys=capsys)
    assert (report["done"], report["skipped"]) == (1, 2)
    assert [Path(p).name for p in report["outputs"] if "chelsea" in p] == ["chelsea.png"]

    # changed parameters redo every item; --force redoes them all again
    code, report = run_batch_cli(*base, "--feather", "2", capsys=capsys)
    assert (report["done"], report["skipped"]) == (3, 0)
    code, report = run_batch_cli(*base, "--feather", "2", capsys=capsys)
    assert (report["done"], report["skipped"]) == (0, 3)
    code, report = run_batch_cli(*base, "--feather", "2", "--force", capsys=capsys)
    assert (report["done"], report["skipped"]) == (3, 0)


def test_a_corrupt_input_is_reported_and_the_batch_goes_on(tmp_path, capsys):
    scans, masks = make_folder(tmp_path)
    (scans / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not the rest of a PNG")
    Image.fromarray(np.zeros((120, 160), np.uint8) + 255).save(masks / "broken.png")
    Image.fromarray(np.zeros((120, 160, 3), np.uint8)).save(scans / "lonely.png")  # no mask
    out = tmp_path / "out"
    code = cli.main(["batch", "--images", str(scans), "--masks", str(masks), "--out", str(out),
                     "--quiet"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert "3 done" in captured.out and "2 failed" in captured.out
    failed = [ln for ln in captured.err.splitlines() if ln.startswith("failed:")]
    assert len(failed) == 2
    assert any("broken.png" in ln for ln in failed) and any("lonely.png" in ln for ln in failed)
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"{n}.png" for n in PHOTOS)
    entries = Journal(out).load()
    assert entries["broken"].status == "failed" and entries["broken"].error
    # a failed item is tried again on a re-run (and fails again), done ones are skipped
    code, report = run_batch_cli(
        "--images", str(scans), "--masks", str(masks), "--out", str(out), capsys=capsys
    )
    assert code == 1 and report["skipped"] == 3 and len(report["failed"]) == 2


def test_journal_survives_a_truncated_last_line(tmp_path, capsys):
    scans, masks = make_folder(tmp_path)
    out = tmp_path / "out"
    base = ["--images", str(scans), "--masks", str(masks), "--out", str(out)]
    assert run_batch_cli(*base, capsys=capsys)[0] == 0
    text = (out / JOURNAL_NAME).read_text()
    last = text.splitlines()[-1]
    (out / JOURNAL_NAME).write_text(text[: len(text) - len(last) // 2 - 1])  # cut mid-line
    lost = json.loads(last)["key"]
    code, report = run_batch_cli(*base, capsys=capsys)
    assert code == 0 and (report["done"], report["skipped"]) == (1, 2)
    assert lost in Journal(out).load()
    lines = journal_lines(out)
    assert len(lines) == 4 and json.loads(lines[-1])["key"] == lost  # not glued to the stub
    assert run_batch_cli(*base, capsys=capsys)[1]["skipped"] == 3


def test_manifest_with_prompt_and_seed(tmp_path, capsys):
    scans, masks = make_folder(tmp_path, names=["coffee", "chelsea"])
    manifest = tmp_path / "list.csv"
    manifest.write_text(
        "image,mask,prompt,seed\n"
        "scans/coffee.png,masks/coffee.png,a cup,7\n"
        f"{scans / 'chelsea.png'},{masks / 'chelsea.png'},,\n"
        "scans/coffee.png,masks/coffee.png,,not-a-seed\n"
    )
    out = tmp_path / "out"
    code, report = run_batch_cli("--manifest", str(manifest), "--out", str(out), capsys=capsys)
    assert code == 1 and report["done"] == 2 and "seed" in report["failed"][0]["reason"]
    entries = Journal(out).load()
    coffee = [e for e in entries.values() if e.status == "done" and "coffee" in e.image][0]
    assert coffee.params["request"]["prompt"] == "a cup"
    assert coffee.params["request"]["seed"] == 7


def test_bad_arguments_exit_2_with_one_line(tmp_path):
    cmd = [sys.executable, "-m", "inpaint_core.cli", "batch", "--images", str(tmp_path / "nope"),
           "--out", str(tmp_path / "o")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: --images {tmp_path / 'nope'}: no such folder"
    ]


def children(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (Linux /proc; empty elsewhere)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(p)
    return out


def test_killed_batch_resumes_without_redoing_finished_items(tmp_path):
    """SIGKILL mid-run, then the same command: exactly the rest is done, nothing half-written."""
    names = {f"p{i}": fn for i, fn in enumerate(list(PHOTOS.values()) * 3)}
    PHOTOS_EXTRA = dict(PHOTOS)
    PHOTOS.update(names)
    try:
        scans, masks = make_folder(tmp_path, size=(512, 384), names=list(names))
    finally:
        PHOTOS.clear()
        PHOTOS.update(PHOTOS_EXTRA)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "inpaint_core.cli", "batch", "--images", str(scans),
           "--masks", str(masks), "--out", str(out), "--json", "--workers", "2"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    journal = out / JOURNAL_NAME
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if journal.exists() and len(journal.read_text().splitlines()) >= 2:
                break
            assert proc.poll() is None, "the batch ended before it could be killed"
            time.sleep(0.01)
        else:
            pytest.fail("no item finished within 120 s")
        workers = children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        if Path("/proc").is_dir():
            assert len(workers) >= 2  # the two worker processes (and the resource tracker)
    finally:
        proc.wait(timeout=60)
    done_before = {k: e for k, e in Journal(out).load().items() if e.status == "done"}
    assert 2 <= len(done_before) < len(names)
    stamps = {k: (out / f"{k}.png").stat().st_mtime_ns for k in done_before}
    for png in out.glob("*.png"):  # whatever is there is whole (temp + rename)
        imaging.load_image(png)

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["skipped"] == len(done_before)
    assert report["done"] == len(names) - len(done_before)
    assert {k: (out / f"{k}.png").stat().st_mtime_ns for k in done_before} == stamps
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(names)
    assert not [p for p in out.iterdir() if TEMP_MARK in p.name]
    # the killed driver's worker processes did not run on as orphans
    deadline = time.monotonic() + 10
    while alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(workers)
    entries = [json.loads(ln) for ln in journal.read_text().splitlines() if ln.strip()]
    assert sorted(e["key"] for e in entries) == sorted(names)  # each item journalled once


def test_diffusion_batch_keeps_one_engine_and_encodes_the_prompt_once(tmp_path, tiny_model_dir):
    """One model load, prompt embeddings cached across items, and an item equals ``run`` with
    the seed the journal recorded for it."""
    from inpaint_core.engines.diffusion import DiffusionEngine
    from inpaint_core.request import InpaintRequest

    scans, masks = make_folder(tmp_path, size=(96, 64))
    request = InpaintRequest(engine="diffusion", model=str(tiny_model_dir), prompt="old paper",
                             negative_prompt="blurry", steps=2, target_size=64, mask_padding=8,
                             safety_checker=False)  # fmt: skip
    engine = DiffusionEngine(model=str(tiny_model_dir), device="cpu")
    engine.load()
    pipe = engine._loaded.pipe
    calls = {"text_encoder": 0}
    forward = pipe.text_encoder.forward

    def spy(*a, **k):
        calls["text_encoder"] += 1
        return forward(*a, **k)

    pipe.text_encoder.forward = spy
    try:
        items = batch.discover(str(scans), str(masks))
        settings = batch.BatchSettings(request=request, out=tmp_path / "out", device="cpu")
        summary = batch.run_batch(items, settings, engine=engine)
    finally:
        del pipe.text_encoder.forward
    assert summary.done == 3 and summary.ok
    assert calls["text_encoder"] == 2  # prompt + negative prompt, once for three items
    entry = Journal(tmp_path / "out").load()["coffee"]
    seed = entry.params["request"]["seed"]
    single = tmp_path / "single.png"
    assert cli.main(["run", "--image", str(scans / "coffee.png"), "--mask",
                     str(masks / "coffee.png"), "--out", str(single), "--model",
                     str(tiny_model_dir), "--prompt", "old paper", "--negative-prompt", "blurry",
                     "--steps", "2", "--target-size", "64", "--padding", "8",
                     "--no-safety-checker", "--seed", str(seed), "--device", "cpu",
                     "--quiet"]) == 0  # fmt: skip
    got = imaging.load_image(tmp_path / "out" / "coffee.png").rgb
    assert np.array_equal(got, imaging.load_image(single).rgb)


def test_discover_by_glob_with_masks_beside_the_photos(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.png").write_bytes(b"x")
    (tmp_path / "a_mask.png").write_bytes(b"x")
    (tmp_path / "b_mask.webp").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not an image")
    items = batch.discover(str(tmp_path / "*.png"), None)
    assert [i.key for i in items] == ["a", "b", "c"]  # a_mask.png is a mask, not a photo
    assert [i.mask.name if i.mask else None for i in items] == ["a_mask.png", "b_mask.webp", None]
    assert "no mask" in items[2].problem


def test_with_a_seed_batch_files_are_run_files_byte_for_byte(tmp_path, capsys):
    scans, masks = make_folder(tmp_path, names=["chelsea"])
    out = tmp_path / "out"
    args = ["--images", str(scans), "--masks", str(masks), "--out", str(out), "--seed", "9"]
    assert run_batch_cli(*args, capsys=capsys)[0] == 0
    single = tmp_path / "single.png"
    assert cli.main(["run", "--image", str(scans / "chelsea.png"), "--mask",
                     str(masks / "chelsea.png"), "--out", str(single), "--seed", "9",
                     "--quiet"]) == 0  # fmt: skip
    assert (out / "chelsea.png").read_bytes() == single.read_bytes()


# -- the local executor's worker processes ------------------------------------------------------
def test_parallel_batch_is_byte_identical_to_sequential_and_to_single_runs(tmp_path, capsys):
    names = ["coffee", "astronaut", "chelsea"]
    scans, masks = make_folder(tmp_path, names=names)
    folders = {}
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        code, report = run_batch_cli("--images", str(scans), "--masks", str(masks),
                                     "--out", str(out), "--workers", workers,
                                     capsys=capsys)  # fmt: skip
        assert code == 0 and report["done"] == len(names), report
        folders[workers] = {p.name: p.read_bytes() for p in sorted(out.glob("*.png"))}
    assert len(folders["2"]) == len(names) and folders["2"] == folders["1"]
    entries = Journal(tmp_path / "w2").load()
    for name in names:
        seed = entries[name].params["request"]["seed"]
        single = tmp_path / f"single-{name}.png"
        assert cli.main(["run", "--image", str(scans / f"{name}.png"), "--mask",
                         str(masks / f"{name}.png"), "--out", str(single), "--seed", str(seed),
                         "--quiet"]) == 0  # fmt: skip
        assert folders["2"][f"{name}.png"] == single.read_bytes(), name


#: imported by every Python process started with its folder on PYTHONPATH (the batch's spawned
#: workers too): a worker that meets the marked image dies at once, as the kernel's OOM killer
#: or a segfault in a decoder would end it
CRASH_HOOK = """
import os, signal
from inpaint_core import batch_render

_render = batch_render.render

def render(engine, request, image_bytes, mask_bytes, **kwargs):
    if b"KILL-THIS-WORKER" in image_bytes:
        os.kill(os.getpid(), signal.SIGKILL)
    return _render(engine, request, image_bytes, mask_bytes, **kwargs)

batch_render.render = render
"""


def test_a_worker_that_dies_fails_only_its_item_and_the_batch_goes_on(tmp_path):
    from PIL import PngImagePlugin

    names = ["coffee", "astronaut", "chelsea", "p3", "p4"]
    PHOTOS_BEFORE = dict(PHOTOS)
    PHOTOS.update(p3=data.coffee, p4=data.astronaut)
    try:
        scans, masks = make_folder(tmp_path, names=names)
    finally:
        PHOTOS.clear()
        PHOTOS.update(PHOTOS_BEFORE)
    killer = Image.open(scans / "chelsea.png").convert("RGB")
    note = PngImagePlugin.PngInfo()
    note.add_text("note", "KILL-THIS-WORKER")
    killer.save(scans / "killer.png", pnginfo=note)
    Image.open(masks / "chelsea.png").save(masks / "killer.png")
    (scans / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not the rest of a PNG")
    Image.open(masks / "chelsea.png").save(masks / "broken.png")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASH_HOOK)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "inpaint_core.cli", "batch", "--images", str(scans),
           "--masks", str(masks), "--out", str(out), "--json", "--workers", "2"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(hook), str(REPO)]))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    failed = {Path(f["image"]).name: f["reason"] for f in report["failed"]}
    assert set(failed) == {"killer.png", "broken.png"}
    assert "worker process" in failed["killer.png"] and "died" in failed["killer.png"]
    assert report["done"] == len(names)
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(names)
    entries = Journal(out).load()
    assert entries["killer"].status == "failed" and "died" in entries["killer"].error
    assert all(entries[n].status == "done" for n in names)
    assert not [p for p in out.iterdir() if TEMP_MARK in p.name]


def test_an_engine_that_cannot_start_in_the_workers_stops_the_batch_with_the_reason(tmp_path):
    from inpaint_core.batch_local import _WorkerPool
    from inpaint_core.batch_render import Job
    from inpaint_core.request import InpaintRequest

    scans, masks = make_folder(tmp_path, names=["coffee"])
    image, mask = (scans / "coffee.png").read_bytes(), (masks / "coffee.png").read_bytes()
    item = batch.BatchItem(key="coffee", image=scans / "coffee.png", mask=masks / "coffee.png")
    job = Job(item, InpaintRequest(), image, mask, "", "", {})
    seen = []
    with pytest.raises(InpaintError, match="could not start in a batch worker: .*no-such-engine"):
        _WorkerPool(2, {"name": "no-such-engine"}, {}).run(iter([job, job]), seen.append)
    assert seen == []


def test_local_workers_default_to_the_cpus_capped_by_the_items(monkeypatch):
    from inpaint_core import batch_local
    from inpaint_core.request import InpaintRequest

    monkeypatch.setattr(batch_local, "available_cpus", lambda: 64)
    classical = batch.BatchSettings(request=InpaintRequest(), out=Path("o"))
    assert batch_local.local_workers(classical) == batch_local.DEFAULT_MAX_WORKERS
    assert batch_local.local_workers(classical, items=3) == 3
    assert batch_local.local_workers(replace(classical, workers=40)) == 40  # asked for
    monkeypatch.setattr(batch_local, "available_cpus", lambda: 2)
    assert batch_local.local_workers(classical, items=200) == 2
    diffusion = replace(classical, request=InpaintRequest(engine="diffusion", model="m"))
    monkeypatch.setattr(batch_local, "cuda_gpus", lambda settings: 0)
    assert batch_local.local_workers(diffusion, items=200) == 1  # torch uses the cores
    monkeypatch.setattr(batch_local, "cuda_gpus", lambda settings: 1)
    assert batch_local.local_workers(diffusion, items=200) == 1
    monkeypatch.setattr(batch_local, "cuda_gpus", lambda settings: 4)
    assert batch_local.local_workers(diffusion, items=200) == 4  # one model per GPU
    assert batch_local.local_workers(diffusion, items=3) == 3


def test_cuda_gpus_only_for_diffusion_on_auto_or_cuda():
    from inpaint_core import batch_local
    from inpaint_core.request import InpaintRequest

    diffusion = batch.BatchSettings(
        request=InpaintRequest(engine="diffusion", model="m"), out=Path("o")
    )
    assert batch_local.cuda_gpus(batch.BatchSettings(request=InpaintRequest(), out=Path("o"))) == 0
    for device in ("cpu", "mps", "cuda:1"):  # one device named: no spreading
        assert batch_local.cuda_gpus(replace(diffusion, device=device)) == 0


def test_each_gpu_worker_gets_its_own_device():
    import queue

    from inpaint_core.batch_render import worker_spec

    devices = queue.Queue()
    for i in (0, 1):
        devices.put(i)
    spec = {"name": "diffusion", "model": "m", "device": None}
    assert worker_spec(spec, devices)["device"] == "cuda:0"
    assert worker_spec(spec, devices)["device"] == "cuda:1"
    assert worker_spec(spec, None) is spec and spec["device"] is None


def test_ctrl_c_stops_a_parallel_batch_cleanly_and_a_rerun_finishes_it(tmp_path):
    """Ctrl-C in a terminal sends SIGINT to the driver and its workers (the process group)."""
    names = {f"p{i}": fn for i, fn in enumerate(list(PHOTOS.values()) * 3)}
    PHOTOS_BEFORE = dict(PHOTOS)
    PHOTOS.update(names)
    try:
        scans, masks = make_folder(tmp_path, size=(512, 384), names=list(names))
    finally:
        PHOTOS.clear()
        PHOTOS.update(PHOTOS_BEFORE)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "inpaint_core.cli", "batch", "--images", str(scans),
           "--masks", str(masks), "--out", str(out), "--workers", "2"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)  # fmt: skip
    journal = out / JOURNAL_NAME
    deadline = time.monotonic() + 120
    try:
        while not (journal.exists() and journal.read_text().count("\n") >= 1):
            assert proc.poll() is None, "the batch ended before it could be interrupted"
            assert time.monotonic() < deadline, "no item finished within 120 s"
            time.sleep(0.01)
        workers = children(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)  # the defect this bounds: a pool that never ends
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 3, err
    assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
    done = [k for k, e in Journal(out).load().items() if e.status == "done"]
    assert 1 <= len(done) < len(names)
    assert not [p for p in out.iterdir() if TEMP_MARK in p.name]
    deadline = time.monotonic() + 10
    while alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(workers)
    rerun = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=300, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["skipped"] == len(done)
