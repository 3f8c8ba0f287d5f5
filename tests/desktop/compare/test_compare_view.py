"""The compare view driven like a user: streamed cells, synchronized zoom/pan, keys, A/B wipe, keep."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from skimage import data

pytest.importorskip("pytestqt")

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent, QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialogButtonBox  # noqa: E402

from desktop.compare.setup import SweepSetupDialog  # noqa: E402
from desktop.compare.view import CompareView  # noqa: E402
from desktop.engine_bridge import EngineBridge  # noqa: E402
from inpaint_core import imaging, metadata  # noqa: E402
from inpaint_core.request import InpaintRequest  # noqa: E402
from inpaint_core.sweep import plan_sweep, run_sweep  # noqa: E402
from tests.engines_for_tests import SolidFillEngine  # noqa: E402

BASE = InpaintRequest(engine="diffusion", model="x", scheduler="DDIM", steps=4, seed=100)
GREEN = (10, 200, 30)


@pytest.fixture(scope="module")
def inputs():
    photo = data.coffee()
    mask = np.zeros(photo.shape[:2], np.uint8)
    mask[150:230, 200:300] = 255
    return photo, mask


@pytest.fixture
def plan():
    return plan_sweep(BASE, seeds=3, schedulers=["DDIM", "K_EULER"])


@pytest.fixture
def cells(plan, inputs):
    return run_sweep(plan, *inputs, SolidFillEngine(native_resolution=False))


@pytest.fixture
def view(qtbot, plan, inputs):
    v = CompareView(inputs[0], plan, seconds_per_step=0.5, source_name="coffee")
    qtbot.addWidget(v)
    v.resize(1000, 640)
    v.show()
    qtbot.waitExposed(v)
    return v


def wheel(widget, pos: QPointF, delta: int = 240) -> None:
    ev = QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, ev)


def mouse(widget, kind, pos: QPointF, buttons=Qt.MouseButton.LeftButton) -> None:
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    ev = QMouseEvent(
        kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, ev)


def drag(widget, start: QPointF, end: QPointF) -> None:
    mouse(widget, QEvent.Type.MouseButtonPress, start)
    for t in (0.25, 0.5, 1.0):
        mouse(widget, QEvent.Type.MouseMove, start + (end - start) * t)
    mouse(widget, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def transforms(view):
    return [pane.view_transform() for pane in view.cells]


def test_header_shows_count_and_estimate_before_start(view):
    assert view.summary_label.text().startswith("6 images (2 rows × 3 seeds), about")
    assert [lab.text() for lab in view.col_labels] == ["seed 100", "seed 101", "seed 102"]
    assert [lab.text() for lab in view.row_labels] == ["DDIM", "K_EULER"]


def test_cells_stream_into_placeholders(view, cells):
    assert all(p.pixmap is None for p in view.cells)
    view.add_cells(cells[:3])
    assert [p.pixmap is not None for p in view.cells] == [True] * 3 + [False] * 3
    box = cells[0].result.box
    assert (view.cells[0].pixmap.width(), view.cells[0].pixmap.height()) == (box.width, box.height)
    view.add_cells(cells[3:])
    assert all(p.pixmap is not None for p in view.cells)


def test_wheel_on_one_cell_zooms_all_and_drag_pans_all(view, cells):
    view.add_cells(cells)
    before = transforms(view)
    assert all(t == before[0] for t in before)
    pane = view.cells[4]
    wheel(pane, QPointF(pane.width() * 0.3, pane.height() * 0.6), 240)
    after = transforms(view)
    assert after[0] != before[0]
    assert after[0].m11() > before[0].m11() * 1.3  # zoomed in
    assert all(t == after[0] for t in after)  # ... every cell, identically
    # the image point under the cursor stayed under the cursor
    inv0, _ = before[4].inverted()
    q = inv0.map(QPointF(pane.width() * 0.3, pane.height() * 0.6))
    p = after[4].map(q)
    assert abs(p.x() - pane.width() * 0.3) < 1e-6 and abs(p.y() - pane.height() * 0.6) < 1e-6

    # drag on another cell pans every cell by the same amount
    other = view.cells[1]
    drag(other, QPointF(50, 50), QPointF(90, 70))
    panned = transforms(view)
    assert panned[0] != after[0]
    assert abs(panned[0].dx() - after[0].dx() - 40) < 1e-6
    assert abs(panned[0].dy() - after[0].dy() - 20) < 1e-6
    assert all(t == panned[0] for t in panned)
    assert not view.is_large  # a drag is not a click

    view.view.reset()
    assert transforms(view)[0] == before[0]


def test_keyboard_steps_through_cells_and_opens_the_large_view(qtbot, view, cells):
    view.add_cells(cells)
    view.setFocus()
    assert view.current == 0
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)  # clamps at the last column
    assert view.current == 2
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.current == 5 and view.cells[5].selected and not view.cells[2].selected
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.current == 4
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert view.is_large
    assert "K_EULER" in view.large_title.text() and "seed 101" in view.large_title.text()
    qtbot.keyClick(view, Qt.Key.Key_Right)  # in the large view: next cell in reading order
    assert view.current == 5 and "seed 102" in view.wipe.b_label
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert not view.is_large and view.current == 5


def test_click_opens_a_b_wipe_against_the_original(qtbot, view, cells, inputs):
    photo, _ = inputs
    view.add_cells(cells)
    pane = view.cells[3]
    mouse(pane, QEvent.Type.MouseButtonPress, QPointF(40, 40))
    mouse(pane, QEvent.Type.MouseButtonRelease, QPointF(40, 40), Qt.MouseButton.NoButton)
    assert view.is_large and view.current == 3
    wipe = view.wipe
    assert wipe.original is not None and wipe.pixmap is not None
    qtbot.waitExposed(wipe)

    # a point inside the mask: green (the result) right of the divider, coffee (original) left
    box = cells[3].result.box
    q = QPointF(250 - box.x0, 190 - box.y0)
    at = wipe.view_transform().map(q)

    def colour_at_mask_point():
        img = wipe.grab().toImage()
        c = img.pixelColor(int(at.x()), int(at.y()))
        return c.red(), c.green(), c.blue()

    wipe.set_divider(0.0)  # all B
    assert colour_at_mask_point() == GREEN
    wipe.set_divider(1.0)  # all A
    shown = np.array(colour_at_mask_point())
    # the photo there (smooth scaling blends a few neighbours, so allow a little)
    expected = photo[188:193, 248:253].reshape(-1, 3).astype(int)
    assert np.abs(expected - shown).sum(axis=1).min() <= 12

    # the divider is draggable
    wipe.set_divider(0.5)
    mid = QPointF(wipe.width() / 2, wipe.height() / 2)
    drag(wipe, mid, QPointF(wipe.width() * 0.8, wipe.height() / 2))
    assert wipe.divider == pytest.approx(0.8, abs=0.01)
    assert view.is_large  # dragging the divider is not a click back to the grid


def test_keep_emits_each_cell_for_its_own_layer(qtbot, view, cells):
    view.add_cells(cells)
    kept = []
    view.cell_kept.connect(kept.append)
    view.select(1)
    qtbot.keyClick(view, Qt.Key.Key_K)
    view.select(4)
    view.keep_current()
    assert [k.cell.index for k in kept] == [1, 4]
    assert kept[0] is cells[1] and kept[1].result.patch is cells[4].result.patch
    assert view.cells[1].kept and view.cells[4].kept and not view.cells[0].kept


def test_keep_does_nothing_on_an_unfinished_cell(view, cells):
    view.add_cells(cells[:3])
    kept = []
    view.cell_kept.connect(kept.append)
    view.select(4)
    assert view.keep_current() is None and kept == []
    assert not view.keep_button.isEnabled()


def test_export_sheet_and_cells_with_parameters(view, cells, inputs, tmp_path):
    view.add_cells(cells)
    sheet = view.export_contact_sheet(tmp_path / "sheet.png")
    assert imaging.load_image(sheet).size[0] > 3 * 200
    paths = view.export_cells(tmp_path / "cells")
    assert len(paths) == 6
    loaded = imaging.load_image(paths[4])
    assert np.array_equal(loaded.rgb, cells[4].result.composite(inputs[0]))
    req = metadata.request_from_png_text(loaded.text)
    assert req.scheduler == "K_EULER" and req.seed == 101 and req.steps == 4


class CancelAwareEngine(SolidFillEngine):
    """Row 1 runs at once; row 2 blocks until cancelled (so the test controls the timing)."""

    def run(self, request, image, mask, on_event, cancel):
        if self.calls:
            deadline = time.monotonic() + 10
            while not cancel.cancelled and time.monotonic() < deadline:
                time.sleep(0.01)
            cancel.raise_if_cancelled()
        return super().run(request, image, mask, on_event, cancel)


def test_sweep_runs_on_the_bridge_and_cancel_keeps_finished_cells(qtbot, plan, inputs):
    photo, mask = inputs
    engine = CancelAwareEngine(native_resolution=False)
    bridge = EngineBridge(engine_factory=lambda _req: engine)
    try:
        view = CompareView(photo, plan)
        qtbot.addWidget(view)
        view.show()
        job = view.start(bridge, photo, mask)
        assert job and view.running and view.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: len(view.results) == 3, timeout=10_000)
        assert view.cells[3].status == "running…"
        with qtbot.waitSignal(view.sweep_done, timeout=10_000) as done:
            view.cancel()
        assert done.args == [3]
        assert sorted(view.results) == [0, 1, 2]
        assert "cancelled" in view.status_label.text() and "3 of 6" in view.status_label.text()
        assert view.cells[4].status == "not run" and not view.running
    finally:
        bridge.shutdown()


def test_sweep_on_the_bridge_fills_every_cell(qtbot, plan, inputs):
    photo, mask = inputs
    engine = SolidFillEngine(native_resolution=False)
    bridge = EngineBridge(engine_factory=lambda _req: engine)
    try:
        view = CompareView(photo, plan)
        qtbot.addWidget(view)
        with qtbot.waitSignal(view.sweep_done, timeout=10_000):
            view.start(bridge, photo, mask)
        assert len(view.results) == 6 and len(engine.calls) == 2
        assert view.progress.value() == 1000 and "6 images in" in view.status_label.text()
    finally:
        bridge.shutdown()


def test_setup_dialog_builds_the_plan_and_refuses_bad_axes(qtbot):
    dlg = SweepSetupDialog(BASE, seconds_per_step=0.2)
    qtbot.addWidget(dlg)
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dlg.seeds.setText("3")
    dlg.set_schedulers(["DDIM", "k_euler"])
    dlg.steps.setText("4, 8")
    plan = dlg.plan()
    assert plan is not None and len(plan.cells) == 12 and ok.isEnabled()
    assert dlg.summary.text().startswith("12 images (4 rows × 3 seeds), about")
    dlg.seeds.setText("5, x")
    assert dlg.plan() is None and not ok.isEnabled() and "seeds" in dlg.summary.text()
    dlg.seeds.setText("7, 9")
    dlg.guidance.setText("60")
    assert dlg.plan() is None and "guidance_scale" in dlg.summary.text()
    dlg.guidance.setText("")
    assert dlg.plan() is not None and [c.request.seed for c in dlg.plan().cells[:2]] == [7, 9]


# -- in the studio window ---------------------------------------------------------------------------
def test_compare_action_in_the_window_runs_a_sweep_and_keeps_cells_as_layers(qtbot, window):
    from PySide6.QtGui import QAction

    action = window.findChild(QAction, "compareAction")
    assert action is not None and action.shortcut().toString() == "Ctrl+Shift+C"
    launcher = window.compare
    doc = window.doc
    assert launcher.open(exec_dialog=False) is None  # no mask yet: refused with a message
    doc.mask[100:160, 150:230] = 255
    base = InpaintRequest(engine="classical", seed=5)
    plan = plan_sweep(base, seeds=2, strengths=[0.5, 1.0])
    view = launcher.open(plan=plan, exec_dialog=False)
    assert view is not None and view.isWindow() and view.isVisible()
    with qtbot.waitSignal(view.sweep_done, timeout=30_000):
        pass
    assert len(view.results) == 4
    layers_before = len(doc.result_layers)
    view.select(0)
    view.keep_current()
    view.select(3)
    view.keep_current()
    assert len(doc.result_layers) == layers_before + 2  # each kept cell is its own layer
    kept = doc.result_layers[-2:]
    assert {layer.name for layer in kept} == {plan.cells[0].label, plan.cells[3].label}
    assert kept[0].box == view.results[0].result.box
    window.undo_stack.undo()  # undoable, one step per kept cell
    assert len(doc.result_layers) == layers_before + 1
    view.close()


def test_view_keys_win_over_application_shortcuts(qtbot, window):
    """Esc is the window's app-wide "cancel generation"; in the large view it means "back"."""
    from PySide6.QtGui import QAction, QKeySequence

    fired = []
    esc = QAction("cancel generation", window)
    esc.setShortcut(QKeySequence(Qt.Key.Key_Escape))
    esc.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    esc.triggered.connect(lambda: fired.append(1))
    window.addAction(esc)
    window.doc.mask[100:160, 150:230] = 255
    plan = plan_sweep(InpaintRequest(engine="classical", seed=5), seeds=2)
    view = window.compare.open(plan=plan, exec_dialog=False)
    with qtbot.waitSignal(view.sweep_done, timeout=30_000):
        pass
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view, timeout=2000)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert view.is_large
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert not view.is_large and fired == []
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # in the grid, Esc is the application's again
    assert fired == [1]
    view.close()


def test_estimate_is_learned_from_finished_results(cells):
    from dataclasses import replace

    from desktop.compare.action import SpeedMemory
    from inpaint_core.sweep import PRIOR_SECONDS_PER_STEP_512

    mem = SpeedMemory()
    base = InpaintRequest(engine="diffusion", model="m", steps=10, target_size=512)
    assert mem.seconds_per_step(base) == pytest.approx(PRIOR_SECONDS_PER_STEP_512["cpu"])
    assert mem.seconds_per_step(base, (256, 256), "cuda") == pytest.approx(
        PRIOR_SECONDS_PER_STEP_512["cuda"] / 4
    )
    assert mem.seconds_per_step(InpaintRequest()) == 0.5  # classical: per row
    # one engine call made 4 images of 256² in 10 steps in 17 s: 0.5 s per image-step there
    # (a batch of 4 costs 1 + 0.8 * 3 = 3.4 single images, as SweepPlan.estimate_seconds assumes)
    info = {"seconds": 17.0, "steps": 10, "grid": (256, 256)}
    mem.learn([replace(c, result=replace(c.result, request=base, info=info)) for c in cells[:4]])
    assert mem.seconds_per_step(base, (256, 256)) == pytest.approx(0.5)
    assert mem.seconds_per_step(base) == pytest.approx(2.0)  # 4x the pixels at 512²


def test_compare_uses_the_generation_panel_and_bridge_and_sits_in_its_menu(
    qtbot, window, monkeypatch
):
    from PySide6.QtWidgets import QDialog, QMenu

    import desktop.compare.action as compare_action

    QApplication.processEvents()  # the menu placement waits for the generation part's menu
    gen = window.generation
    menus = [m for m in window.menuBar().findChildren(QMenu) if m.objectName() == "generateMenu"]
    assert menus and window.compare.action in menus[0].actions()
    assert window.compare.bridge() is gen.bridge  # ONE worker thread, ONE loaded model

    gen.panel.set_request(InpaintRequest(engine="classical", seed=77, mask_padding=16))
    window.doc.mask[100:160, 150:230] = 255

    def accept(dialog):  # the user types 3 seeds and presses Start
        dialog.seeds.setText("3")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(compare_action.SweepSetupDialog, "exec", accept)
    view = window.compare.open()
    assert view is not None
    assert [c.request.seed for c in view.plan.cells] == [77, 78, 79]
    assert view.plan.base.mask_padding == 16 and view.plan.base.engine == "classical"
    with qtbot.waitSignal(view.sweep_done, timeout=30_000):
        pass
    assert len(view.results) == 3
    view.close()


def test_flagged_cells_stay_hidden_until_revealed(qtbot, view, cells):
    from dataclasses import replace

    flagged = replace(cells[1], result=replace(cells[1].result, nsfw_flagged=True))
    view.add_cells([cells[0], flagged])
    assert view.cells[0].pixmap is not None and view.cells[1].pixmap is None
    assert "safety checker" in view.cells[1].status
    view.open_large(1)
    assert view.wipe.pixmap is None and "R reveals" in view.large_title.text()
    qtbot.keyClick(view, Qt.Key.Key_R)
    assert view.wipe.pixmap is not None and view.cells[1].pixmap is not None


def test_esc_from_the_grid_or_ctrl_w_closes_the_compare_window(view, qtbot, cells):
    view.add_cells(cells[:1])
    view.open_large()
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # first Esc: back from the large view, still open
    assert view.isVisible() and not view.is_large
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert not view.isVisible()
    view.show()
    qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not view.isVisible()


def test_cells_of_a_16_bit_photo_export_16_bit(qtbot, plan, inputs, tmp_path):
    from desktop.compare.action import _Picture
    from inpaint_core.imaging.highbits import HighBits

    photo, mask = inputs
    rng = np.random.default_rng(0)
    deep = np.clip(photo.astype(np.int64) * 257 + rng.integers(-128, 129, photo.shape), 0, 65535)
    deep = deep.astype(np.uint16)
    picture = _Picture(imaging.reduce16(deep), None, HighBits(deep))
    v = CompareView(picture, plan, seconds_per_step=0.5, source_name="coffee")
    qtbot.addWidget(v)
    v.add_cells(run_sweep(plan, picture.rgb, mask, SolidFillEngine(native_resolution=False)))
    path = v.export_cells(tmp_path / "cells")[0]
    saved = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)[..., ::-1]
    far = np.ones(mask.shape, bool)  # away from the mask, its grow and its feather
    far[150 - 32 : 230 + 32, 200 - 32 : 300 + 32] = False
    assert saved.dtype == np.uint16 and np.array_equal(saved[far], deep[far])
    assert not np.array_equal(saved[mask > 0], deep[mask > 0])
