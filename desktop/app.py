"""Entry point of the ``inpaint-studio`` GUI script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()
    from PySide6.QtWidgets import QApplication, QLabel

    from inpaint_core.resources import sample_photo

    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    label = QLabel(f"Inpaint Studio — {sample_photo().name}")
    label.resize(640, 480)
    label.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
