"""The model manager against a loopback fake hub (tests/fake_hub.py): download with progress,
an interrupted download resumes, a corrupt file is caught, a gated repo without a token says so,
offline mode makes no request, remove; and the `models` CLI front door."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from inpaint_core import cli
from inpaint_core.errors import JobCancelled
from inpaint_core.events import CancelToken
from inpaint_core.models import list_models, load_pipeline
from inpaint_core.models.manager import (
    CATALOG,
    DownloadError,
    download,
    plan_download,
    remove_model,
    select_files,
)
from inpaint_core.testing import build_tiny_inpaint_pipeline, save_tiny_kohya_lora
from tests.fake_hub import FakeHub, FakeRepo


def _folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def hub(tiny_model_dir, tmp_path, monkeypatch):
    lora = save_tiny_kohya_lora(
        build_tiny_inpaint_pipeline(), tmp_path / "lcm-lora-tiny.safetensors"
    )
    files = _folder_files(tiny_model_dir)
    files["README.md"] = b"# tiny"
    files["sd-v1-5-inpainting.ckpt"] = b"pickle that must not be fetched"
    hub = FakeHub(
        repos={
            "org/tiny-inpaint": FakeRepo(files),
            "org/lcm-lora-tiny": FakeRepo({"lcm-lora-tiny.safetensors": lora.read_bytes()}),
            "gated/fill": FakeRepo({"model_index.json": b"{}"}, gated=True),
        }
    ).start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    models = tmp_path / "models"
    monkeypatch.setenv("INPAINT_STUDIO_MODELS", str(models))
    yield hub
    hub.stop()
    from huggingface_hub import constants

    constants.HF_HUB_OFFLINE = True  # as the test session started (conftest)


def test_download_a_diffusers_repo_with_progress_then_load_it(hub, tmp_path):
    seen = []
    plan = plan_download("org/tiny-inpaint")
    names = [f.path for f in plan.files]
    assert "model_index.json" in names and "unet/diffusion_pytorch_model.safetensors" in names
    assert "README.md" not in names and "sd-v1-5-inpainting.ckpt" not in names
    dest = download(plan, on_progress=lambda p: seen.append((p.done, p.total, p.eta_s)))
    assert dest == tmp_path / "models" / "tiny-inpaint"
    assert seen and seen[-1][0] == seen[-1][1] == plan.total_bytes
    assert all(a <= b for (a, _, _), (b, _, _) in zip(seen, seen[1:], strict=False))
    assert not (dest / ".partial").exists() and (dest / ".inpaint-studio-download.json").is_file()
    found = {m.name: m for m in list_models(include_hf_cache=False)}
    assert found["tiny-inpaint"].is_inpainting and found["tiny-inpaint"].family == "sd1"
    assert load_pipeline("tiny-inpaint", device="cpu").family == "sd1"


def test_interrupted_download_resumes_with_range(hub, tmp_path):
    name = "unet/diffusion_pytorch_model.safetensors"
    hub.cut_after[name] = 1000
    plan = plan_download("org/tiny-inpaint")
    with pytest.raises(DownloadError, match="interrupted.*resume"):
        download(plan)
    part = tmp_path / "models" / "tiny-inpaint" / ".partial" / (name.replace("/", "__") + ".part")
    assert part.stat().st_size == 1000
    dest = download(plan_download("org/tiny-inpaint"))
    gets = hub.file_gets(name)
    assert len(gets) == 2 and gets[1].get("Range", gets[1].get("range")) == "bytes=1000-"
    expected = hub.repos["org/tiny-inpaint"].files[name]
    assert (dest / name).read_bytes() == expected


def test_corrupt_file_is_detected_and_deleted(hub, tmp_path):
    name = "unet/diffusion_pytorch_model.safetensors"
    hub.corrupt.add(name)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download(plan_download("org/tiny-inpaint"))
    dest = tmp_path / "models" / "tiny-inpaint"
    assert not (dest / name).exists() and not (dest / ".inpaint-studio-download.json").exists()
    hub.corrupt.clear()
    download(plan_download("org/tiny-inpaint"))  # a clean retry completes
    assert (dest / ".inpaint-studio-download.json").is_file()


def test_gated_repo_without_token_and_licence_gate(hub, monkeypatch):
    with pytest.raises(DownloadError, match="gated repository.*--token or set HF_TOKEN"):
        plan_download("gated/fill")
    assert plan_download("gated/fill", token="hf_test").files  # with a token it lists
    assert CATALOG["flux-fill-dev"].gated
    with pytest.raises(DownloadError, match="--accept-license"):
        plan_download("flux-fill-dev")


def test_offline_never_touches_the_network(hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    connects = []
    real = socket.socket.connect
    monkeypatch.setattr(
        socket.socket, "connect", lambda self, addr: (connects.append(addr), real(self, addr))[1]
    )
    with pytest.raises(DownloadError, match="offline mode is on"):
        plan_download("org/tiny-inpaint")
    assert cli.main(["models", "download", "org/tiny-inpaint", "--quiet"]) == 2
    assert hub.requests == [] and connects == []


def test_cancel_keeps_the_part_for_a_resume(hub, tmp_path):
    token = CancelToken()

    def on_progress(p):
        token.cancel()

    with pytest.raises(JobCancelled):
        download(plan_download("org/tiny-inpaint"), on_progress=on_progress, cancel=token)
    assert any((tmp_path / "models" / "tiny-inpaint").rglob("*"))
    download(plan_download("org/tiny-inpaint"))


def test_cli_download_lora_list_remove(hub, tmp_path, capsys):
    assert cli.main(["models", "download", "org/lcm-lora-tiny", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    lora = tmp_path / "models" / "loras" / "lcm-lora-tiny.safetensors"
    assert out["path"] == str(lora) and lora.is_file()
    assert cli.main(["models", "download", "org/tiny-inpaint", "--quiet"]) == 0
    capsys.readouterr()
    assert cli.main(["models", "list", "--json"]) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert listed["tiny-inpaint"]["family"] == "sd1"
    assert (
        listed["lcm-lora-tiny"]["kind"] == "lora" and listed["lcm-lora-tiny"]["few_step"] == "lcm"
    )
    assert listed["lcm-lora-tiny"]["precision"] == "fp32"
    assert cli.main(["models"]) == 0  # alone: the table, as before
    assert "tiny-inpaint" in capsys.readouterr().out
    assert cli.main(["models", "remove", "tiny-inpaint"]) == 0
    assert not (tmp_path / "models" / "tiny-inpaint").exists()
    assert cli.main(["models", "remove", "tiny-inpaint"]) == 2
    assert "no model or LoRA named" in capsys.readouterr().err
    outside = tmp_path / "elsewhere.safetensors"
    outside.write_bytes(b"x")
    with pytest.raises(DownloadError, match="not inside the models folder"):
        remove_model(str(outside))
    assert outside.exists()
    assert cli.main(["models", "download", "nope"]) == 2
    assert "not a catalogue name" in capsys.readouterr().err


def test_not_enough_disk_space_is_refused_before_any_byte(hub, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10, 10, 1024))
    plan = plan_download("org/tiny-inpaint")
    with pytest.raises(DownloadError, match="not enough disk space"):
        download(plan)
    assert not any(m == "GET" and "/resolve/" in p for m, p, _ in hub.requests)


def test_select_files_prefers_variant_safetensors():
    names = [
        "model_index.json",
        "unet/config.json",
        "unet/diffusion_pytorch_model.bin",
        "unet/diffusion_pytorch_model.safetensors",
        "unet/diffusion_pytorch_model.fp16.safetensors",
        "vae/config.json",
        "vae/diffusion_pytorch_model.bin",
        "tokenizer/vocab.json",
        "v1-5-inpainting.ckpt",
        "unet/model.onnx",
    ]
    assert select_files(names) == [
        "model_index.json",
        "tokenizer/vocab.json",
        "unet/config.json",
        "unet/diffusion_pytorch_model.safetensors",
        "vae/config.json",
        "vae/diffusion_pytorch_model.bin",
    ]
    assert "unet/diffusion_pytorch_model.fp16.safetensors" in select_files(names, "fp16")
