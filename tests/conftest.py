"""Shared test setup: Qt offscreen, settings and caches in temp dirs, no network, no hub."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("INPAINT_STUDIO_TESTING", "1")


# --- tiny random-weight SD inpainting models (inpaint_core.testing), saved once per session --------
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny 9-channel inpainting model saved as a diffusers folder (model_index.json)."""
    from inpaint_core.testing import save_tiny_inpaint_model

    return save_tiny_inpaint_model(tmp_path_factory.mktemp("tiny-inpaint") / "tiny-sd-inpaint")


@pytest.fixture(scope="session")
def tiny_model_4ch_dir(tmp_path_factory):
    """A tiny *non*-inpainting model (4-channel UNet), to test that it is refused."""
    from inpaint_core.testing import save_tiny_inpaint_model

    return save_tiny_inpaint_model(
        tmp_path_factory.mktemp("tiny-4ch") / "tiny-sd-4ch", in_channels=4
    )


@pytest.fixture(scope="session")
def tiny_sdxl_dir(tmp_path_factory):
    """A tiny SDXL inpainting model (two text encoders, text_time UNet) as a diffusers folder."""
    from inpaint_core.testing import save_tiny_sdxl_inpaint_model

    return save_tiny_sdxl_inpaint_model(tmp_path_factory.mktemp("tiny-sdxl") / "tiny-sdxl-inpaint")


@pytest.fixture(scope="session")
def tiny_sd2_dir(tmp_path_factory):
    """A tiny SD 2.x-layout inpainting model with a v-prediction scheduler config."""
    from inpaint_core.testing import save_tiny_sd2_inpaint_model

    return save_tiny_sd2_inpaint_model(tmp_path_factory.mktemp("tiny-sd2") / "tiny-sd2-inpaint")


@pytest.fixture(scope="session")
def tiny_flux_dir(tmp_path_factory):
    """A tiny FLUX.1 Fill model (16-channel VAE, 384-feature img_in, CLIP + T5) as a folder."""
    from inpaint_core.testing import save_tiny_flux_fill_model

    return save_tiny_flux_fill_model(tmp_path_factory.mktemp("tiny-flux") / "tiny-flux-fill")
