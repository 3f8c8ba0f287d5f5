"""Finding and loading models: diffusers folder, HF-cache layout (offline), single checkpoint files,
refusals (4-channel, unsafe pickle, corrupt, missing, not downloaded), listing, device/dtype policy,
the model cache. All offline, on the tiny random-weight model (inpaint_core.testing)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_core import models
from inpaint_core.errors import ModelError, RequestValidationError
from inpaint_core.models import (
    bundled_config_dir,
    format_model_table,
    list_models,
    load_pipeline,
    resolve_device,
    resolve_dtype,
)
from tests.ldm_checkpoint import save_single_file

NOT_INPAINTING = "is not an inpainting model: its UNet takes 4 input channels, inpainting needs 9"


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a non-loopback connection fails the test loudly."""
    attempts: list[object] = []
    real_connect = socket.socket.connect

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(address)
            raise AssertionError(f"network access attempted: {address!r}")
        return real_connect(self, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        attempts.append(host)
        raise AssertionError(f"DNS lookup attempted: {host!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return attempts


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    """Empty models folder and HF cache, pointed at by the environment."""
    models_root = tmp_path / "models"
    cache = tmp_path / "hf" / "hub"
    models_root.mkdir()
    cache.mkdir(parents=True)
    monkeypatch.setenv(models.MODELS_ENV, str(models_root))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return models_root, cache


def make_hf_cache_repo(cache: Path, repo_id: str, folder: Path) -> Path:
    """Lay ``folder`` out as huggingface_hub does: blobs by hash, a snapshot of symlinks, refs/main."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    snapshot = repo / "snapshots" / commit
    for src in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = src.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(data)
        link = snapshot / src.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


@pytest.fixture(scope="module")
def single_files(tmp_path_factory, tiny_model_dir, tiny_model_4ch_dir):
    d = tmp_path_factory.mktemp("single-files")
    return {
        "safetensors": save_single_file(tiny_model_dir, d / "tiny-inpaint.safetensors"),
        "ckpt": save_single_file(tiny_model_dir, d / "tiny-inpaint.ckpt"),
        "4ch": save_single_file(tiny_model_4ch_dir, d / "tiny-4ch.safetensors"),
    }


def state(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def assert_same_weights(a, b) -> None:
    for name in ("unet", "vae", "text_encoder"):
        sa, sb = state(getattr(a.pipe, name)), state(getattr(b.pipe, name))
        assert sa.keys() == sb.keys(), name
        for key in sa:
            assert torch.equal(sa[key], sb[key]), f"{name}.{key} differs"


def run_tiny(pipe, steps=2, strength=1.0, seed=0) -> np.ndarray:
    image = Image.fromarray(np.full((64, 64, 3), 128, np.uint8))
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    out = pipe(
        prompt="a red door",
        image=image,
        mask_image=Image.fromarray(mask),
        height=64,
        width=64,
        num_inference_steps=steps,
        strength=strength,
        generator=torch.Generator().manual_seed(seed),
        output_type="np",
    )
    return out.images[0]


# -- bundled SD-1.5-inpainting configs -------------------------------------------------------------
BUNDLED_FILES = [
    "model_index.json",
    "unet/config.json",
    "vae/config.json",
    "text_encoder/config.json",
    "scheduler/scheduler_config.json",
    "tokenizer/vocab.json",
    "tokenizer/merges.txt",
    "tokenizer/tokenizer_config.json",
    "tokenizer/special_tokens_map.json",
]


def test_bundled_config_folder_is_complete_and_parses():
    root = bundled_config_dir()
    for name in BUNDLED_FILES:
        assert (root / name).is_file(), name
        if name.endswith(".json"):
            json.loads((root / name).read_text(encoding="utf-8"))
    index = json.loads((root / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionInpaintPipeline"
    assert json.loads((root / "unet/config.json").read_text())["in_channels"] == 9


def test_bundled_configs_build_sd15_inpainting_shapes():
    """The configs describe SD-1.5-inpainting exactly: the published parameter counts."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    root = str(bundled_config_dir())
    with init_empty_weights():
        unet = UNet2DConditionModel.from_config(
            UNet2DConditionModel.load_config(root, subfolder="unet")
        )
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(root, subfolder="vae"))
        text = CLIPTextModel(CLIPTextConfig.from_pretrained(root, subfolder="text_encoder"))

    def count(m):
        return sum(p.numel() for p in m.parameters())

    assert count(unet) == 859_520_964 + 5 * 320 * 3 * 3  # SD-1.5 UNet + 5 extra input channels
    assert count(vae) == 83_653_863
    assert count(text) == 123_060_480
    scheduler = PNDMScheduler.from_pretrained(root, subfolder="scheduler")
    assert scheduler.config.steps_offset == 1 and scheduler.config.skip_prk_steps


def test_bundled_tokenizer_is_the_real_clip_bpe():
    from transformers import CLIPTokenizer

    tok = CLIPTokenizer.from_pretrained(
        bundled_config_dir(), subfolder="tokenizer", local_files_only=True
    )
    assert len(tok) == 49408
    assert tok.model_max_length == 77
    # the ids CLIP ViT-L/14 (SD-1.x's text encoder) gives this prompt
    assert tok("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    ids = tok("x " * 200, padding="max_length", truncation=True).input_ids
    assert len(ids) == 77


@pytest.mark.skipif(
    os.environ.get("INPAINT_STUDIO_SLOW_TESTS") != "1",
    reason="builds a 2 GB full-size checkpoint; set INPAINT_STUDIO_SLOW_TESTS=1",
)
def test_bundled_config_loads_a_full_size_single_file(tmp_path):
    """A full-size SD-1.5-inpainting checkpoint (random weights, LDM key names) loads through the
    bundled config with every weight in place."""
    from safetensors.torch import load_file

    from inpaint_core.testing import build_full_size_sd15_inpaint_pipeline

    pipe = build_full_size_sd15_inpaint_pipeline(dtype=torch.float16)
    pipe.save_pretrained(tmp_path / "full")
    del pipe
    path = save_single_file(tmp_path / "full", tmp_path / "full.safetensors")
    loaded = load_pipeline(path)
    assert loaded.pipe.unet.config.in_channels == 9
    for name, file in (("unet", "diffusion_pytorch_model"), ("vae", "diffusion_pytorch_model")):
        ref = load_file(tmp_path / "full" / name / f"{file}.safetensors")
        got = getattr(loaded.pipe, name).state_dict()
        assert ref.keys() == got.keys()
        assert all(torch.equal(got[k].to(ref[k].dtype), ref[k]) for k in ref)


# -- loading: diffusers folder --------------------------------------------------------------------
def test_load_diffusers_folder(tiny_model_dir):
    calls: list[tuple[float, str]] = []
    loaded = load_pipeline(
        tiny_model_dir, device="cpu", on_progress=lambda f, m: calls.append((f, m))
    )
    assert loaded.name == tiny_model_dir.name
    assert loaded.source == str(tiny_model_dir.resolve())
    assert loaded.kind == "diffusers"
    assert (loaded.device, loaded.dtype, loaded.vae_dtype) == ("cpu", torch.float32, torch.float32)
    assert loaded.has_safety_checker is False
    assert type(loaded.pipe).__name__ == "StableDiffusionInpaintPipeline"
    assert loaded.pipe.unet.config.in_channels == 9
    # progress: starts at 0, ends at 1, never goes back, names diffusers' components
    fractions = [f for f, _ in calls]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    messages = " ".join(m for _, m in calls)
    assert "Loading unet" in messages and "Loading vae" in messages
    # SDPA everywhere
    from diffusers.models.attention_processor import AttnProcessor2_0

    for module in (loaded.pipe.unet, loaded.pipe.vae):
        assert all(isinstance(p, AttnProcessor2_0) for p in module.attn_processors.values())
    image = run_tiny(loaded.pipe)
    assert image.shape == (64, 64, 3) and np.isfinite(image).all()


def test_sdpa_is_restored_when_a_model_uses_another_processor(tiny_model_dir):
    from diffusers.models.attention_processor import AttnProcessor, AttnProcessor2_0

    from inpaint_core.models.loading import _use_sdpa

    loaded = load_pipeline(tiny_model_dir)
    loaded.pipe.unet.set_attn_processor(AttnProcessor())
    _use_sdpa(loaded.pipe)
    assert all(isinstance(p, AttnProcessor2_0) for p in loaded.pipe.unet.attn_processors.values())


def test_safety_checker_is_kept_when_shipped(tmp_path):
    from inpaint_core.testing import save_tiny_inpaint_model

    folder = save_tiny_inpaint_model(tmp_path / "with-checker", with_safety_checker=True)
    loaded = load_pipeline(folder)
    assert loaded.has_safety_checker and loaded.pipe.safety_checker is not None


def test_listed_but_absent_safety_checker_does_not_fail(tmp_path):
    """A model_index that names a safety checker the folder doesn't have (requires_safety_checker
    true) still loads, without one."""
    from inpaint_core.testing import save_tiny_inpaint_model

    folder = save_tiny_inpaint_model(tmp_path / "partial", with_safety_checker=True)
    shutil.rmtree(folder / "safety_checker")
    loaded = load_pipeline(folder)
    assert loaded.has_safety_checker is False


def test_fp16_weights_variant_is_found(tmp_path, tiny_model_dir):
    """A folder holding only ``*.fp16.safetensors`` weights (a common HF download) loads."""
    folder = shutil.copytree(tiny_model_dir, tmp_path / "fp16-variant")
    for name, stem in (
        ("unet", "diffusion_pytorch_model"),
        ("vae", "diffusion_pytorch_model"),
        ("text_encoder", "model"),
    ):
        src = folder / name / f"{stem}.safetensors"
        src.rename(folder / name / f"{stem}.fp16.safetensors")
    loaded = load_pipeline(folder)
    assert_same_weights(loaded, load_pipeline(tiny_model_dir))


# -- loading: Hugging Face cache, offline ---------------------------------------------------------
def test_load_repo_id_from_hf_cache_offline(isolated_dirs, tiny_model_dir, no_network):
    _models_root, cache = isolated_dirs
    snapshot = make_hf_cache_repo(cache, "tiny-org/tiny-sd-inpainting", tiny_model_dir)
    loaded = load_pipeline("tiny-org/tiny-sd-inpainting")
    assert loaded.kind == "hf_cache"
    assert loaded.source == "tiny-org/tiny-sd-inpainting"
    assert loaded.name == "tiny-org/tiny-sd-inpainting"
    assert loaded.pipe.unet.config.in_channels == 9
    assert_same_weights(loaded, load_pipeline(snapshot))
    assert no_network == []


def test_hf_cache_repo_folder_given_as_a_path(isolated_dirs, tiny_model_dir):
    _models_root, cache = isolated_dirs
    make_hf_cache_repo(cache, "org/by-path", tiny_model_dir)
    loaded = load_pipeline(cache / "models--org--by-path")
    assert (loaded.kind, loaded.source) == ("hf_cache", "org/by-path")


def test_hf_home_is_honoured(tmp_path, monkeypatch, tiny_model_dir, no_network):
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hfhome"))
    make_hf_cache_repo(tmp_path / "hfhome" / "hub", "org/tiny", tiny_model_dir)
    assert models.hf_cache_dir() == tmp_path / "hfhome" / "hub"
    assert load_pipeline("org/tiny").kind == "hf_cache"


def test_repo_not_in_cache_fails_fast_without_network(isolated_dirs, no_network):
    _models_root, cache = isolated_dirs
    start = time.perf_counter()
    with pytest.raises(ModelError) as err:
        load_pipeline("runwayml/stable-diffusion-inpainting")
    assert time.perf_counter() - start < 2.0
    message = str(err.value)
    assert "not downloaded" in message and str(cache) in message
    assert "runwayml/stable-diffusion-inpainting" in message
    assert no_network == []


def test_cache_repo_without_refs_main(isolated_dirs, tiny_model_dir):
    """Downloaded from another branch (e.g. ``revision="fp16"``): no refs/main, still found."""
    _models_root, cache = isolated_dirs
    make_hf_cache_repo(cache, "org/branch", tiny_model_dir)
    refs = cache / "models--org--branch" / "refs"
    (refs / "main").rename(refs / "fp16")
    assert load_pipeline("org/branch").kind == "hf_cache"


def test_partial_cache_download_is_reported(isolated_dirs, tiny_model_dir):
    _models_root, cache = isolated_dirs
    snapshot = make_hf_cache_repo(cache, "org/partial", tiny_model_dir)
    (snapshot / "model_index.json").unlink()
    with pytest.raises(ModelError, match="incomplete"):
        load_pipeline("org/partial")


# -- loading: single checkpoint files --------------------------------------------------------------
def test_load_single_safetensors_file(single_files, tiny_model_dir):
    """The tiny model as an original-format (LDM) checkpoint loads through from_single_file with
    a local config (the tiny folder here: the bundled SD-1.5 config has full-size shapes)."""
    calls: list[tuple[float, str]] = []
    loaded = load_pipeline(
        single_files["safetensors"],
        config=tiny_model_dir,
        on_progress=lambda f, m: calls.append((f, m)),
    )
    assert loaded.kind == "single_file" and loaded.name == "tiny-inpaint"
    assert_same_weights(loaded, load_pipeline(tiny_model_dir))
    assert [f for f, _ in calls] == sorted(f for f, _ in calls) and calls[-1][0] == 1.0
    assert run_tiny(loaded.pipe).shape == (64, 64, 3)


def test_single_file_with_bundled_config_never_fetches(single_files, no_network):
    """Without ``config=`` the bundled SD-1.5 config is used (no hub lookup): the tiny weights do
    not fit its shapes, which is a clear ModelError, not a download attempt."""
    with pytest.raises(ModelError, match="its UNet is 32 channels wide where the config"):
        load_pipeline(single_files["safetensors"])
    assert no_network == []


def test_load_safe_pickle_ckpt(single_files, tiny_model_dir):
    loaded = load_pipeline(single_files["ckpt"], config=tiny_model_dir)
    assert_same_weights(loaded, load_pipeline(tiny_model_dir))


class _Evil:
    """Unpickling this would create a file: code execution from a checkpoint."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_unsafe_pickle_is_refused(tmp_path, single_files, tiny_model_dir):
    marker = tmp_path / "pwned"
    state = torch.load(single_files["ckpt"], weights_only=True)["state_dict"]
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": state, "callback": _Evil(marker)}, evil)
    with pytest.raises(ModelError, match="Refusing to load evil.ckpt") as err:
        load_pipeline(evil, config=tiny_model_dir)
    assert "weights_only" in str(err.value)
    assert not marker.exists()


def test_four_channel_model_is_refused(
    tiny_model_4ch_dir, single_files, isolated_dirs, tiny_model_dir
):
    with pytest.raises(ModelError, match=NOT_INPAINTING):
        load_pipeline(tiny_model_4ch_dir)
    with pytest.raises(ModelError, match=NOT_INPAINTING):
        load_pipeline(single_files["4ch"], config=tiny_model_dir)
    _models_root, cache = isolated_dirs
    make_hf_cache_repo(cache, "org/not-inpainting", tiny_model_4ch_dir)
    with pytest.raises(ModelError, match=NOT_INPAINTING):
        load_pipeline("org/not-inpainting")


def test_sdxl_and_sd2_checkpoints_are_named(tmp_path):
    from safetensors.torch import save_file

    unet = {"model.diffusion_model.input_blocks.0.0.weight": torch.zeros(320, 9, 3, 3)}
    save_file(
        {**unet, "conditioner.embedders.1.model.ln_final.weight": torch.zeros(2)},
        tmp_path / "xl.safetensors",
    )
    save_file(
        {**unet, "cond_stage_model.model.ln_final.weight": torch.zeros(2)},
        tmp_path / "v2.safetensors",
    )
    with pytest.raises(ModelError, match="SDXL"):
        load_pipeline(tmp_path / "xl.safetensors")
    with pytest.raises(ModelError, match="SD 2.x"):
        load_pipeline(tmp_path / "v2.safetensors")


# -- bad input ------------------------------------------------------------------------------------
def test_missing_path(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_pipeline(tmp_path / "nope.safetensors")
    with pytest.raises(ModelError, match="does not exist"):
        load_pipeline(str(tmp_path / "no" / "such" / "folder"))


def test_unknown_name(isolated_dirs):
    with pytest.raises(ModelError, match="not found"):
        load_pipeline("no-such-model")


def test_corrupt_files(tmp_path, single_files):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(ModelError, match="not a valid safetensors"):
        load_pipeline(junk)
    truncated = tmp_path / "truncated.safetensors"
    data = single_files["safetensors"].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="truncated"):
        load_pipeline(truncated)
    text = tmp_path / "model.ckpt"
    text.write_text("this is not a checkpoint\n" * 10)
    with pytest.raises(ModelError, match="not a readable PyTorch checkpoint"):
        load_pipeline(text)
    broken_zip = tmp_path / "broken.ckpt"
    broken_zip.write_bytes(single_files["ckpt"].read_bytes()[:5000])
    with pytest.raises(ModelError, match="not a readable PyTorch checkpoint"):
        load_pipeline(broken_zip)


def test_not_a_stable_diffusion_file(tmp_path):
    from safetensors.torch import save_file

    lora = tmp_path / "lora.safetensors"
    save_file({"lora_unet_down.alpha": torch.ones(1)}, lora)
    with pytest.raises(ModelError, match="no Stable Diffusion UNet"):
        load_pipeline(lora)
    other = tmp_path / "weights.onnx"
    other.write_bytes(b"x")
    with pytest.raises(ModelError, match="not a model file"):
        load_pipeline(other)


def test_bad_folders(tmp_path, tiny_model_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="no model_index.json"):
        load_pipeline(empty)
    broken = shutil.copytree(tiny_model_dir, tmp_path / "broken")
    (broken / "model_index.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_pipeline(broken)
    no_vae = shutil.copytree(tiny_model_dir, tmp_path / "no-vae")
    shutil.rmtree(no_vae / "vae")
    with pytest.raises(ModelError, match="vae/ component is missing"):
        load_pipeline(no_vae)
    bad_weights = shutil.copytree(tiny_model_dir, tmp_path / "bad-weights")
    (bad_weights / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"garbage" * 10)
    with pytest.raises(ModelError, match="Could not load"):
        load_pipeline(bad_weights)


# -- listing --------------------------------------------------------------------------------------
def test_list_models_finds_folder_file_and_cache_repo(
    isolated_dirs, tiny_model_dir, tiny_model_4ch_dir, single_files
):
    models_root, cache = isolated_dirs
    shutil.copytree(tiny_model_dir, models_root / "my-inpaint")
    shutil.copytree(tiny_model_4ch_dir, models_root / "plain-sd")
    shutil.copy(single_files["safetensors"], models_root / "single.safetensors")
    shutil.copy(single_files["ckpt"], models_root / "old.ckpt")
    (models_root / "notes.txt").write_text("not a model")
    make_hf_cache_repo(cache, "org/cached-inpaint", tiny_model_dir)
    found = {m.name: m for m in list_models()}
    assert set(found) == {"my-inpaint", "plain-sd", "single", "old", "org/cached-inpaint"}
    assert (found["my-inpaint"].kind, found["my-inpaint"].is_inpainting) == ("diffusers", True)
    assert found["plain-sd"].is_inpainting is False
    assert (found["single"].kind, found["single"].is_inpainting) == ("single_file", True)
    assert found["old"].is_inpainting is None  # a pickle is not opened just to list it
    repo = found["org/cached-inpaint"]
    assert (repo.kind, repo.source, repo.is_inpainting) == ("hf_cache", "org/cached-inpaint", True)
    for m in found.values():
        assert m.size_bytes > 0
        assert json.dumps(m.to_dict())
    # what list_models reports, load_pipeline takes (by source, and by name in the models folder)
    assert load_pipeline(found["my-inpaint"].source).name == "my-inpaint"
    assert load_pipeline("my-inpaint").source == found["my-inpaint"].source
    table = format_model_table(list(found.values()))
    assert "org/cached-inpaint" in table and "single_file" in table and "NAME" in table


def test_list_models_extra_dirs_and_missing_cache(tmp_path, monkeypatch, tiny_model_dir):
    monkeypatch.setenv(models.MODELS_ENV, str(tmp_path / "does-not-exist"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "no-cache"))
    assert list_models() == []
    assert "No models found" in format_model_table([])
    found = list_models([tiny_model_dir.parent])
    assert [m.name for m in found] == [tiny_model_dir.name]


def test_default_models_dir_is_platformdirs(monkeypatch):
    import platformdirs

    monkeypatch.delenv(models.MODELS_ENV, raising=False)
    assert models.models_dir() == platformdirs.user_data_path("inpaint-studio") / "models"


# -- device / dtype policy ------------------------------------------------------------------------
def _fake_accelerators(monkeypatch, cuda: bool, mps: bool, count: int = 1):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count if cuda else 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


def test_auto_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    _fake_accelerators(monkeypatch, cuda=True, mps=True)
    assert resolve_device(None) == "cuda" and resolve_device("auto") == "cuda"
    _fake_accelerators(monkeypatch, cuda=False, mps=True)
    assert resolve_device(None) == "mps"
    _fake_accelerators(monkeypatch, cuda=False, mps=False)
    assert resolve_device("AUTO") == "cpu"


def test_explicit_devices_are_checked(monkeypatch):
    _fake_accelerators(monkeypatch, cuda=False, mps=False)
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(RequestValidationError, match="no CUDA GPU") as err:
        resolve_device("cuda")
    assert err.value.field == "device"
    with pytest.raises(RequestValidationError, match="MPS"):
        resolve_device("mps")
    with pytest.raises(RequestValidationError, match="unknown device"):
        resolve_device("tpu")
    _fake_accelerators(monkeypatch, cuda=True, mps=False, count=2)
    assert resolve_device("cuda:1") == "cuda:1"
    with pytest.raises(RequestValidationError, match="has 2 CUDA"):
        resolve_device("cuda:2")


def test_dtype_policy():
    assert resolve_dtype("cuda", None) == torch.float16
    assert resolve_dtype("cuda:1", "auto") == torch.float16
    assert resolve_dtype("cuda", "bf16") == torch.bfloat16
    assert resolve_dtype("cuda", "float32") == torch.float32
    assert resolve_dtype("mps", None) == torch.float32
    assert resolve_dtype("cpu", None) == torch.float32
    assert resolve_dtype("cpu", "bfloat16") == torch.bfloat16
    assert resolve_dtype("cpu", torch.bfloat16) == torch.bfloat16
    with pytest.raises(RequestValidationError, match="black images"):
        resolve_dtype("mps", "float16")
    with pytest.raises(RequestValidationError, match="CPU"):
        resolve_dtype("cpu", "fp16")
    with pytest.raises(RequestValidationError, match="unknown dtype") as err:
        resolve_dtype("cpu", "int8")
    assert err.value.field == "dtype"
    assert models.vae_dtype_for(torch.float16) == torch.float32
    assert models.vae_dtype_for(torch.bfloat16) == torch.bfloat16


def test_bfloat16_on_cpu(tiny_model_dir):
    loaded = load_pipeline(tiny_model_dir, device="cpu", dtype="bfloat16")
    assert loaded.dtype == torch.bfloat16 == loaded.vae_dtype
    assert loaded.pipe.unet.dtype == torch.bfloat16
    assert np.isfinite(run_tiny(loaded.pipe)).all()


def test_float16_policy_keeps_the_vae_in_float32(tiny_model_dir):
    """The CUDA fp16 path (UNet/text encoder fp16, VAE fp32 behind cast hooks), run on the CPU
    through the same loader: the stock pipeline runs, with strength 1 and < 1."""
    from inpaint_core.models.discovery import resolve_model
    from inpaint_core.models.loading import load_ref

    loaded = load_ref(resolve_model(tiny_model_dir), "cpu", torch.float16)
    pipe = loaded.pipe
    assert (loaded.dtype, loaded.vae_dtype) == (torch.float16, torch.float32)
    assert pipe.unet.dtype == pipe.text_encoder.dtype == torch.float16
    assert pipe.vae.dtype == torch.float32
    for strength in (1.0, 0.6):
        image = run_tiny(pipe, strength=strength)
        assert image.shape == (64, 64, 3) and np.isfinite(image).all()
    latents = pipe.vae.encode(torch.zeros(1, 3, 64, 64, dtype=torch.float16)).latent_dist.mode()
    assert latents.dtype == torch.float16  # ready for the fp16 UNet
    decoded = pipe.vae.decode(latents).sample
    assert decoded.dtype == torch.float32  # decoded in full precision
    assert pipe.vae.dtype == torch.float32


# -- the cache ------------------------------------------------------------------------------------
def test_listing_models_does_not_import_torch(tmp_path):
    """``inpaint-studio-cli models`` stays quick: discovery never imports torch."""
    import subprocess
    import sys

    code = (
        "import sys; import inpaint_core.models as m; m.list_models(); "
        "m.format_model_table([]); assert 'torch' not in sys.modules, 'torch imported'"
    )
    env = {**os.environ, models.MODELS_ENV: str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "c")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
