"""The studio keeps a 16-bit photo's bits: open a 16-bit PNG, Save As .ora, open it again, export a
PNG: untouched pixels are the scan's own 16-bit values."""

import cv2
import numpy as np

from inpaint_core.imaging.highbits import reduce16
from inpaint_core.inpaint import InpaintResult
from inpaint_core.masks import BBox
from inpaint_core.request import InpaintRequest
from inpaint_core.saving import open_document
from tests.desktop.conftest import drag, open_and_wait
from tests.test_sixteen_bit import deep_photo, png16, read16


def test_save_as_ora_and_reopen_keeps_a_16_bit_photo(window, qtbot, tmp_path):
    deep = deep_photo()
    scan = tmp_path / "scan16.png"
    scan.write_bytes(png16(deep))
    assert open_and_wait(qtbot, window, scan)
    assert np.array_equal(window.doc.photo.rgb, reduce16(deep))
    drag(qtbot, window.canvas, [(100, 100), (300, 120)])  # paint a mask
    target = tmp_path / "scan.ora"
    window.ask_project_path = lambda title="": target
    assert window.save_project_as()  # File ▸ Save As: written off the GUI thread
    assert window.saver.wait_idle()
    assert target.exists() and not window.unsaved.has_changes()
    assert np.array_equal(open_document(target).document.photo.rgb16(), deep)

    # open something else, then the project: the reopened document still has its 16 bits
    assert open_and_wait(qtbot, window, tmp_path / "scan16.png")
    assert open_and_wait(qtbot, window, target)
    assert window.doc.mask.any()
    assert np.array_equal(window.doc.photo.rgb16(), deep)
    # and its PNG export is 16-bit, every pixel the scan's
    out = window.exporter.export_picture(tmp_path / "export.png")
    assert out is not None
    exported = read16(out)
    assert exported.dtype == np.uint16 and np.array_equal(exported, deep)
    assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).dtype == np.uint16


def test_a_saved_candidate_of_a_16_bit_photo_is_16_bit(window, qtbot, tmp_path):
    deep = deep_photo()
    scan = tmp_path / "scan16.png"
    scan.write_bytes(png16(deep))
    assert open_and_wait(qtbot, window, scan)
    patch = np.full((30, 40, 3), 77, np.uint8)
    result = InpaintResult(
        patch=patch, box=BBox(10, 20, 50, 50), request=InpaintRequest(engine="classical"), seed=5
    )
    (cand,) = window.generation.model.candidates.add_results([result], "job", None, window.doc)
    out = window.generation.files.save_candidate(cand, str(tmp_path / "candidate.png"))
    saved = read16(out)
    expected = deep.copy()
    box = expected[20:50, 10:50]
    box[reduce16(box) != 77] = 77 * 257
    assert saved.dtype == np.uint16 and np.array_equal(saved, expected)
