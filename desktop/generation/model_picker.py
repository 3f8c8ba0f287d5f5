"""The model picker under the engine: models found on disk, model files/folders the user opened
(remembered by the generation model) and, while generating on a remote server, that server's
models (``inpaint-studio/<name>``, listed but never remembered), the load progress under the picker, shown from the model's
typed load state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog

from desktop.generation.form import NO_MODEL, ParametersForm
from inpaint_core.generation_model import GenerationModel, ModelState, ModelStatus
from inpaint_core.service.remote import server_model


class ModelPicker(QObject):
    """Fills ``form.model_combo`` and shows ``form.model_progress``; ``chosen(source)`` when the
    user picks or opens a model (the controller loads it)."""

    chosen = Signal(str)

    def __init__(self, form: ParametersForm, model: GenerationModel) -> None:
        super().__init__(form)
        self.form, self.model = form, model
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
        if source:
            self.chosen.emit(source)

    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.form,
            "Open a model file",
            "",
            "Stable Diffusion checkpoints (*.safetensors *.ckpt)",
        )
        if path:
            self.choose_model(path)

    def _open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self.form, "Open a diffusers model folder")
        if path:
            self.choose_model(path)

    def set_models(self, models: list[Any]) -> None:
        """Fill the picker from :func:`inpaint_core.models.list_models` (``ModelInfo`` objects);
        models that are not inpainting models are listed but cannot be chosen."""
        self._models = list(models)
        combo = self.form.model_combo
        current = self.current
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(NO_MODEL, "")
        item_model = combo.model()
        for info in models:
            label = info.name + (f"  ({info.note})" if info.note else "")
            combo.addItem(label, info.source)
            idx = combo.count() - 1
            combo.setItemData(idx, info.path or info.source, Qt.ItemDataRole.ToolTipRole)
            if info.is_inpainting is False:
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
        self.form.model_combo.setCurrentIndex(self.add_model(source) if source else 0)

    def choose_model(self, source: str) -> None:
        """Select ``source`` (adding it if new), switch to the diffusion engine, emit ``chosen``."""
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
