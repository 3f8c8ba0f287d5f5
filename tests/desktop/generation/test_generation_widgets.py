"""The parameters panel and the candidates tray on their own (no window, no worker)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from skimage import data

from inpaint_core.inpaint import InpaintResult
from inpaint_core.masks import BBox
from inpaint_core.request import SEAM_DEFAULTS, InpaintRequest
from inpaint_core.schedulers import scheduler_names


@pytest.fixture
def panel(qtbot):
    from desktop.generation.panel import ParametersPanel

    p = ParametersPanel()
    qtbot.addWidget(p)
    p.show()
    return p


def test_panel_offers_every_scheduler_and_builds_a_request(panel):
    assert [panel.scheduler_combo.itemText(i) for i in range(panel.scheduler_combo.count())] == (
        scheduler_names()
    )
    assert len(scheduler_names()) == 11  # the eight + LCM, TCD, Euler trailing
    panel.prompt_edit.setPlainText("a brick wall")
    panel.steps_spin.setValue(12)
    panel.outputs_spin.setValue(3)
    req = panel.request()
    assert req.prompt == "a brick wall" and req.steps == 12 and req.num_outputs == 3
    assert req.engine == "classical" and req.model is None
    assert req.seed is None  # random by default
    assert req.width is None and req.height is None  # auto size: the crop's aspect


@pytest.mark.parametrize(
    "setup, field, words",
    [
        (lambda p: p.strength_spin.setValue(0.0), "strength", "above 0"),
        (
            lambda p: (p.random_seed_check.setChecked(False), p.seed_edit.setText("12x")),
            "seed",
            "whole number",
        ),
        (
            lambda p: (p.random_seed_check.setChecked(False), p.seed_edit.setText(str(2**33))),
            "seed",
            "between",
        ),
        (
            lambda p: (p.size_mode_combo.setCurrentIndex(1), p.width_spin.setValue(100)),
            "width",
            "multiple of 8",
        ),
        (
            lambda p: (p.size_mode_combo.setCurrentIndex(1), p.height_spin.setValue(20)),
            "height",
            "between",
        ),
        (lambda p: p.target_spin.setValue(40), "target_size", "between"),
        (
            lambda p: p.engine_combo.setCurrentIndex(p.engine_combo.findData("diffusion")),
            "model",
            "needs a model",
        ),
    ],
)
def test_invalid_values_are_shown_at_their_field(panel, qtbot, setup, field, words):
    setup(panel)
    qtbot.waitUntil(lambda: panel.field_error(field) != "", timeout=2000)
    assert words in panel.field_error(field)
    assert field.split("_")[0] in panel.field_error(field)  # the message names the field
    widget = panel._field_widgets[field]
    assert widget.property("invalid") is True and "border" in widget.styleSheet()
    assert words in widget.toolTip()
    assert panel.validate() is None
    # fixing it clears the mark
    panel.set_request(InpaintRequest())
    assert panel.validate() is not None
    assert panel.field_error(field) == "" and not widget.property("invalid")


def test_settings_round_trip(panel, tmp_path):
    from desktop.generation.panel import ParametersPanel
    from desktop.generation.settings import restore_state, save_state
    from inpaint_core.generation_model import GenerationModel

    panel.prompt_edit.setPlainText("line one\nline two")
    panel.scheduler_combo.setCurrentText("KLMS")
    panel.steps_spin.setValue(7)
    panel.guidance_spin.setValue(3.5)
    panel.strength_spin.setValue(0.75)
    panel.random_seed_check.setChecked(False)
    panel.seed_edit.setText("4000000000")
    panel.size_mode_combo.setCurrentIndex(1)
    panel.width_spin.setValue(640)
    panel.height_spin.setValue(384)
    panel.safety_check.setChecked(False)
    panel.feather_spin.setValue(3)
    panel.picker.add_model(str(tmp_path / "opened.safetensors"))
    path = str(tmp_path / "settings.ini")
    s = QSettings(path, QSettings.Format.IniFormat)
    panel.validate()
    save_state(panel.model, s)  # the model persists itself: one JSON value
    s.sync()
    del s
    model = GenerationModel()
    restore_state(model, QSettings(path, QSettings.Format.IniFormat))
    other = ParametersPanel(model)
    assert other.request() == panel.request()
    assert other.request().seed == 4_000_000_000
    assert str(tmp_path / "opened.safetensors") in other.picker.installed_models()
    other.deleteLater()


def test_restore_survives_garbage_settings(panel, tmp_path):
    path = tmp_path / "bad.ini"
    from desktop.generation.settings import restore_state

    for text in (
        "[generation]\nstate=not json\n",
        '[generation]\nstate="{\\"request\\": {\\"steps\\": \\"lots\\", \\"engine\\": \\"warp\\"}}"\n',
        '[generation]\nstate="[1, 2]"\n',
    ):
        path.write_text(text)
        restore_state(panel.model, QSettings(str(path), QSettings.Format.IniFormat))
    assert panel.request().steps >= 1
    assert panel.engine in ("classical", "diffusion")


def test_set_request_locks_the_seed_and_shows_it(panel):
    req = InpaintRequest(
        engine="diffusion", model="/models/x", prompt="p", scheduler="euler a", steps=9, seed=42
    )
    panel.set_request(req)
    out = panel.request()
    assert out.seed == 42 and out.scheduler == "K_EULER_ANCESTRAL" and out.model == "/models/x"
    panel.show_seed_used([42, 43])
    assert "42" in panel.seed_used_label.text()


def _result(seed, flagged=False, scheduler="DDIM"):
    patch = np.ascontiguousarray(data.astronaut()[100:164, 150:230])
    return InpaintResult(
        box=BBox(150, 100, 230, 164),
        patch=patch,
        seed=seed,
        request=InpaintRequest(engine="diffusion", model="m", scheduler=scheduler, seed=seed),
        nsfw_flagged=flagged,
    )


def test_tray_labels_select_keep_discard(qtbot):
    from desktop.generation.tray import CandidatesTray

    tray = CandidatesTray()
    qtbot.addWidget(tray)
    tray.show()
    previews, kept = [], []
    tray.preview_requested.connect(previews.append)
    tray.keep_requested.connect(kept.append)
    cands = tray.add_results([_result(11), _result(12, scheduler="UniPC")], "job-1")
    assert tray.count() == 2
    assert tray.list.item(1).text() == "seed 12\nUniPC"
    assert tray.list.viewMode() == tray.list.ViewMode.IconMode
    tray.select(cands[1])
    assert previews[-1] is cands[1]
    rect = tray.list.visualItemRect(tray.list.item(0))
    # a real double-click: press/release, then the double-click event
    qtbot.mouseClick(tray.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert previews[-1] is cands[0]
    qtbot.mouseDClick(tray.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert kept == [cands[0]]
    tray.mark_kept(cands[0])
    assert "✓" in tray.list.item(0).text()
    tray.select(cands[0])
    tray.discard_current()
    assert tray.count() == 1 and previews[-1] is None


def test_flagged_candidates_are_blurred_until_revealed(qtbot):
    from desktop.generation.tray import CandidatesTray

    tray = CandidatesTray()
    qtbot.addWidget(tray)
    (cand,) = tray.add_results([_result(5, flagged=True)])
    assert cand.hidden
    shown = cand.display_patch()
    assert np.abs(shown.astype(int) - cand.result.patch.astype(int)).mean() > 5  # blurred
    tray.select(cand)
    assert not tray.keep_action.isEnabled() and tray.reveal_action.isEnabled()
    kept = []
    tray.keep_requested.connect(kept.append)
    tray._double_clicked(tray.list.item(0))  # double-click a hidden one reveals it, never keeps it
    assert kept == [] and cand.revealed
    assert np.array_equal(cand.display_patch(), cand.result.patch)
    assert tray.keep_action.isEnabled()


def test_tray_follows_the_core_history(qtbot):
    from desktop.generation.tray import CandidatesTray
    from inpaint_core.candidates import CandidateHistory

    history = CandidateHistory()
    (early,) = history.add_results([_result(1)])  # already there when the tray is made
    tray = CandidatesTray(history=history)
    qtbot.addWidget(tray)
    previews, discarded = [], []
    tray.preview_requested.connect(previews.append)
    tray.discarded.connect(discarded.append)
    assert tray.count() == 1 and tray.list.item(0).text() == "seed 1\nDDIM"
    a, b = history.add_results([_result(2), _result(3, scheduler="UniPC")])
    assert [tray.list.item(i).text() for i in range(3)] == [
        "seed 1\nDDIM",
        "seed 2\nDDIM",
        "seed 3\nUniPC",
    ]
    history.set_kept(a)  # a change made in the core shows in the tray
    assert tray.list.item(1).text() == "seed 2 ✓\nDDIM"
    tray.select(b)
    assert previews[-1] is b
    history.discard(b)  # the current one goes: nothing is previewed any more
    assert tray.count() == 2 and previews[-1] is None and discarded == [b]
    assert tray.current() is None
    tray.discard(early)  # the tray's own edits go through the history
    assert list(history) == [a] and tray.list.item(0).text() == "seed 2 ✓\nDDIM"
    assert tray.clear_action.isEnabled()
    tray.clear_action.trigger()
    assert len(history) == 0 and tray.list.count() == 0 and not tray.clear_action.isEnabled()
    assert discarded == [b, early, a]


def test_settings_of_the_per_field_version_are_read_once(tmp_path):
    """An upgrade keeps the last-used values: the old one-key-per-field group is read into the
    model, then saved in the new shape."""
    from desktop.generation.settings import SETTINGS_KEY, restore_state, save_state
    from inpaint_core.generation_model import GenerationModel, SizeMode

    path = tmp_path / "old.ini"
    path.write_text(
        "[generation]\nengine=diffusion\nmodel=/m/x.safetensors\nprompt=a cat\nscheduler=KLMS\n"
        "steps=7\nguidance_scale=3.5\nseed=4000000000\nrandom_seed=false\nsize_mode=explicit\n"
        "width=640\nheight=384\nsafety_checker=false\nmask_feather=lots\n"
    )
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    model = GenerationModel()
    restore_state(model, settings)
    req = model.request
    assert (req.engine, req.model, req.prompt, req.scheduler) == (
        "diffusion",
        "/m/x.safetensors",
        "a cat",
        "KLMS",
    )
    assert (req.steps, req.guidance_scale, req.seed, req.width, req.height) == (
        7,
        3.5,
        4_000_000_000,
        640,
        384,
    )
    assert not req.safety_checker and req.mask_feather == SEAM_DEFAULTS["diffusion"][1]
    assert model.seed_locked and model.size_mode is SizeMode.EXPLICIT
    save_state(model, settings)
    assert settings.contains(SETTINGS_KEY)


def test_grow_and_feather_follow_the_engine_until_the_user_sets_them(panel):
    """The studio gives the same defaults as the CLI: classical 0/0 (exact damage masks),
    diffusion 4/8 (a seam); a value the user typed is kept across engine switches."""
    from inpaint_core.request import SEAM_DEFAULTS

    def select(engine: str) -> None:
        panel.engine_combo.setCurrentIndex(panel.engine_combo.findData(engine))
        panel.validate()

    select("classical")
    assert (panel.grow_spin.value(), panel.feather_spin.value()) == SEAM_DEFAULTS["classical"]
    req = panel.request()
    assert (req.mask_grow, req.mask_feather) == (0, 0)
    select("diffusion")
    assert (panel.grow_spin.value(), panel.feather_spin.value()) == SEAM_DEFAULTS["diffusion"]
    select("classical")
    assert (panel.grow_spin.value(), panel.feather_spin.value()) == (0, 0)
    panel.feather_spin.setValue(3)
    panel.validate()
    select("diffusion")
    assert (panel.grow_spin.value(), panel.feather_spin.value()) == (0, 3)


def test_tooltip_of_an_unseeded_classical_candidate_has_no_seed_none():
    from desktop.generation.tray import CandidatesTray
    from inpaint_core.candidates import CandidateHistory
    from tests.test_candidates import _result

    history = CandidateHistory()
    classical, seeded = history.add_results(
        [_result(None, engine="classical", info={"method": "telea"}), _result(7)]
    )
    assert "seed None" not in CandidatesTray._tooltip(classical)
    assert "engine classical" in CandidatesTray._tooltip(classical)
    assert "seed 7" in CandidatesTray._tooltip(seeded)
