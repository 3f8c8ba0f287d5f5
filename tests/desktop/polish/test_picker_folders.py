"""QA: the model picker, the LoRA picker, the erase and Smart-mask model pickers and Compare's
exports opened in the home folder (or the working directory) every time, while the photo dialogs
remembered theirs. They go through desktop.file_dialogs too, each with its own kind: the second
dialog starts where the first one was left, and a pick of one kind does not move another's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QToolButton
from skimage import data

from desktop.compare.view import CompareView
from desktop.generation.panel import ParametersPanel
from desktop.settings import open_settings
from desktop.smart_mask.tool import ModelDialog
from inpaint_core.request import InpaintRequest
from inpaint_core.sweep import plan_sweep, run_sweep
from tests.desktop.polish.test_dialog_folders import Dialogs
from tests.engines_for_tests import SolidFillEngine


@pytest.fixture
def dialogs(monkeypatch):
    return Dialogs(monkeypatch)


@pytest.fixture
def settings(settings_dir):
    return open_settings(settings_dir)


@pytest.fixture
def panel(qtbot, settings):
    p = ParametersPanel(settings=settings)
    qtbot.addWidget(p)
    return p


def folder(root: Path, *parts: str) -> Path:
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def a_file(root: Path, name: str) -> Path:
    path = root / name
    path.write_bytes(b"not really weights")
    return path


def test_the_model_picker_starts_where_the_last_model_was(panel, dialogs, tmp_path, settings_dir):
    checkpoints = folder(tmp_path, "checkpoints")
    dialogs.answers.append(str(a_file(checkpoints, "dream.safetensors")))
    panel.open_model_file_action.trigger()
    assert panel.picker.current == str(checkpoints / "dream.safetensors")
    panel.open_model_folder_action.trigger()  # cancelled: only where it started matters
    assert dialogs.last_start() == checkpoints
    # a diffusers folder is the thing picked: the next dialog starts beside it, not inside it
    diffusers = folder(tmp_path, "diffusers", "sd15-inpainting")
    dialogs.answers.append(str(diffusers))
    panel.open_model_folder_action.trigger()
    assert panel.picker.current == str(diffusers)
    panel.open_model_file_action.trigger()
    assert dialogs.last_start() == diffusers.parent

    # after a restart: the same folder (kept in the settings)
    panel.settings.sync()
    again = ParametersPanel(settings=open_settings(settings_dir))
    again.open_model_file_action.trigger()
    assert dialogs.last_start() == diffusers.parent


def test_the_lora_picker_starts_where_the_last_lora_was(panel, dialogs, tmp_path):
    loras = folder(tmp_path, "loras")
    dialogs.answers.append(str(a_file(loras, "ink.safetensors")))
    panel.lora_list.add_from_file()
    assert [row.path for row in panel.lora_list.rows] == [str(loras / "ink.safetensors")]
    panel.lora_list.add_from_file()
    assert dialogs.last_start() == loras


def test_the_erase_model_picker_starts_where_the_last_one_was(panel, dialogs, tmp_path):
    erase = folder(tmp_path, "erase")
    dialogs.answers.append(str(a_file(erase, "big-lama.pt")))
    panel.open_erase_model_button.click()
    assert panel.erase_model_combo.currentText() == str(erase / "big-lama.pt")
    panel.open_erase_model_button.click()
    assert dialogs.last_start() == erase


def test_the_smart_mask_model_picker_starts_beside_the_last_model(
    qtbot, dialogs, tmp_path, settings
):
    sam = folder(tmp_path, "sam", "sam-vit-base")
    dialog = ModelDialog(settings=settings)
    qtbot.addWidget(dialog)
    browse = dialog.findChild(QToolButton, "smartMaskModelBrowse")
    dialogs.answers.append(str(sam))
    browse.click()
    assert dialog.source() == str(sam)
    other = ModelDialog(settings=settings)  # the next time the dialog is opened
    qtbot.addWidget(other)
    other.findChild(QToolButton, "smartMaskModelBrowse").click()
    assert dialogs.last_start() == sam.parent


def test_compare_exports_start_where_the_last_export_went(qtbot, dialogs, tmp_path, settings):
    photo = data.coffee()
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[150:230, 200:300] = 255
    base = InpaintRequest(engine="diffusion", model="x", steps=4, seed=100)
    plan = plan_sweep(base, seeds=2, schedulers=["DDIM"])
    view = CompareView(photo, plan, source_name="coffee", settings=settings)
    qtbot.addWidget(view)
    view.add_cells(run_sweep(plan, photo, mask, SolidFillEngine(native_resolution=False)))

    sheets = folder(tmp_path, "sheets")
    dialogs.answers.append(str(sheets / "contact-sheet.png"))
    view.sheet_button.click()
    assert (sheets / "contact-sheet.png").is_file()
    view.cells_button.click()  # cancelled
    assert dialogs.last_start() == sheets
    cells = folder(tmp_path, "cells")
    dialogs.answers.append(str(cells))
    view.cells_button.click()
    assert len(list(cells.glob("*.png"))) == 2
    view.sheet_button.click()
    assert dialogs.last_start() == cells / "contact-sheet.png"


def test_each_kind_keeps_its_own_folder(panel, dialogs, tmp_path, qtbot, settings):
    models, loras, erase = (folder(tmp_path, name) for name in ("models", "loras", "erase"))
    dialogs.answers += [
        str(a_file(models, "dream.safetensors")),
        str(a_file(loras, "ink.safetensors")),
        str(a_file(erase, "big-lama.pt")),
    ]
    panel.open_model_file_action.trigger()
    panel.lora_list.add_from_file()
    panel.open_erase_model_button.click()
    sam = ModelDialog(settings=settings)
    qtbot.addWidget(sam)
    sam.findChild(QToolButton, "smartMaskModelBrowse").click()  # never used: the last of any
    assert dialogs.last_start() == erase
    panel.open_model_file_action.trigger()
    assert dialogs.last_start() == models
    panel.lora_list.add_from_file()
    assert dialogs.last_start() == loras
    # and the photo dialogs' folder ("open") is not moved by picking models
    assert settings.value("paths/open_dir") is None
