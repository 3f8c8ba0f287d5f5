"""The panel's model features: the LoRA list (bound to the request's ``loras``), the refusal of a
LoRA for another family at its field, few-step presets, the picker's family/precision labels, the
plain-model "masked img2img" choice, the erase engine, and the memory rung in the status text."""

from __future__ import annotations

import shutil

import pytest

from desktop.generation.controller import model_text
from desktop.generation.model_picker import model_label
from desktop.generation.panel import ParametersPanel
from inpaint_core.generation_model import GenerationModel, ModelState, ModelStatus
from inpaint_core.jobs import EngineCache
from inpaint_core.models import list_models
from inpaint_core.request import InpaintRequest, LoraRef
from inpaint_core.testing import (
    build_tiny_inpaint_pipeline,
    build_tiny_sdxl_inpaint_pipeline,
    save_tiny_kohya_lora,
)


@pytest.fixture(scope="module")
def loras(tmp_path_factory):
    root = tmp_path_factory.mktemp("panel-loras")
    sd = build_tiny_inpaint_pipeline()
    style = save_tiny_kohya_lora(sd, root / "style.safetensors", seed=1)
    return {
        "style": style,
        "lcm": shutil.copy(style, root / "lcm-lora-tiny.safetensors"),
        "xl": save_tiny_kohya_lora(
            build_tiny_sdxl_inpaint_pipeline(), root / "xl-style.safetensors", seed=3
        ),
    }


@pytest.fixture
def models_env(tmp_path, monkeypatch):
    monkeypatch.setenv("INPAINT_STUDIO_MODELS", str(tmp_path / "models"))
    return tmp_path / "models"


@pytest.fixture
def panel(qtbot, models_env):
    p = ParametersPanel()
    qtbot.addWidget(p)
    p.show()
    return p


def _diffusion(panel, model_dir) -> None:
    panel.picker.set_models(list_models([model_dir.parent], include_hf_cache=False))
    panel.picker.choose_model(str(model_dir))


def test_lora_list_edits_the_request_and_persists(panel, qtbot, tiny_model_dir, loras):
    _diffusion(panel, tiny_model_dir)
    lst = panel.lora_list
    assert lst.empty_label.isVisibleTo(panel)
    lst.add(str(loras["style"]))
    lst.add(str(loras["style"]))  # once only
    lst.add(str(loras["lcm"]), 0.5)
    assert len(lst.rows) == 2 and not lst.empty_label.isVisibleTo(panel)
    lst.rows[0].spin.setValue(0.75)
    assert lst.rows[0].slider.value() == 75  # the slider follows the spin box
    lst.rows[1].slider.setValue(-40)
    assert lst.rows[1].spin.value() == pytest.approx(-0.4)
    qtbot.waitUntil(lambda: len(panel.model.request.loras) == 2, timeout=2000)
    qtbot.waitUntil(
        lambda: (
            panel.model.request.loras
            == (LoraRef(str(loras["style"]), 0.75), LoraRef(str(loras["lcm"]), -0.4))
        ),
        timeout=2000,
    )
    # persisted with the generation model; a new panel shows the same rows
    again = GenerationModel.from_dict(panel.model.to_dict())
    other = ParametersPanel(again)
    qtbot.addWidget(other)
    assert other.lora_list.refs() == panel.model.request.loras
    assert [r.name_label.text() for r in other.lora_list.rows] == ["style", "lcm-lora-tiny"]
    # remove
    lst.rows[0].remove_button.click()
    qtbot.waitUntil(
        lambda: panel.model.request.loras == (LoraRef(str(loras["lcm"]), -0.4),), timeout=2000
    )
    # the model -> widgets direction (a candidate's "use settings")
    panel.set_request(InpaintRequest(engine="diffusion", model=str(tiny_model_dir)))
    assert lst.rows == [] and lst.empty_label.isVisibleTo(panel)


def test_a_lora_for_another_family_is_refused_at_the_field(panel, qtbot, tiny_model_dir, loras):
    _diffusion(panel, tiny_model_dir)
    panel.lora_list.add(str(loras["xl"]))
    qtbot.waitUntil(lambda: panel.field_error("loras") != "", timeout=2000)
    message = panel.field_error("loras")
    assert "xl-style.safetensors is made for SDXL" in message and "SD 1.x" in message
    assert panel.validate() is None
    panel.lora_list.rows[0].remove_button.click()
    qtbot.waitUntil(lambda: panel.field_error("loras") == "", timeout=2000)
    assert panel.validate() is not None


def test_a_few_step_lora_applies_its_presets_where_not_set(panel, qtbot, tiny_model_dir, loras):
    _diffusion(panel, tiny_model_dir)
    panel.steps_spin.setValue(30)  # the user's own step count is kept
    qtbot.waitUntil(lambda: panel.model.request.steps == 30, timeout=2000)
    panel.lora_list.add(str(loras["lcm"]))
    qtbot.waitUntil(lambda: panel.model.request.scheduler == "LCM", timeout=2000)
    req = panel.model.request
    assert req.guidance_scale == 1.5 and req.steps == 30
    assert panel.scheduler_combo.currentText() == "LCM" and panel.guidance_spin.value() == 1.5
    note = panel.preset_note.text()
    assert panel.preset_note.isVisibleTo(panel) and "few-step" in note and "LCM" in note


def test_picker_labels_show_family_precision_and_few_step(tiny_model_dir, tiny_sdxl_dir):
    found = list_models([tiny_model_dir.parent, tiny_sdxl_dir.parent], include_hf_cache=False)
    labels = {m.name: model_label(m) for m in found}
    assert "SD 1.x" in labels[tiny_model_dir.name]
    assert "SDXL" in labels[tiny_sdxl_dir.name]
    sd = next(m for m in found if m.name == tiny_model_dir.name)
    if sd.precision:
        assert sd.precision in labels[sd.name]


def test_plain_model_is_offered_as_masked_img2img_after_a_confirm(
    panel, qtbot, tiny_model_4ch_dir, tiny_model_dir
):
    answers: list[bool] = []
    asked: list[str] = []

    def confirm(_parent, _title, text):
        asked.append(text)
        return answers.pop(0)

    panel.picker.confirm = confirm
    panel.picker.set_models(
        list_models([tiny_model_4ch_dir.parent, tiny_model_dir.parent], include_hf_cache=False)
    )
    combo = panel.model_combo
    idx = combo.findData(str(tiny_model_4ch_dir))
    assert idx > 0 and combo.model().item(idx).isEnabled()  # not a dead end
    assert "masked img2img" in combo.itemText(idx)
    chosen: list[str] = []
    panel.picker.chosen.connect(chosen.append)
    answers.append(False)  # declined: back to the previous choice, nothing loads
    combo.setCurrentIndex(idx)
    panel.picker._activated(idx)
    assert "masked img2img" in asked[-1] and "lower quality" in asked[-1]
    assert combo.currentIndex() == 0 and chosen == []
    assert panel.model.img2img_models == []
    answers.append(True)
    panel.picker.choose_model(str(tiny_model_4ch_dir))
    assert chosen == [str(tiny_model_4ch_dir)]
    assert panel.model.img2img_models == [str(tiny_model_4ch_dir)]
    assert GenerationModel.from_dict(panel.model.to_dict()).img2img_models == [
        str(tiny_model_4ch_dir)
    ]
    panel.picker.choose_model(str(tiny_model_4ch_dir))  # asked once per model
    assert len(asked) == 2


def test_engine_cache_runs_an_allowed_plain_model_as_img2img(tiny_model_4ch_dir):
    from inpaint_core.errors import ModelError

    cache = EngineCache(device="cpu")
    req = InpaintRequest(engine="diffusion", model=str(tiny_model_4ch_dir))
    with pytest.raises(ModelError):
        cache(req).load(lambda _e: None)
    cache.allow_non_inpainting.add(str(tiny_model_4ch_dir))
    engine = cache(req)
    assert engine.allow_non_inpainting
    engine.load(lambda _e: None)  # loads now


def test_erase_engine_is_offered_with_its_model_field(panel, qtbot, tmp_path):
    combo = panel.engine_combo
    assert combo.findData("erase") >= 0
    combo.setCurrentIndex(combo.findData("erase"))
    qtbot.waitUntil(lambda: panel.field_error("engine") != "", timeout=2000)
    assert "erase engine needs a model" in panel.field_error("engine")
    assert panel._erase_row.isVisibleTo(panel) and not panel.prompt_edit.isEnabled()
    lama = tmp_path / "big-lama.pt"
    lama.write_bytes(b"x")
    panel.erase_model_combo.setCurrentText(str(lama))
    qtbot.waitUntil(lambda: panel.model.request.engine == "erase", timeout=2000)
    qtbot.waitUntil(lambda: panel.model.request.model == str(lama), timeout=2000)
    assert panel.model.effective_request().model == str(lama)
    # back from the model: a request for erase shows its model in the erase field
    panel.erase_model_combo.setCurrentText("")
    panel.set_request(InpaintRequest(engine="erase", model=str(lama)))
    assert panel.erase_model_combo.currentText() == str(lama)


def test_status_text_shows_the_memory_rung():
    state = ModelState(ModelStatus.LOADED, "m", "tiny", "cuda:0", 1.0, memory="offload")
    assert model_text(state) == "Model: tiny  ·  memory: offload"
    assert model_text(ModelState(ModelStatus.LOADED, "m", "tiny", "cpu", 1.0)) == "Model: tiny"


def test_a_load_reports_its_memory_rung(qtbot, tiny_model_dir):
    from inpaint_core.jobs import JobQueue

    events = []
    model = GenerationModel()
    queue = JobQueue(events.append, EngineCache(device="cpu"))
    model.attach(queue)
    try:
        model.load_model(str(tiny_model_dir))
        qtbot.waitUntil(lambda: any(e.kind == "finished" for e in events), timeout=120000)
    finally:
        queue.shutdown()
    for event in events:  # on this thread, as the bridge does
        model.handle(event)
    assert model.model_state.status is ModelStatus.LOADED
    assert model.model_state.memory == "full"  # on the CPU: everything in memory


def test_an_opened_plain_model_folder_asks_too(panel, tiny_model_4ch_dir, tiny_model_dir):
    asked = []
    panel.picker.confirm = lambda _p, _t, text: (asked.append(text), False)[1]
    chosen = []
    panel.picker.chosen.connect(chosen.append)
    panel.picker.choose_model(str(tiny_model_4ch_dir))  # never listed: "Open…" a folder
    assert asked and tiny_model_4ch_dir.name in asked[0] and chosen == []
    panel.picker.choose_model(str(tiny_model_dir))  # an inpainting model: no question
    assert len(asked) == 1 and chosen == [str(tiny_model_dir)]


def test_a_missing_or_unreadable_lora_is_marked_at_the_field(
    panel, qtbot, tiny_model_dir, tmp_path
):
    _diffusion(panel, tiny_model_dir)
    panel.lora_list.add(str(tmp_path / "gone.safetensors"))
    qtbot.waitUntil(lambda: "not found" in panel.field_error("loras"), timeout=2000)
    panel.lora_list.rows[0].remove_button.click()
    not_lora = tmp_path / "notes.ckpt"
    not_lora.write_bytes(b"pickle")
    panel.lora_list.add(str(not_lora))
    qtbot.waitUntil(lambda: ".safetensors files only" in panel.field_error("loras"), timeout=2000)


def test_a_few_step_checkpoint_applies_its_family_and_presets(
    panel, qtbot, tiny_sdxl_dir, tmp_path
):
    lightning = shutil.copytree(tiny_sdxl_dir, tmp_path / "tiny-sdxl-lightning-4step")
    panel.picker.set_models(list_models([lightning.parent], include_hf_cache=False))
    idx = panel.model_combo.findData(str(lightning))
    assert "SDXL" in panel.model_combo.itemText(idx)
    assert "lightning" in panel.model_combo.itemText(idx)
    panel.picker.choose_model(str(lightning))
    req = panel.model.request
    assert (req.scheduler, req.steps, req.guidance_scale) == ("K_EULER_TRAILING", 6, 1.0)
    assert req.target_size == 1024  # SDXL's working grid
    assert panel.target_spin.value() == 1024 and panel.steps_spin.value() == 6
    assert "Lightning" in panel.preset_note.text()
    # the user's own change is never overwritten by choosing the model again
    panel.steps_spin.setValue(9)
    qtbot.waitUntil(lambda: panel.model.request.steps == 9, timeout=2000)
    panel.picker.choose_model(str(lightning))
    assert panel.model.request.steps == 9


def test_add_a_lora_from_the_models_folder_menu(panel, models_env, loras):
    (models_env / "loras").mkdir(parents=True)
    shutil.copy(loras["xl"], models_env / "loras" / "xl-style.safetensors")
    panel.lora_list._fill_menu()
    acts = [a for a in panel.lora_list.add_menu.actions() if a.data()]
    assert [a.text() for a in acts] == ["xl-style  (sdxl)"]
    acts[0].trigger()
    assert [r.path for r in panel.lora_list.rows] == [
        str(models_env / "loras" / "xl-style.safetensors")
    ]
