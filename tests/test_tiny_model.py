"""The tiny random-weight model has SD-1.5-inpainting's real geometry and loads like a real one."""

import json

import torch

from inpaint_core.testing import build_tiny_inpaint_pipeline, byte_level_vocab


def test_tiny_model_geometry_and_folder(tiny_model_dir):
    from diffusers import StableDiffusionInpaintPipeline

    index = json.loads((tiny_model_dir / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusionInpaintPipeline"
    pipe = StableDiffusionInpaintPipeline.from_pretrained(tiny_model_dir, local_files_only=True)
    assert pipe.unet.config.in_channels == 9
    assert pipe.unet.config.out_channels == 4
    assert pipe.unet.config.cross_attention_dim == pipe.text_encoder.config.hidden_size
    assert pipe.tokenizer.model_max_length == 77
    # the VAE downsamples by 8: a 64x64 image gives an 8x8 latent
    with torch.no_grad():
        latent = pipe.vae.encode(torch.zeros(1, 3, 64, 64)).latent_dist.mode()
    assert latent.shape == (1, 4, 8, 8)


def test_tiny_4ch_model(tiny_model_4ch_dir):
    cfg = json.loads((tiny_model_4ch_dir / "unet" / "config.json").read_text())
    assert cfg["in_channels"] == 4


def test_tokenizer_is_byte_level_and_pads_to_77():
    pipe = build_tiny_inpaint_pipeline()
    vocab = byte_level_vocab()
    assert len(vocab) == 514
    ids = pipe.tokenizer(
        "a photo of a cat, café", padding="max_length", max_length=77, truncation=True
    ).input_ids
    assert len(ids) == 77
    assert ids[0] == vocab["<|startoftext|>"]
    long_ids = pipe.tokenizer("x" * 300, truncation=True, max_length=77).input_ids
    assert len(long_ids) == 77
