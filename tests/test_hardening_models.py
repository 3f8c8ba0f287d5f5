"""Hardening of model folders: safetensors headers size-capped and schema-checked, a corrupt file
named in a listing that still lists the rest, FIFOs refused, absurd configs refused before any
allocation."""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from inpaint_core import cli, models
from inpaint_core.errors import ModelError
from inpaint_core.models.config_check import (
    SCHEDULER_LIMITS,
    TEXT_ENCODER_LIMITS,
    UNET_LIMITS,
    VAE_LIMITS,
    check_config,
    check_model_configs,
)
from inpaint_core.models.discovery import LDM_UNET_IN
from inpaint_core.models.safe_files import MAX_SAFETENSORS_HEADER, read_safetensors_header
from tests.hardening_helpers import run_bounded


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    models_root = tmp_path / "models"
    cache = tmp_path / "hf" / "hub"
    models_root.mkdir()
    cache.mkdir(parents=True)
    monkeypatch.setenv(models.MODELS_ENV, str(models_root))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return models_root


def _good_checkpoint(path: Path) -> Path:
    """A tiny file with an SD-1 inpainting checkpoint's tell-tale keys and shapes."""
    save_file(
        {
            LDM_UNET_IN: np.zeros((320, 9, 3, 3), np.float16),
            "cond_stage_model.transformer.text_model.final_layer_norm.weight": np.zeros(
                4, np.float16
            ),
        },
        str(path),
    )
    return path


def _raw(path: Path, header: bytes, pad: int = 0) -> Path:
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * pad)
    return path


def _entry(**meta) -> bytes:
    return json.dumps({LDM_UNET_IN: meta}).encode()


CORRUPT = {
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "shape-text": _entry(dtype="F16", shape=["a", "b", "c", "d"], data_offsets=[0, 8]),
    "shape-null": _entry(dtype="F16", shape=None, data_offsets=[0, 8]),
    "shape-mixed": _entry(dtype="F16", shape=[1, 2, 3, "x"], data_offsets=[0, 8]),
    "negative-size": _entry(dtype="F16", shape=[-320, 9, 3, 3], data_offsets=[0, 8]),
    "bad-dtype": _entry(dtype="F999", shape=[1], data_offsets=[0, 8]),
    "offsets-backwards": _entry(dtype="F16", shape=[1], data_offsets=[8, 0]),
    "metadata-list": json.dumps({"__metadata__": [1, 2]}).encode(),
    "not-utf8": b"\xff\xfe{}",
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_headers_are_model_errors(tmp_path, name):
    path = _raw(tmp_path / f"{name}.safetensors", CORRUPT[name], pad=16)
    with pytest.raises(ModelError, match="not a valid safetensors file"):
        read_safetensors_header(path)


def test_header_size_cap(tmp_path):
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", MAX_SAFETENSORS_HEADER + 1))
        f.truncate(MAX_SAFETENSORS_HEADER + 64)  # sparse: nothing is really written
    with pytest.raises(ModelError, match="corrupt header"):
        read_safetensors_header(path)


def test_listing_names_corrupt_files_and_lists_the_rest(isolated_dirs, capsys):
    _good_checkpoint(isolated_dirs / "good.safetensors")
    for name, header in CORRUPT.items():
        _raw(isolated_dirs / f"{name}.safetensors", header, pad=16)
    found = models.list_models(include_hf_cache=False)
    by_name = {m.name: m for m in found}
    assert by_name["good"].is_inpainting is True
    for name in CORRUPT:
        assert by_name[name].is_inpainting is False
        assert "not a valid safetensors file" in by_name[name].note

    assert cli.main(["models"]) == 0
    table = capsys.readouterr().out
    assert "good" in table and all(name in table for name in CORRUPT)
    assert cli.main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["models"]
    assert len(listed) >= len(CORRUPT) + 1


def _import_the_loader() -> None:
    import diffusers  # noqa: F401

    assert callable(models.load_pipeline)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifos_as_models_and_configs_do_not_block(isolated_dirs, tmp_path):
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    os.mkfifo(isolated_dirs / "listed.safetensors")
    folder = tmp_path / "folder-model"
    (folder / "unet").mkdir(parents=True)
    (folder / "model_index.json").write_text(json.dumps({"unet": ["diffusers", "X"]}))
    os.mkfifo(folder / "unet" / "config.json")
    _import_the_loader()  # the bound is for the FIFO, not for importing torch on a busy machine
    try:
        got = run_bounded(lambda: models.load_pipeline(fifo, device="cpu"), 10.0)
        assert got.done, "loading a FIFO as a model blocked"
        assert isinstance(got.error, ModelError) and "regular file" in str(got.error)
        got = run_bounded(lambda: read_safetensors_header(fifo), 10.0)
        assert got.done and isinstance(got.error, ModelError)
        got = run_bounded(lambda: models.list_models([folder.parent], include_hf_cache=False), 10)
        assert got.done and got.error is None, got.error
        got = run_bounded(lambda: models.load_pipeline(folder, device="cpu"), 10.0)
        assert got.done and isinstance(got.error, ModelError), got.error
    finally:
        for f in (fifo, isolated_dirs / "listed.safetensors", folder / "unet" / "config.json"):
            try:
                os.close(os.open(f, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass


def test_symlink_loop_as_model_is_a_model_error(tmp_path):
    loop = tmp_path / "loop.safetensors"
    os.symlink(loop, loop)
    with pytest.raises(ModelError):
        models.resolve_model(str(loop))


# -- absurd configs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "limits,key,value",
    [
        (UNET_LIMITS, "layers_per_block", 1000),
        (UNET_LIMITS, "layers_per_block", [2, 2, 2, 500]),
        (UNET_LIMITS, "block_out_channels", [320, 640, 1280, 100_000]),
        (UNET_LIMITS, "block_out_channels", [32] * 50),
        (UNET_LIMITS, "sample_size", 100_000),
        (UNET_LIMITS, "cross_attention_dim", 10**6),
        (UNET_LIMITS, "in_channels", 0),
        (UNET_LIMITS, "layers_per_block", 2.5),
        (UNET_LIMITS, "layers_per_block", True),
        (VAE_LIMITS, "block_out_channels", [128, 256, 512, 65536]),
        (VAE_LIMITS, "latent_channels", 1000),
        (TEXT_ENCODER_LIMITS, "num_hidden_layers", 10_000),
        (TEXT_ENCODER_LIMITS, "vocab_size", 10**9),
        (SCHEDULER_LIMITS, "num_train_timesteps", 10**9),
        (SCHEDULER_LIMITS, "num_train_timesteps", "1000"),
    ],
)
def test_absurd_config_values_are_refused(limits, key, value):
    with pytest.raises(ModelError, match=key):
        check_config({key: value}, limits, "unet/config.json")


def test_the_supported_families_pass():
    from inpaint_core.models.loading import bundled_config_dir

    check_model_configs(bundled_config_dir(), "bundled")
    sd2_unet = {
        "attention_head_dim": [5, 10, 20, 20],
        "block_out_channels": [320, 640, 1280, 1280],
        "cross_attention_dim": 1024,
        "sample_size": 96,
        "layers_per_block": 2,
        "in_channels": 9,
    }
    check_config(sd2_unet, UNET_LIMITS, "sd2")
    sdxl_unet = {
        "block_out_channels": [320, 640, 1280],
        "transformer_layers_per_block": [1, 2, 10],
        "attention_head_dim": [5, 10, 20],
        "cross_attention_dim": 2048,
        "addition_time_embed_dim": 256,
        "projection_class_embeddings_input_dim": 2816,
        "sample_size": 128,
    }
    check_config(sdxl_unet, UNET_LIMITS, "sdxl")
    check_config(
        {"hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32},
        TEXT_ENCODER_LIMITS,
        "bigG",
    )


@pytest.mark.parametrize(
    "component,file,key,value",
    [
        ("unet", "config.json", "layers_per_block", 1000),
        ("scheduler", "scheduler_config.json", "num_train_timesteps", 10**9),
        ("vae", "config.json", "block_out_channels", [32, 64, 100_000]),
    ],
)
def test_a_model_folder_with_an_absurd_config_is_refused_before_loading(
    tiny_model_dir, tmp_path, component, file, key, value
):
    folder = shutil.copytree(tiny_model_dir, tmp_path / "hostile")
    cfg_path = folder / component / file
    cfg = json.loads(cfg_path.read_text())
    cfg[key] = value
    cfg_path.write_text(json.dumps(cfg))
    _import_the_loader()
    got = run_bounded(lambda: models.load_pipeline(folder, device="cpu"), 30.0)
    assert got.done, "loading a model with an absurd config did not finish"
    assert isinstance(got.error, ModelError), got.error
    assert key in str(got.error) and f"{component}/{file}" in str(got.error)
