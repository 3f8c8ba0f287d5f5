"""Scheduler table: names and aliases, swap on a loaded pipeline via from_config, no reload."""

import pytest

from inpaint_core.errors import RequestValidationError
from inpaint_core.request import InpaintRequest
from inpaint_core.schedulers import (
    SCHEDULERS,
    canonical_scheduler_name,
    make_scheduler,
    scheduler_names,
    set_scheduler,
)
from inpaint_core.testing import SD15_SCHEDULER_CONFIG, build_tiny_inpaint_pipeline

EXPECTED_CLASSES = {
    "DDIM": "DDIMScheduler",
    "K_EULER": "EulerDiscreteScheduler",
    "K_EULER_ANCESTRAL": "EulerAncestralDiscreteScheduler",
    "DPMSolverMultistep": "DPMSolverMultistepScheduler",
    "DPM++ 2M Karras": "DPMSolverMultistepScheduler",
    "PNDM": "PNDMScheduler",
    "KLMS": "LMSDiscreteScheduler",
    "UniPC": "UniPCMultistepScheduler",
    "LCM": "LCMScheduler",
    "TCD": "TCDScheduler",
    "K_EULER_TRAILING": "EulerDiscreteScheduler",
}


def test_the_six_plus_two_plus_few_step_ones_are_all_there():
    assert set(scheduler_names()) == set(EXPECTED_CLASSES)
    assert len(SCHEDULERS) == 11


@pytest.mark.parametrize("name", list(EXPECTED_CLASSES))
def test_make_scheduler_class_and_config(name):
    s = make_scheduler(name, SD15_SCHEDULER_CONFIG)
    assert type(s).__name__ == EXPECTED_CLASSES[name]
    # the model's own noise schedule is carried over
    assert s.config.beta_schedule == "scaled_linear"
    assert s.config.beta_end == pytest.approx(0.012)


def test_karras_flag_does_not_leak():
    karras = make_scheduler("DPM++ 2M Karras", SD15_SCHEDULER_CONFIG)
    assert karras.config.use_karras_sigmas is True
    # from the *swapped* config, plain DPM++ 2M must still turn Karras off
    plain = make_scheduler("DPMSolverMultistep", karras.config)
    assert plain.config.use_karras_sigmas is False
    assert make_scheduler("PNDM", SD15_SCHEDULER_CONFIG).config.skip_prk_steps is True


@pytest.mark.parametrize(
    "alias, canonical",
    [
        ("Euler a", "K_EULER_ANCESTRAL"),
        ("euler", "K_EULER"),
        ("DPM++ 2M Karras", "DPM++ 2M Karras"),
        ("dpm++ 2m", "DPMSolverMultistep"),
        (" LMS ", "KLMS"),
        ("PLMS", "PNDM"),
        ("unipc", "UniPC"),
        ("ddim", "DDIM"),
    ],
)
def test_a1111_aliases(alias, canonical):
    assert canonical_scheduler_name(alias) == canonical


def test_unknown_scheduler_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown scheduler 'Heun'.*DDIM"):
        canonical_scheduler_name("Heun")
    with pytest.raises(RequestValidationError, match="scheduler") as info:
        InpaintRequest(engine="diffusion", scheduler="Heun")
    assert info.value.field == "scheduler"
    # an alias passes validation
    InpaintRequest(engine="diffusion", scheduler="Euler a")


def test_swap_on_a_loaded_pipeline_never_reloads():
    pipe = build_tiny_inpaint_pipeline()
    unet, vae, text_encoder = pipe.unet, pipe.vae, pipe.text_encoder
    original_config = dict(pipe.scheduler.config)
    for name in scheduler_names():
        assert set_scheduler(pipe, name) == name
        assert type(pipe.scheduler).__name__ == EXPECTED_CLASSES[name]
    assert pipe.unet is unet and pipe.vae is vae and pipe.text_encoder is text_encoder
    # the base config is the model's own, so Karras -> plain DPM++ does not keep Karras sigmas
    set_scheduler(pipe, "DPM++ 2M Karras")
    set_scheduler(pipe, "DPMSolverMultistep")
    assert pipe.scheduler.config.use_karras_sigmas is False
    set_scheduler(pipe, "PNDM")
    assert pipe.scheduler.config.steps_offset == original_config["steps_offset"]
    # same name again: no new object
    current = pipe.scheduler
    set_scheduler(pipe, "plms")
    assert pipe.scheduler is current


def test_same_schedule_for_a_model_in_memory_and_reloaded(tiny_model_dir):
    from diffusers import StableDiffusionInpaintPipeline

    mem = build_tiny_inpaint_pipeline()
    disk = StableDiffusionInpaintPipeline.from_pretrained(tiny_model_dir, local_files_only=True)
    for name in scheduler_names():
        a = make_scheduler(name, mem.scheduler.config)
        b = make_scheduler(name, disk.scheduler.config)
        a.set_timesteps(10)
        b.set_timesteps(10)
        spacing = "trailing" if name == "K_EULER_TRAILING" else "leading"
        assert a.config.timestep_spacing == b.config.timestep_spacing == spacing
        assert a.timesteps.tolist() == b.timesteps.tolist()
