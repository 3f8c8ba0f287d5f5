"""The parameters panel's model picker: models found on disk, model files/folders the user
opened, the load progress under the picker and the last load error.

A mixin of :class:`desktop.parameters_panel.ParametersPanel` (it uses the panel's ``model_combo``,
``engine_combo``, ``model_progress``, ``model_chosen`` and ``validate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from desktop.generation.form import NO_MODEL


class ModelPickerMixin:
    """The model combo's content and the model-related marks under it."""

    model_combo: Any
    engine_combo: Any
    model_progress: Any
    model_chosen: Any
    _model_form: Any
    _opened_models: list[str]
    _model_error: tuple[str, str] | None

    def validate(self) -> Any:  # provided by the panel
        raise NotImplementedError

    def _schedule_validate(self, *_: Any) -> None:  # provided by the panel
        raise NotImplementedError

    def _model_activated(self, index: int) -> None:
        source = self.model_combo.itemData(index) or ""
        if source:
            self.model_chosen.emit(source)

    def _open_model_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a model file", "", "Stable Diffusion checkpoints (*.safetensors *.ckpt)"
        )
        if path:
            self.choose_model(path)

    def _open_model_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a diffusers model folder")
        if path:
            self.choose_model(path)

    # -- models ---------------------------------------------------------------------------------
    def set_models(self, models: list[Any]) -> None:
        """Fill the picker from :func:`inpaint_core.models.list_models` (``ModelInfo`` objects);
        models that are not inpainting models are listed but cannot be chosen."""
        current = self.model
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItem(NO_MODEL, "")
        item_model = self.model_combo.model()
        for info in models:
            label = info.name + (f"  ({info.note})" if info.note else "")
            self.model_combo.addItem(label, info.source)
            idx = self.model_combo.count() - 1
            self.model_combo.setItemData(idx, info.path or info.source, Qt.ItemDataRole.ToolTipRole)
            if info.is_inpainting is False:
                item_model.item(idx).setEnabled(False)  # type: ignore[attr-defined]
        for source in self._opened_models:
            self.add_model(source)
        self.model_combo.blockSignals(False)
        if current:
            self.set_model(current)
        self._schedule_validate()

    def add_model(self, source: str, label: str | None = None) -> int:
        idx = self.model_combo.findData(source)
        if idx < 0:
            if source not in self._opened_models:
                self._opened_models.append(source)
            self.model_combo.addItem(label or Path(source).name or source, source)
            idx = self.model_combo.count() - 1
            self.model_combo.setItemData(idx, source, Qt.ItemDataRole.ToolTipRole)
        return idx

    def set_model(self, source: str | None) -> None:
        idx = self.add_model(source) if source else 0
        self.model_combo.setCurrentIndex(idx)

    def choose_model(self, source: str) -> None:
        """Select ``source`` (adding it if new), switch to the diffusion engine, emit ``model_chosen``."""
        self.set_model(source)
        self.engine_combo.setCurrentIndex(self.engine_combo.findData("diffusion"))
        self.model_chosen.emit(source)

    def installed_models(self) -> list[str]:
        return [self.model_combo.itemData(i) for i in range(1, self.model_combo.count())]

    @property
    def model(self) -> str | None:
        return self.model_combo.currentData() or None

    def set_model_error(self, source: str | None, message: str = "") -> None:
        """Remember that loading ``source`` failed (shown at the model field while it is chosen);
        ``None`` forgets it (e.g. after a successful load)."""
        self._model_error = (source, message) if source else None
        self.validate()

    def set_model_progress(self, fraction: float | None, text: str = "") -> None:
        """Model loading progress under the picker; ``None`` hides it."""
        if fraction is None:
            self._model_form.setRowVisible(self.model_progress, False)
            return
        self.model_progress.setValue(int(round(fraction * 100)))
        self.model_progress.setFormat(text or "%p%")
        self._model_form.setRowVisible(self.model_progress, True)
