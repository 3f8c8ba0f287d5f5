"""The model picker under the engine: models found on disk, model files/folders the user opened
(remembered by the generation model) and, while generating on a remote server, that server's
models (``inpaint-studio/<name>``, listed but never remembered); the load progress under the
picker, shown from the model's typed load state. Each model shows its family, precision and
few-step kind (read from its files by the core); a plain 4-channel SD/SDXL model is offered as
"masked img2img (lower quality)" after a confirmation, rather than refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from desktop import file_dialogs
from desktop.generation.form import NO_MODEL, ParametersForm
from inpaint_core.generation_model import GenerationModel, ModelState, ModelStatus
from inpaint_core.models.families import FAMILIES
from inpaint_core.models.presets import detect_model
from inpaint_core.service.remote import server_model

#: families whose plain (4-channel) checkpoints the engine can run as masked img2img
IMG2IMG_FAMILIES = ("sd1", "sd2", "sdxl")
IMG2IMG_QUESTION = (
    "{name} is not an inpainting model (its UNet takes 4 input channels, not 9).\n\n"
    "Use it as an inpainting model via masked img2img? The fill blends less well with the "
    "picture than a real inpainting model's (lower quality)."
)


def model_label(info: Any) -> str:
    """ "name  (SDXL · fp16 · Lightning)": family, precision, few-step kind and the core's note."""
    fam = FAMILIES.get(getattr(info, "family", ""))
    tags = [
        fam.label if fam else "",
        getattr(info, "precision", None) or "",
        getattr(info, "few_step", None) or "",
    ]
    if info.is_inpainting is False and getattr(info, "family", "") in IMG2IMG_FAMILIES:
        tags.append("not inpainting: masked img2img")
    elif info.note:
        tags.append(info.note)
    tags = [t for t in tags if t]
    return info.name + (f"  ({' · '.join(tags)})" if tags else "")


def ask_yes_no(parent: Any, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


class ModelPicker(QObject):
    """Fills ``form.model_combo`` and shows ``form.model_progress``; ``chosen(source)`` when the
    user picks or opens a model (the controller loads it)."""

    chosen = Signal(str)

    def __init__(
        self,
        form: ParametersForm,
        model: GenerationModel,
        confirm: Callable[[Any, str, str], bool] = ask_yes_no,
    ) -> None:
        super().__init__(form)
        self.form, self.model = form, model
        self.confirm = confirm
        #: what the core found out about each listed model, by source
        self.infos: dict[str, Any] = {}
        self._detected: dict[str, tuple[bool | None, str] | None] = {}
        self._previous = 0
        form.model_combo.activated.connect(self._activated)
        form.open_model_file_action.triggered.connect(self._open_file)
        form.open_model_folder_action.triggered.connect(self._open_folder)
        model.events.model_changed.connect(self._show_state)
        self._models: list[Any] = []
        #: the models of the remote server in use (slugs): listed, never remembered
        self._server_models: list[str] = []
        for source in model.opened_models:
            self.add_model(source)

    @property
    def current(self) -> str | None:
        return self.form.model_combo.currentData() or None

    def _activated(self, index: int) -> None:
        source = self.form.model_combo.itemData(index) or ""
        if source and not self.accept_plain_model(source):
            self.form.model_combo.setCurrentIndex(self._previous)
            return
        self._previous = index
        if source:
            self.chosen.emit(source)

    def needs_img2img(self, source: str | None) -> bool:
        """A plain 4-channel SD/SDXL model (runs only as masked img2img): from the listing, or
        for a file/folder the user opened, from its files (read once)."""
        if not source:
            return False
        info = self.infos.get(source)
        if info is None:
            if source not in self._detected:
                found = detect_model(source)
                self._detected[source] = None if found is None else (found.inpainting, found.family)
            found = self._detected[source]
            return found is not None and found[0] is False and found[1] in IMG2IMG_FAMILIES
        return info.is_inpainting is False and getattr(info, "family", "") in IMG2IMG_FAMILIES

    def accept_plain_model(self, source: str) -> bool:
        """True unless ``source`` is a plain model the user declines to run as masked img2img
        (asked once per model; the yes is remembered by the generation model)."""
        if not self.needs_img2img(source) or source in self.model.img2img_models:
            return True
        info = self.infos.get(source)
        name = info.name if info is not None else (Path(source).name or source)
        if not self.confirm(
            self.form, "Not an inpainting model", IMG2IMG_QUESTION.format(name=name)
        ):
            return False
        self.model.allow_masked_img2img(source)
        return True

    def _open_file(self) -> None:
        path = file_dialogs.open_file(
            self.form,
            self.form.settings,
            "model",
            "Open a model file",
            "Stable Diffusion checkpoints (*.safetensors *.ckpt)",
        )
        if path:
            self.choose_model(path)

    def _open_folder(self) -> None:
        path = file_dialogs.choose_folder(
            self.form, self.form.settings, "model", "Open a diffusers model folder", item=True
        )
        if path:
            self.choose_model(path)

    def set_models(self, models: list[Any]) -> None:
        """Fill the picker from :func:`inpaint_core.models.list_models` (``ModelInfo`` objects);
        a plain SD/SDXL model is offered as masked img2img; other models that cannot inpaint are
        listed but cannot be chosen."""
        self._models = list(models)
        combo = self.form.model_combo
        current = self.current
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(NO_MODEL, "")
        item_model = combo.model()
        self.infos = {info.source: info for info in models}
        for info in models:
            combo.addItem(model_label(info), info.source)
            idx = combo.count() - 1
            combo.setItemData(idx, info.path or info.source, Qt.ItemDataRole.ToolTipRole)
            if info.is_inpainting is False and not self.needs_img2img(info.source):
                item_model.item(idx).setEnabled(False)  # type: ignore[attr-defined]
        for source in self.model.opened_models:
            self.add_model(source)
        for slug in self._server_models:
            combo.addItem(f"{slug}  (server)", slug)
            combo.setItemData(combo.count() - 1, slug, Qt.ItemDataRole.ToolTipRole)
        combo.blockSignals(False)
        if current and (combo.findData(current) >= 0 or not server_model(current)):
            self.set_model(current)  # (a server's model whose server is gone: none chosen)

    def set_server_models(self, slugs: list[str]) -> None:
        """List the remote server's models (``[]``: none, back on this machine)."""
        self._server_models = list(slugs)
        self.set_models(self._models)

    def add_model(self, source: str, label: str | None = None) -> int:
        """A model file or folder of the user's: listed, and remembered by the model."""
        combo = self.form.model_combo
        idx = combo.findData(source)
        if idx < 0 and server_model(source):
            return 0  # a server's slug is never remembered as a file of the user's
        if idx < 0:
            self.model.add_opened_model(source)
            combo.addItem(label or Path(source).name or source, source)
            idx = combo.count() - 1
            combo.setItemData(idx, source, Qt.ItemDataRole.ToolTipRole)
        return idx

    def set_model(self, source: str | None) -> None:
        self._previous = self.add_model(source) if source else 0
        self.form.model_combo.setCurrentIndex(self._previous)

    def choose_model(self, source: str) -> None:
        """Select ``source`` (adding it if new), switch to the diffusion engine, emit ``chosen``
        (a plain model only once the user agreed to masked img2img)."""
        if not self.accept_plain_model(source):
            return
        self.set_model(source)
        engine = self.form.engine_combo
        engine.setCurrentIndex(engine.findData("diffusion"))
        self.chosen.emit(source)

    def installed_models(self) -> list[str]:
        combo = self.form.model_combo
        return [combo.itemData(i) for i in range(1, combo.count())]

    def _show_state(self, state: ModelState) -> None:
        bar, form = self.form.model_progress, self.form._model_form
        if state.status is ModelStatus.LOADING:
            bar.setValue(int(round(state.fraction * 100)))
            bar.setFormat("Loading…" if state.fraction <= 0 else "Loading… %p%")
            form.setRowVisible(bar, True)
        else:
            form.setRowVisible(bar, False)
