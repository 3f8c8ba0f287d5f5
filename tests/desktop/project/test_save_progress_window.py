"""Save As of a big project shows how far it is: the status bar's bar fills with a percentage,
off the GUI thread, and goes away when the file is written."""

import numpy as np
from skimage import data

from inpaint_core.document import Document
from inpaint_core.imaging import png_bands


def test_the_save_bar_shows_a_percentage_while_a_big_project_is_written(
    window, qtbot, tmp_path, monkeypatch
):
    monkeypatch.setattr(png_bands, "BAND_BYTES", 256 * 1024)
    big = Document(np.tile(data.astronaut(), (6, 8, 1)), name="big.png")  # 4096x3072, real
    big.mask[500:1500, 800:2400] = 255
    window.set_document(big)
    busy = window.saver.busy
    values: list[int] = []
    texts: list[str] = []

    def seen(value: int) -> None:
        values.append(value)
        texts.append(busy.label.toolTip())  # the label's whole text (it may be shortened)

    busy.bar.valueChanged.connect(seen)
    target = tmp_path / "big.ora"
    window.ask_project_path = lambda title="": target
    assert window.save_project_as()
    assert busy.bar.maximum() == 100  # a percentage, not a busy bar
    assert window.saver.wait_idle()
    assert target.exists() and not window.unsaved.has_changes()
    assert any(0 < v < 100 for v in values), values
    assert values == sorted(values)
    assert any(t.startswith("Saving big.ora… ") and t.endswith(" %") for t in texts[1:-1])
    assert not busy.active and busy.isHidden()
