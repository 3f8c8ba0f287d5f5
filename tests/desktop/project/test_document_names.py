"""The Save question and the Recover list name the document as the window title does: the photo's
name until it is saved as a project, the project file's name after."""

from PySide6.QtWidgets import QMessageBox

from desktop.window.recovery import describe
from desktop.window.unsaved import UnsavedWork
from inpaint_core.autosave import list_recoverable
from inpaint_core.project import read_info
from tests.desktop.conftest import drag

REAL_ASK = UnsavedWork.ask  # taken at import, before the autouse fixture answers "Discard"


def _ask_text(window, monkeypatch) -> str:
    texts: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: texts.append(box.text()) or 0)
    REAL_ASK(window.unsaved, "closing")  # the real question; no button clicked: Cancel
    return texts[0]


def test_save_question_and_autosave_name_the_document_as_the_title(
    window, qtbot, tmp_path, monkeypatch
):
    drag(qtbot, window.canvas, [(100, 100), (300, 100)])
    assert window.windowTitle().startswith("Sample photo")
    assert "“Sample photo”" in _ask_text(window, monkeypatch)

    target = tmp_path / "p.ora"
    window.ask_project_path = lambda title="": target
    assert window.save_project(wait=True)
    assert window.windowTitle().startswith("p.ora")
    drag(qtbot, window.canvas, [(100, 200), (300, 200)])  # unsaved again
    assert "“p.ora”" in _ask_text(window, monkeypatch)

    autosaver = window.autosave.autosaver
    path = autosaver.save_now(window.doc).result(60)
    assert read_info(path)["extra"]["name"] == "p.ora"
    # what a later start's Recover dialog lists for it (this session's own files are excluded
    # there; listing the folder without excluding any session shows what it would say)
    autosaver._session_lock.release()  # as if this session had died
    try:
        items = [i for i in list_recoverable(autosaver.folder) if i.path == path]
    finally:
        autosaver._session_lock.acquire()
    assert len(items) == 1 and describe(items[0]).startswith("p.ora\n")
    assert items[0].saved_path == str(target)
    # restored, it is the same document with the same title, its photo keeps its own name
    assert window.restore_recovered(items[0])
    assert window.windowTitle().startswith("p.ora") and window.doc.photo.name == "Sample photo"
