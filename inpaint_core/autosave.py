"""Autosave and crash recovery, without Qt: work is never lost.

An :class:`Autosaver` watches open documents. Every change (a stroke, a mask operation, a layer
added, moved or changed) marks its document as having unsaved changes; once the changes have
settled and the interval has passed (60 s by default, ``$INPAINT_STUDIO_AUTOSAVE_SECONDS``), the
next :meth:`Autosaver.tick` takes a snapshot and a background thread writes it as an OpenRaster
project into the autosave folder (``platformdirs.user_data_dir("inpaint-studio")/autosave``, which
honours ``$XDG_DATA_HOME`` on Linux). An explicit save (:meth:`Autosaver.mark_saved`), closing the
document (:meth:`Autosaver.forget`) or a clean exit (:meth:`Autosaver.close`) removes the files.

Painting never stutters because the GUI thread only *takes* the snapshot, and that is cheap:

- result layers are never written in place (every change makes a new layer), so the snapshot
  holds references to them;
- the mask is painted in place, so the autosaver keeps its own copy of it and refreshes only the
  boxes that changed since the last snapshot (``mask_changed`` events), never while the writer
  reads that copy;
- the photo is written in place only by merges/flattens, which bump
  :attr:`Document.photo_revision`; the writer reads the live photo and checks the revision after
  encoding (a seqlock): if it moved, that write is abandoned and retried at the next tick.
- PNG encodings of unchanged layers (the photo, the flattened picture) are reused, so an 8K photo
  is encoded once, not every minute.

Crash recovery: each running session holds a lock file (``sessions/<id>.lock``, an OS file lock:
the OS releases it when the process dies, even by SIGKILL). Autosave files are named after their
session. :func:`list_recoverable` lists the autosaves of sessions that are no longer running:
after an unclean exit they are there; after a clean exit :meth:`Autosaver.close` removed them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
from filelock import FileLock, Timeout

from .candidates import Candidate
from .document import Document
from .errors import InpaintError
from .files import TEMP_MARK, FileWriteError, atomic_write_bytes, describe_os_error
from .masks import BBox
from .project import (
    Project,
    ProjectError,
    ProjectSnapshot,
    SnapshotChanged,
    load_project,
    merged_key,
    read_info,
    read_thumbnail,
    snapshot,
    write_snapshot,
)

APP_NAME = "inpaint-studio"
INTERVAL_ENV = "INPAINT_STUDIO_AUTOSAVE_SECONDS"
DEFAULT_INTERVAL_S = 60.0
SETTLE_S = 2.0
"""Changes have settled when nothing changed for this long (capped by the interval)."""

COMPRESS_LEVEL = 1
"""zlib level of autosaves: fast (an 8K mask in about a second), a little bigger than a Save."""


def autosave_folder() -> Path:
    """``user_data_dir("inpaint-studio")/autosave`` (``$XDG_DATA_HOME`` honoured; read each call)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "autosave"


def interval_from_env(default: float = DEFAULT_INTERVAL_S) -> float:
    """``$INPAINT_STUDIO_AUTOSAVE_SECONDS`` (a positive number of seconds) or ``default``."""
    raw = os.environ.get(INTERVAL_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value != value or value == float("inf"):
        raise InpaintError(f"{INTERVAL_ENV} must be a positive number of seconds, got {raw!r}")
    return value


# -- sessions ------------------------------------------------------------------------------------


def _lock_path(folder: Path, session: str) -> Path:
    return folder / "sessions" / f"{session}.lock"


def _session_alive(folder: Path, session: str) -> bool:
    """True while the session's process holds its lock (the OS drops it when the process dies)."""
    path = _lock_path(folder, session)
    if not path.exists():
        return False
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False


def _session_of(path: Path) -> str:
    return path.name.split("--", 1)[0]


@dataclass(frozen=True)
class Recoverable:
    """An autosaved document of a session that ended without a clean exit."""

    path: Path  #: the autosaved .ora
    name: str  #: the document's name (its photo's)
    saved_at: datetime  #: when it was autosaved (UTC)
    thumbnail: Path | None  #: a PNG of at most 256 px, for the recovery list
    saved_path: str | None  #: where the user last saved it (for File ▸ Save), if anywhere
    session: str

    def load(self) -> Project:
        """The project (document + candidates) as autosaved."""
        return load_project(self.path)

    def discard(self) -> None:
        """Remove the autosave (and its thumbnail); never raises."""
        for p in (self.path, self.thumbnail):
            if p is not None:
                with contextlib.suppress(OSError):
                    p.unlink()


def _thumb_path(ora: Path) -> Path:
    return ora.with_suffix(".thumb.png")


def list_recoverable(
    folder: str | PathLike[str] | None = None, *, exclude_session: str | None = None
) -> list[Recoverable]:
    """The autosaves left by sessions that are not running any more, newest first.

    Empty after clean exits. Also tidies the folder: dead sessions' half-written temp files and
    the lock files of dead sessions that left nothing behind are removed (a running session's are
    left alone). Unreadable autosaves are skipped.
    """
    root = Path(folder) if folder is not None else autosave_folder()
    if not root.is_dir():
        return []
    found: list[Recoverable] = []
    alive: dict[str, bool] = {}
    for tmp in root.glob(f".*{TEMP_MARK}*.tmp"):  # a dead session's half-written autosave
        session = _session_of(Path(tmp.name[1:]))
        if session != exclude_session and not alive.setdefault(
            session, _session_alive(root, session)
        ):
            with contextlib.suppress(OSError):
                tmp.unlink()
    for ora in sorted(root.glob("*.ora")):
        session = _session_of(ora)
        if session == exclude_session:
            continue
        if session not in alive:
            alive[session] = _session_alive(root, session)
        if alive[session]:
            continue
        try:
            info = read_info(ora)
        except (ProjectError, OSError):
            continue
        extra = info.get("extra") if isinstance(info.get("extra"), dict) else {}
        try:
            saved_at = datetime.fromisoformat(
                str(extra.get("autosaved_at") or info.get("saved_at"))
            )
        except ValueError:
            saved_at = datetime.fromtimestamp(ora.stat().st_mtime, UTC)
        thumb = _thumb_path(ora)
        if not thumb.exists():  # killed between the project and its thumbnail: take it out
            data = read_thumbnail(ora)
            try:
                thumb = atomic_write_bytes(thumb, data) if data else None  # type: ignore[assignment]
            except OSError:
                thumb = None  # type: ignore[assignment]
        found.append(
            Recoverable(
                path=ora,
                name=str(extra.get("name") or info.get("name") or ora.stem),
                saved_at=saved_at,
                thumbnail=thumb,
                saved_path=extra.get("saved_path") or None,
                session=session,
            )
        )
    sessions = root / "sessions"
    if sessions.is_dir():
        with_files = {_session_of(p) for p in root.glob("*.ora")}
        for lock in sessions.glob("*.lock"):
            s = lock.stem
            if s != exclude_session and s not in with_files and not _session_alive(root, s):
                with contextlib.suppress(OSError):
                    lock.unlink()
    found.sort(key=lambda r: r.saved_at, reverse=True)
    return found


# -- the autosaver -------------------------------------------------------------------------------


@dataclass(eq=False)
class _Watched:
    doc: Document
    candidates: Callable[[], Iterable[Candidate]]
    key: str
    name: str
    saved_path: str | None
    mask_copy: np.ndarray
    mask_box: BBox | None = None  # changed since the copy was refreshed
    dirty: bool = False
    changes: int = 0
    dirty_since: float = 0.0
    last_change: float = 0.0
    busy: bool = False  # a write is in flight (the writer reads mask_copy)
    written: bool = False  # an autosave file exists
    png_cache: dict[Any, bytes] = field(default_factory=dict)
    unhook: list[Callable[[], None]] = field(default_factory=list)


def _union(a: BBox | None, b: BBox) -> BBox:
    if a is None:
        return b
    return BBox(min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1))


class Autosaver:
    """Autosaves watched documents with unsaved changes; see the module docstring.

    The GUI calls :meth:`tick` from a timer (every :attr:`poll_s` seconds) on the thread that edits
    the documents; everything slow happens on one background thread. ``on_saved(document, path)``
    and ``on_error(document, exception)`` are called **on that background thread** (a GUI
    marshals them to its own thread). ``clock`` is for tests.
    """

    def __init__(
        self,
        folder: str | PathLike[str] | None = None,
        interval_s: float | None = None,
        *,
        settle_s: float = SETTLE_S,
        on_saved: Callable[[Document, Path], None] | None = None,
        on_error: Callable[[Document, BaseException], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = Path(folder) if folder is not None else autosave_folder()
        self.interval_s = float(interval_s) if interval_s is not None else interval_from_env()
        self.settle_s = min(float(settle_s), self.interval_s)
        self.on_saved = on_saved
        self.on_error = on_error
        self._clock = clock
        self._lock = threading.Lock()
        self._watched: dict[int, _Watched] = {}
        self._pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="autosave", initializer=_lower_priority
        )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.session = f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        lock_path = _lock_path(self.folder, self.session)
        try:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            self._session_lock = FileLock(lock_path, timeout=0)
            self._session_lock.acquire()
        except OSError as exc:
            raise FileWriteError(
                f"{self.folder}: cannot keep autosaves here ({describe_os_error(exc)})"
            ) from None
        self._closed = False
        self._stopping = threading.Event()

    @property
    def poll_s(self) -> float:
        """How often to call :meth:`tick` (often enough to notice the settle time)."""
        return max(0.05, min(1.0, self.settle_s / 2 if self.settle_s else self.interval_s / 4))

    # -- documents ------------------------------------------------------------------------------

    def watch(
        self,
        document: Document,
        candidates: Iterable[Candidate] | Callable[[], Iterable[Candidate]] = (),
        *,
        name: str | None = None,
        saved_path: str | PathLike[str] | None = None,
        dirty: bool = False,
    ) -> None:
        """Start watching ``document`` (``candidates``: its history, or a function giving it).
        ``dirty=True`` when it already has unsaved changes (e.g. it was just restored)."""
        if id(document) in self._watched:
            return
        cands = candidates if callable(candidates) else (lambda c=candidates: c)
        w = _Watched(
            doc=document,
            candidates=cands,  # type: ignore[arg-type]
            key=uuid.uuid4().hex[:12],
            name=name or document.photo.name,
            saved_path=str(saved_path) if saved_path else None,
            mask_copy=document.mask.copy(),  # once, when the document arrives
        )

        def on_mask(box: BBox) -> None:
            with self._lock:
                w.mask_box = _union(w.mask_box, box)
            self._changed(w)

        def on_any(*_args: Any) -> None:
            self._changed(w)

        ev, lev = document.events, document.layers.events
        hooks = [
            (ev.mask_changed, on_mask),
            (ev.pixels_changed, on_any),
            (lev.inserted, on_any),
            (lev.removed, on_any),
            (lev.moved, on_any),
            (lev.changed, on_any),
        ]
        hist_events = getattr(candidates, "events", None)  # a CandidateHistory: follow it too
        if hist_events is not None:
            hooks += [(hist_events.inserted, on_any), (hist_events.removed, on_any)]
            hooks += [(hist_events.changed, on_any)]
        for emitter, cb in hooks:
            emitter.connect(cb)
            w.unhook.append(lambda e=emitter, c=cb: e.disconnect(c))
        self._watched[id(document)] = w
        if dirty:
            self._changed(w)

    def _changed(self, w: _Watched) -> None:
        now = self._clock()
        with self._lock:
            if not w.dirty:
                w.dirty_since = now
            w.dirty = True
            w.changes += 1
            w.last_change = now

    def mark_changed(self, document: Document) -> None:
        """Unsaved changes the document's events did not show (e.g. a renamed document)."""
        w = self._watched.get(id(document))
        if w is not None:
            self._changed(w)

    def is_dirty(self, document: Document) -> bool:
        w = self._watched.get(id(document))
        return bool(w and w.dirty)

    def mark_saved(self, document: Document, path: str | PathLike[str] | None = None) -> None:
        """The user saved ``document`` (at ``path``): no unsaved changes, its autosave removed."""
        w = self._watched.get(id(document))
        if w is None:
            return
        with self._lock:
            w.dirty = False
            w.changes += 1  # a write in flight now is stale: it must not count as "saved"
            if path is not None:
                w.saved_path = str(path)
        self._after_writes(lambda: self._remove_files(w))

    def forget(self, document: Document) -> None:
        """The document is closed (its changes saved or discarded): stop watching, remove files."""
        w = self._watched.pop(id(document), None)
        if w is None:
            return
        for undo in w.unhook:
            undo()
        self._after_writes(lambda: self._remove_files(w))

    def rename(self, document: Document, name: str) -> None:
        w = self._watched.get(id(document))
        if w is not None:
            w.name = name

    # -- saving ---------------------------------------------------------------------------------

    def path_for(self, document: Document) -> Path | None:
        w = self._watched.get(id(document))
        return None if w is None else self._ora(w)

    def _ora(self, w: _Watched) -> Path:
        return self.folder / f"{self.session}--{w.key}.ora"

    def due(self, now: float | None = None) -> list[Document]:
        """The watched documents an autosave is due for now."""
        now = self._clock() if now is None else now
        out = []
        with self._lock:
            for w in self._watched.values():
                if not w.dirty or w.busy or w.doc.stroke_active:
                    continue
                waited = now - w.dirty_since
                settled = now - w.last_change >= self.settle_s
                if waited >= self.interval_s and (settled or waited >= 2 * self.interval_s):
                    out.append(w.doc)
        return out

    def tick(self, now: float | None = None) -> list[Future[Path | None]]:
        """Call from the GUI's timer: start the autosaves that are due (returns their futures)."""
        if self._closed:
            return []
        return [self._start(self._watched[id(doc)]) for doc in self.due(now)]

    def save_now(self, document: Document) -> Future[Path | None]:
        """Autosave ``document`` at once (changes or not), e.g. before something risky."""
        w = self._watched[id(document)]
        if w.busy:
            return self._pool.submit(lambda: self._ora(w))  # queued behind the running write
        return self._start(w)

    def take_snapshot(self, document: Document) -> ProjectSnapshot:
        """The GUI-thread part of an autosave alone (for benchmarks): returns the snapshot."""
        return self._snapshot(self._watched[id(document)])

    def _snapshot(self, w: _Watched) -> ProjectSnapshot:
        doc = w.doc
        with self._lock:
            box, w.mask_box = w.mask_box, None
        if box is not None:  # refresh our copy of the mask where it changed: boxes, not the image
            w.mask_copy[box.slices] = doc.mask[box.slices]
        rev = doc.photo_revision
        extra = {
            "autosave": True,
            "autosaved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "name": w.name,
            "saved_path": w.saved_path,
            "session": self.session,
        }
        return snapshot(
            doc,
            list(w.candidates()),
            extra=extra,
            mask=w.mask_copy,
            photo_guard=lambda: doc.photo_revision == rev and rev % 2 == 0,
            photo_key=("photo", rev),
        )

    def _start(self, w: _Watched) -> Future[Path | None]:
        snap = self._snapshot(w)
        with self._lock:
            w.busy = True
            changes = w.changes
        return self._pool.submit(self._write, w, snap, changes)

    def _write(self, w: _Watched, snap: ProjectSnapshot, changes: int) -> Path | None:
        path = self._ora(w)
        try:
            write_snapshot(
                snap,
                path,
                compress_level=COMPRESS_LEVEL,
                png_cache=w.png_cache,
                should_stop=self._stopping.is_set,
            )
            thumb = read_thumbnail(path)
            if thumb:
                atomic_write_bytes(_thumb_path(path), thumb)
        except SnapshotChanged:
            with self._lock:
                w.busy = False
            return None  # still dirty: the next tick tries again
        except Exception as exc:  # disk full, permission...: say so, keep the document dirty
            with self._lock:
                w.busy = False
            if self.on_error is not None:
                self.on_error(w.doc, exc)
            return None
        keep = {k for k in w.png_cache if _in_use(k, snap)}
        for k in list(w.png_cache):
            if k not in keep:
                del w.png_cache[k]
        with self._lock:
            w.busy = False
            w.written = True
            if w.changes == changes:
                w.dirty = False
            stale = id(w.doc) not in self._watched or (not w.dirty and w.changes != changes)
        if stale:  # saved or closed while we wrote: that write must not be recovered
            self._remove_files(w)
            return None
        if self.on_saved is not None:
            self.on_saved(w.doc, path)
        return path

    def _remove_files(self, w: _Watched) -> None:
        path = self._ora(w)
        for p in (path, _thumb_path(path)):
            with contextlib.suppress(OSError):
                p.unlink()
        w.written = False

    def _after_writes(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` after the writes already queued (in order, on the writer thread)."""
        if self._closed:
            fn()
        else:
            self._pool.submit(fn)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the writes queued so far are done; False on timeout."""
        if self._closed:
            return True
        try:
            self._pool.submit(lambda: None).result(timeout)
        except TimeoutError:
            return False
        return True

    # -- recovery and exit ----------------------------------------------------------------------

    def recoverable(self) -> list[Recoverable]:
        """What earlier sessions left after an unclean exit (never this session's own files)."""
        return list_recoverable(self.folder, exclude_session=self.session)

    def restore(self, item: Recoverable) -> Project:
        """Open a recoverable document and adopt it: it is watched (with unsaved changes), written
        at once as this session's autosave, and then the old autosave is discarded."""
        project = item.load()
        doc = project.document
        name = str(project.extra.get("name") or item.name)
        self.watch(doc, project.candidates, name=name, saved_path=item.saved_path, dirty=True)
        self.save_now(doc)
        self._after_writes(item.discard)
        return project

    def close(self, *, clean: bool = True) -> None:
        """End the session. ``clean=True`` (the user closed the app, every document settled):
        remove this session's autosaves and its lock, so the next start offers nothing."""
        if self._closed:
            return
        if clean:
            self._stopping.set()  # a write in flight stops at its next layer: nothing to keep
        self._pool.shutdown(wait=True)  # queued removals still run; writes stop at once
        self._closed = True
        for w in self._watched.values():
            for undo in w.unhook:
                undo()
        if clean:
            for w in self._watched.values():
                self._remove_files(w)
        self._session_lock.release()
        if clean:
            with contextlib.suppress(OSError):
                _lock_path(self.folder, self.session).unlink()


def _lower_priority() -> None:
    """Run the autosave writer at the lowest CPU priority (Linux: per thread), so on a busy
    machine the GUI thread gets the core first. Elsewhere, or when refused, nothing changes."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _in_use(key: Any, snap: ProjectSnapshot) -> bool:
    """Is a cached PNG one the last snapshot used (a layer, its flattened picture, thumbnail)?"""
    mk = merged_key(snap)
    return key in {ld.cache_key for ld in snap.layers if ld.cache_key} | {mk, ("thumb", mk)}
