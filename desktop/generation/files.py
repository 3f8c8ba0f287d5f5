"""Generation parameters in files: save a candidate or the picture as a PNG that carries them,
read them back from a PNG made by us (or A1111), offer them when an opened picture has some.

A mixin of :class:`desktop.generation.GenerationController` (it uses the controller's ``host``,
``panel`` and ``_status``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from desktop import file_dialogs
from desktop.generation.host import DocumentHost
from desktop.generation.panel import ParametersPanel
from inpaint_core.candidates import Candidate
from inpaint_core.errors import InpaintError
from inpaint_core.metadata import FoundParameters, parameters_or_none, read_parameters
from inpaint_core.request import InpaintRequest
from inpaint_core.saving import save_document, save_result_picture


class ParameterFiles:
    """``confirm(title, question)``: a yes/no question (tests replace it)."""

    def __init__(
        self,
        host: DocumentHost,
        panel: ParametersPanel,
        status: Callable[[str], None],
        settings: QSettings,
    ) -> None:
        self.host, self.panel, self._status = host, panel, status
        self.settings = settings  # where the file dialogs start (desktop.file_dialogs)
        self._offered: InpaintRequest | None = None
        self.confirm: Callable[[str, str], bool] = self._ask
        panel.offer_load_button.clicked.connect(self._accept_offer)

    def save_candidate(self, cand: Candidate, path: str | None = None) -> Path | None:
        """The picture with this candidate pasted in, as a PNG carrying its parameters."""
        picture = self.host.picture()
        if picture is None:
            return None
        path = path or self._ask_save_path(f"candidate-seed-{cand.seed}.png")
        if not path:
            return None
        doc = self.host.document
        alpha = doc.photo.alpha if doc is not None else None
        deep = doc.photo.high_bits if doc is not None else None  # a 16-bit photo: 16-bit PNG
        try:  # the core's one writer of a result picture (CLI, service and Compare cells too)
            out = save_result_picture(
                path, cand.result, picture, alpha, cand.model_name, pasted=True, high_bits=deep
            )
        except (OSError, ValueError, InpaintError) as exc:
            self.panel.show_message(f"Could not save {path}: {exc}")
            return None
        self._status(f"Saved {out}")
        return out

    # -- save / open parameters -------------------------------------------------------------------
    def save_with_parameters(self, path: str | None = None) -> Path | None:
        """The flattened picture as PNG through the core's one save path: ``parameters`` holds the
        top kept layer's request, the :data:`LAYERS_CHUNK` chunk every kept layer's (bottom to
        top)."""
        picture = self.host.picture()
        if picture is None:
            self.panel.show_message("Open a photo first.")
            return None
        path = path or self._ask_save_path("inpainted.png")
        if not path:
            return None
        doc = self.host.document
        kept = self.host.kept_layers()
        try:  # the one save path: the kept layers' parameters (the top one + LAYERS_CHUNK)
            out = save_document(doc, path)
        except (OSError, ValueError, InpaintError) as exc:
            self.panel.show_message(f"Could not save {path}: {exc}")
            return None
        self._status(f"Saved {out}" + ("" if kept else " (no kept results: no parameters)"))
        return out

    def open_parameters(
        self, path: str | None = None, *, confirm: bool = True
    ) -> InpaintRequest | None:
        """Read the generation parameters of a PNG made by us (or A1111) and offer to load them."""
        if path is None:
            path = file_dialogs.open_file(
                self.panel,
                self.settings,
                "open",
                "Open parameters from a PNG",
                "PNG images (*.png);;All files (*)",
            )
            if not path:
                return None
        try:
            req = read_parameters(path).request
        except InpaintError as exc:
            self.panel.show_message(f"{Path(path).name}: {exc}")
            return None
        question = f"Load these parameters into the panel?\n\n{summary(req)}"
        if confirm and not self.confirm("Load parameters", question):
            return None
        self.panel.set_request(req)
        self._status(f"Loaded the parameters of {Path(path).name}")
        return req

    def offer_parameters(
        self, found: FoundParameters | dict[str, str] | None, name: str = "This picture"
    ) -> bool:
        """An opened picture carries generation parameters: offer them in the panel (a bar with a
        Load button; nothing waits for an answer). True when there were some. ``found``: what the
        loading thread read (``Document.parameters``), or text chunks (read here: small files)."""
        self._offered = None
        self.panel.offer_frame.hide()
        if isinstance(found, dict):
            found = parameters_or_none(found)
        if found is None:
            return False
        self._offered = found.request
        self.panel.offer_label.setText(f"{name} carries generation parameters.")
        self.panel.offer_label.setToolTip(summary(self._offered))
        self.panel.offer_frame.show()
        return True

    def _accept_offer(self) -> None:
        if self._offered is not None:
            self.panel.set_request(self._offered)
        self.panel.offer_frame.hide()

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.panel.window(), title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_save_path(self, default: str) -> str:
        path, _ = file_dialogs.save_file(
            self.panel, self.settings, "export", "Save PNG", default, "PNG images (*.png)"
        )
        if path and not path.lower().endswith(".png"):
            path += ".png"
        return path


def summary(req: InpaintRequest) -> str:
    """A few lines describing a request, for questions and tooltips."""
    lines = [f"engine: {req.engine}"]
    if req.engine == "diffusion":
        lines += [
            f"prompt: {req.prompt or '(empty)'}",
            f"{req.scheduler}, {req.steps} steps, guidance {req.guidance_scale:g}, "
            f"strength {req.strength:g}, seed {req.seed if req.seed is not None else 'random'}",
        ]
        if req.model:
            lines.append(f"model: {req.model}")
    return "\n".join(lines)
