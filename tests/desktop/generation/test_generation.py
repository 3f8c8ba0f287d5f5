"""Generation from the window: panel -> worker -> progress/previews -> candidates -> keep -> undo.

Runs the real engine bridge (one worker thread) with the tiny random-weight diffusion model, on a
small window that hosts the controller the way the studio window does (a Document, a QUndoStack,
a canvas overlay).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
from skimage import data

from inpaint_core.document import Document
from inpaint_core.inpaint import plan_for
from inpaint_core.jobs import EngineCache

W, H = 160, 120


class OverlayRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, box, image) -> None:
        self.calls.append((box, None if image is None else (image.width(), image.height())))

    @property
    def shown(self):
        return [c for c in self.calls if c[0] is not None]


class FastPreviewCache(EngineCache):
    """The real engine cache, with step previews at every step (the default throttles to 4/s)."""

    def __call__(self, request):
        engine = super().__call__(request)
        if hasattr(engine, "preview_interval_s"):
            engine.preview_interval_s = 0.0
        return engine


@pytest.fixture
def studio(qtbot, tmp_path):
    from desktop.engine_bridge import EngineBridge
    from desktop.generation.host import DocumentHost
    from desktop.generation.install import install
    from desktop.undo import History

    photo = np.asarray(Image.fromarray(data.coffee()).resize((W, H), Image.LANCZOS))
    doc = Document(np.ascontiguousarray(photo), name="coffee")
    mask = np.zeros((H, W), np.uint8)
    mask[40:80, 60:110] = 255
    doc.set_mask(mask)
    window = QMainWindow()
    window.setCentralWidget(QLabel("canvas"))
    window.document = doc
    history = History(parent=window)
    stack = history.stack
    overlay = OverlayRecorder()
    host = DocumentHost(
        lambda: window.document, lambda e: history.push(window.document, e), overlay
    )
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    bridge = EngineBridge(engine_factory=FastPreviewCache())
    ctl = install(window, host, bridge=bridge, settings=settings)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    QApplication.setActiveWindow(window)
    ctl.overlay = overlay
    ctl.stack = stack
    ctl.window = window
    yield ctl
    ctl.shutdown()


def diffusion(ctl, model_dir, steps=2, outputs=2, seed=None):
    p = ctl.panel
    p.picker.choose_model(str(model_dir))
    p.engine_combo.setCurrentIndex(p.engine_combo.findData("diffusion"))
    p.prompt_edit.setPlainText("a cup of tea")
    p.scheduler_combo.setCurrentText("DDIM")
    p.steps_spin.setValue(steps)
    p.outputs_spin.setValue(outputs)
    p.target_spin.setValue(64)
    if seed is None:
        p.random_seed_check.setChecked(True)
    else:
        p.random_seed_check.setChecked(False)
        p.seed_edit.setText(str(seed))
    assert p.validate() is not None, p.message_label.text()


def test_generate_progress_candidates_keep_undo(studio, qtbot, tiny_model_dir):
    ctl = studio
    diffusion(ctl, tiny_model_dir, steps=3, outputs=2)
    progress = []
    ctl.bridge.progress_changed.connect(lambda j, f, s, t, m: progress.append((j, f, s)))
    with qtbot.waitSignal(ctl.bridge.job_finished, timeout=60000):  # the model load
        pass
    # Ctrl+Enter generates
    qtbot.keyClick(ctl.window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: ctl.tray.count() == 2, timeout=60000)
    gen = [p for p in progress if p[2] > 0]  # step events (not the model load)
    fractions = [f for _, f, _ in gen]
    # progress advances (the queue throttles it to one event per 50 ms; the last always passes)
    assert len(set(fractions)) >= 2 and fractions == sorted(fractions) and fractions[-1] == 1.0
    assert ctl.panel.progress_bar.value() > 0
    # step previews were drawn over the region the request works on
    cands = ctl.tray.candidates()
    box = cands[0].result.box
    assert any(b == box for b, _ in ctl.overlay.shown), ctl.overlay.calls
    # labels: seed + scheduler + seam score; the seed used is shown in the panel
    seeds = [c.seed for c in cands]
    seam = cands[0].result.info["seam_score"]
    assert ctl.tray.list.item(0).text() == f"seed {seeds[0]}\nDDIM\nseam {seam:.2f}"
    assert str(seeds[0]) in ctl.panel.seed_used_label.text()
    assert ctl.model_label.text().startswith("Model: ") and "none" not in ctl.model_label.text()
    # the first candidate is previewed in place
    assert ctl.tray.current() is cands[0] and ctl.overlay.calls[-1][0] == box
    # keep the second one (double-click) -> a new layer; undo removes it
    doc = ctl.host.document
    before = doc.flatten()
    item = ctl.tray.list.item(1)
    rect = ctl.tray.list.visualItemRect(item)
    qtbot.mouseClick(ctl.tray.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(ctl.tray.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(doc.result_layers) == 1
    layer = doc.result_layers[0]
    assert layer.box == box and layer.info["seed"] == seeds[1]
    assert np.array_equal(doc.flatten()[box.slices], cands[1].result.patch)
    assert ctl.stack.count() == 1
    assert cands[1].kept and not cands[0].kept
    ctl.stack.undo()
    assert doc.result_layers == []
    assert np.array_equal(doc.flatten(), before)
    assert not cands[1].kept  # the tray's "kept" mark follows the document
    ctl.stack.redo()
    assert len(doc.result_layers) == 1
    assert cands[1].kept


def test_cancel_mid_run_then_generate_again(studio, qtbot, tiny_model_dir):
    ctl = studio
    diffusion(ctl, tiny_model_dir, steps=400, outputs=1)
    started = []
    ctl.bridge.progress_changed.connect(lambda j, f, s, t, m: s and started.append(s))
    job = ctl.generate()
    assert job and ctl.actions.cancel.isEnabled()
    qtbot.waitUntil(lambda: len(started) >= 2, timeout=60000)
    with qtbot.waitSignal(ctl.bridge.job_cancelled, timeout=10000):
        qtbot.keyClick(ctl.window, Qt.Key.Key_Escape)  # Esc cancels
    assert max(started) < 400
    assert ctl.tray.count() == 0
    qtbot.waitUntil(lambda: not ctl.actions.cancel.isEnabled(), timeout=10000)
    assert ctl.overlay.calls[-1] == (None, None)  # the step preview is gone
    # the worker is still usable
    ctl.panel.steps_spin.setValue(2)
    ctl.generate()
    qtbot.waitUntil(lambda: ctl.tray.count() == 1, timeout=60000)


def test_queue_another_run_while_one_runs(studio, qtbot, tiny_model_dir):
    ctl = studio
    diffusion(ctl, tiny_model_dir, steps=8, outputs=1, seed=77)
    first = ctl.generate()
    ctl.panel.steps_spin.setValue(2)
    ctl.panel.scheduler_combo.setCurrentText("K_EULER")
    second = ctl.generate()  # does not block, does not replace the first
    assert first != second
    assert ctl.panel.generate_button.text() == "Queue Another"
    qtbot.waitUntil(lambda: ctl.tray.count() == 2, timeout=60000)
    labels = [ctl.tray.list.item(i).text().splitlines()[:2] for i in range(2)]
    assert labels == [["seed 77", "DDIM"], ["seed 77", "K_EULER"]]
    qtbot.waitUntil(lambda: ctl.panel.generate_button.text() == "Generate", timeout=5000)


def test_bad_model_shows_an_error_and_the_window_lives(studio, qtbot, tiny_model_dir, tmp_path):
    ctl = studio
    bad = tmp_path / "not-a-model.safetensors"
    bad.write_bytes(b"this is not a checkpoint")
    with qtbot.waitSignal(ctl.bridge.job_failed, timeout=30000):
        ctl.panel.picker.choose_model(str(bad))
    qtbot.waitUntil(lambda: ctl.panel.field_error("model") != "", timeout=5000)
    assert "not-a-model" in ctl.panel.field_error("model")
    assert ctl.panel.message_label.isVisible()
    assert "failed" in ctl.model_label.text()
    # a generation with it fails the same way, as a message
    diffusion(ctl, tiny_model_dir)
    ctl.panel.picker.set_model(str(bad))
    with qtbot.waitSignal(ctl.bridge.job_failed, timeout=30000):
        ctl.generate()
    assert ctl.window.isVisible()
    # and a good model works afterwards on the same worker
    diffusion(ctl, tiny_model_dir)
    ctl.generate()
    qtbot.waitUntil(lambda: ctl.tray.count() == 2, timeout=60000)
    assert ctl.panel.field_error("model") == ""


def test_parameters_round_trip_through_a_saved_png(studio, qtbot, tiny_model_dir, tmp_path):
    from inpaint_core.imaging import load_image
    from inpaint_core.metadata import request_from_png_text

    ctl = studio
    diffusion(ctl, tiny_model_dir, steps=2, outputs=1, seed=1234)
    ctl.panel.guidance_spin.setValue(5.5)
    ctl.panel.negative_edit.setPlainText("blurry, dark")
    ctl.generate()
    qtbot.waitUntil(lambda: ctl.tray.count() == 1, timeout=60000)
    cand = ctl.tray.candidates()[0]
    ctl.candidates.keep(cand)
    out = ctl.files.save_with_parameters(str(tmp_path / "picture.png"))
    saved = load_image(out)
    assert np.array_equal(saved.rgb, ctl.host.document.flatten())
    assert "Negative prompt: blurry, dark" in saved.text["parameters"]
    assert "Seed: 1234" in saved.text["parameters"]
    assert request_from_png_text(saved.text) == cand.result.request
    # change everything, then load the parameters back from the PNG
    expected = ctl.panel.request()
    ctl.panel.set_request(type(expected)())
    assert ctl.panel.request() != expected
    ctl.files.confirm = lambda title, text: True
    ctl.files.open_parameters(str(out))
    # the same request, with what the run recorded for a re-run (its CPU thread count)
    assert ctl.panel.request() == replace(expected, options=cand.result.request.options)
    # a candidate saved on its own carries its own parameters
    path = ctl.files.save_candidate(cand, str(tmp_path / "candidate.png"))
    assert request_from_png_text(load_image(path).text).seed == 1234
    # "Use these settings" copies a candidate's request back
    ctl.panel.set_request(type(expected)())
    ctl.candidates.use_settings(cand)
    assert ctl.panel.request() == cand.result.request


def test_a_png_without_parameters_is_a_message(studio, tmp_path):
    ctl = studio
    path = tmp_path / "plain.png"
    Image.fromarray(data.coffee()[:32, :32]).save(path)
    assert ctl.files.open_parameters(str(path), confirm=False) is None
    assert "no generation parameters" in ctl.panel.message_label.text()


def test_generate_without_a_mask_or_with_bad_values_says_why(studio):
    ctl = studio
    ctl.panel.strength_spin.setValue(0.0)
    assert ctl.generate() is None
    assert ctl.panel.field_error("strength")
    ctl.panel.strength_spin.setValue(1.0)
    ctl.host.document.clear_mask()
    assert ctl.generate() is None
    assert "mask is empty" in ctl.panel.message_label.text()


def test_before_after_key_hides_the_preview(studio, qtbot):
    from inpaint_core.inpaint import InpaintResult
    from inpaint_core.masks import BBox
    from inpaint_core.request import InpaintRequest

    ctl = studio
    box = BBox(10, 10, 42, 42)
    result = InpaintResult(box, np.zeros((32, 32, 3), np.uint8), 3, InpaintRequest(seed=3))
    (cand,) = ctl.tray.add_results([result])
    ctl.tray.select(cand)
    assert ctl.overlay.calls[-1][0] == box
    ctl.window.setFocus()
    qtbot.keyPress(ctl.window, Qt.Key.Key_Backslash)
    assert ctl.overlay.calls[-1] == (None, None)
    qtbot.keyRelease(ctl.window, Qt.Key.Key_Backslash)
    assert ctl.overlay.calls[-1][0] == box


def test_status_bar_shows_the_device(studio, qtbot):
    qtbot.waitUntil(lambda: "CPU" in studio.device_label.text(), timeout=30000)


class SlowStepsEngine:
    """Steps of ~60 ms (slower than the queue's 50 ms progress throttle, like any real model), a
    progress event then a preview event per step, as the diffusion engine sends them."""

    name = "slow"
    native_resolution = False

    def __init__(self, steps=6, step_s=0.06):
        self.steps, self.step_s = steps, step_s

    def run(self, request, image, mask, on_event, cancel):
        import time

        from inpaint_core.engines.base import EngineOutput
        from inpaint_core.events import EngineEvent

        for step in range(1, self.steps + 1):
            time.sleep(self.step_s)
            cancel.raise_if_cancelled()
            p = step / self.steps
            on_event(EngineEvent("progress", progress=p, step=step, total_steps=self.steps))
            preview = np.full_like(image, step * 30)
            on_event(
                EngineEvent(
                    "preview", progress=p, step=step, total_steps=self.steps, preview=preview
                )
            )
        return [EngineOutput(image.copy(), seed=s) for s in request.resolved().seeds]


def _bare_controller(tmp_path, engine, overlay=None):
    """A controller over a small document, no window, every run on ``engine``."""
    from desktop.engine_bridge import EngineBridge
    from desktop.generation.controller import GenerationController
    from desktop.generation.host import DocumentHost

    doc = Document(np.ascontiguousarray(data.astronaut()[:96, :128]))
    mask = np.zeros((96, 128), np.uint8)
    mask[30:60, 40:90] = 255
    doc.set_mask(mask)
    ctl = GenerationController(
        DocumentHost(lambda: doc, lambda e: None, overlay),
        bridge=EngineBridge(engine_factory=lambda r: engine),
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        query_device=False,
    )
    return doc, ctl


def test_step_previews_arrive_when_steps_are_slow(qtbot, tmp_path):
    """Every step's preview reaches the canvas overlay, mapped onto the region box."""
    overlay = OverlayRecorder()
    doc, ctl = _bare_controller(tmp_path, SlowStepsEngine(), overlay)
    try:
        ctl.panel.target_spin.setValue(64)
        job = ctl.generate()
        box = plan_for(ctl.model.jobs[job].request, doc.mask, SlowStepsEngine).box
        qtbot.waitUntil(lambda: ctl.tray.count() == 1, timeout=20000)
        previews = [c for c in overlay.shown if c[0] == box and c[1] != (box.width, box.height)]
        assert len(previews) >= 5  # one per step (6), none dropped by the throttle
    finally:
        ctl.shutdown()


class FailingEngine:
    """Fails the way a real run can (out of memory, NaNs), then works again."""

    name = "failing"
    native_resolution = True

    def __init__(self, errors):
        self.errors = list(errors)

    def run(self, request, image, mask, on_event, cancel):
        from inpaint_core.engines.base import EngineOutput

        if self.errors:
            raise self.errors.pop(0)
        return [EngineOutput(image.copy(), seed=None)]


def test_errors_are_messages_and_the_worker_stays_usable(qtbot, tmp_path):
    from inpaint_core.errors import InpaintError

    engine = FailingEngine([MemoryError(), InpaintError("the model produced NaNs: try float32")])
    _doc, ctl = _bare_controller(tmp_path, engine)
    try:
        for words in ("out of memory", "NaNs"):
            job = ctl.generate()
            qtbot.waitUntil(lambda j=job: j not in ctl.model.jobs, timeout=10000)
            assert words in ctl.panel.message_label.text()
            assert ctl.panel.message_label.isVisibleTo(ctl.panel)
        job = ctl.generate()
        qtbot.waitUntil(lambda: job not in ctl.model.jobs, timeout=10000)
        assert ctl.tray.count() == 1 and ctl.tray.list.item(0).text().startswith("classical")
        assert not ctl.panel.message_label.isVisibleTo(ctl.panel)
    finally:
        ctl.shutdown()


def test_parameters_from_an_a1111_png(studio, tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        "a stone wall, moss\nNegative prompt: text, watermark\n"
        "Steps: 30, Sampler: Euler a, CFG scale: 6, Seed: 987654, Size: 512x768, "
        "Model: sd-v1-5-inpainting, Denoising strength: 0.8, Mask blur: 6",
    )
    path = tmp_path / "a1111.png"
    Image.fromarray(data.coffee()[:64, :64]).save(path, pnginfo=info)
    req = studio.files.open_parameters(str(path), confirm=False)
    assert req is not None
    got = studio.panel.request()
    assert got.prompt == "a stone wall, moss" and got.negative_prompt == "text, watermark"
    assert got.steps == 30 and got.scheduler == "K_EULER_ANCESTRAL"
    assert got.seed == 987654 and (got.width, got.height) == (512, 768)
    assert got.strength == 0.8 and got.mask_feather == 6 and got.engine == "diffusion"
