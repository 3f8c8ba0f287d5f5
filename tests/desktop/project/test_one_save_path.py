"""The window writes user files only through the core's one save path (``inpaint_core.saving``,
``inpaint_core.document`` layer/mask exporters, ``contact_sheet``): a second writer in desktop/
fails here."""

import ast
from pathlib import Path

DESKTOP = Path(__file__).resolve().parents[3] / "desktop"
#: lower-level writers the window must not call itself (they are behind save_document & co)
LOW_LEVEL = {"save_png", "export_picture", "atomic_write", "atomic_write_bytes", "atomic_open"}
ALLOWED = {
    ("window/main_window.py", "self.brush.save"),  # brush settings into QSettings, not a file
    ("window/main_window.py", "self.saver.save"),  # ProjectSaver: prepare_save + a worker
    ("window/unsaved.py", "self.saver.save"),
    ("window/projects.py", "self.save"),  # ProjectSaver saving again (SnapshotChanged)
}
TEST_ONLY = {"testhooks.py"}  # writes a test's report, never a user's file


def test_the_window_has_no_second_writer() -> None:
    offenders = []
    for path in DESKTOP.rglob("*.py"):
        rel = path.relative_to(DESKTOP).as_posix()
        if rel in TEST_ONLY:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                bad = [a.name for a in node.names if a.name in LOW_LEVEL]
                offenders += [f"{rel}:{node.lineno} imports {b}" for b in bad]
                if node.module and node.module.startswith("PIL"):
                    offenders.append(f"{rel}:{node.lineno} imports PIL")
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            own_method = ast.unparse(func).startswith("self.")  # e.g. the window's export_picture
            if name in ("write_bytes", "write_text", "imwrite", "tofile") or (
                name in LOW_LEVEL and not own_method
            ):
                offenders.append(f"{rel}:{node.lineno} {name}")
            elif name == "save" and node.args:
                if (rel, ast.unparse(func)) not in ALLOWED:
                    offenders.append(f"{rel}:{node.lineno} {ast.unparse(func)}(...)")
            elif name == "open" and len(node.args) >= 2:
                mode = node.args[1]
                if isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in "wax"):
                    offenders.append(f"{rel}:{node.lineno} open(..., {mode.value!r})")
    assert offenders == [], "save through inpaint_core.saving: " + ", ".join(offenders)


def test_the_check_catches_a_writer(tmp_path) -> None:
    """The scan above can fail: a QImage.save in a desktop module is reported."""
    fake = tmp_path / "desktop"
    fake.mkdir()
    (fake / "bad.py").write_text("def f(img, path):\n    img.save(path)\n")
    globals()["DESKTOP"], old = fake, DESKTOP
    try:
        try:
            test_the_window_has_no_second_writer()
        except AssertionError as exc:
            assert "bad.py:2 img.save" in str(exc)
        else:
            raise AssertionError("the scan missed img.save(path)")
    finally:
        globals()["DESKTOP"] = old
