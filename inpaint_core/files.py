"""The one atomic writer for every user file: a failed or killed save leaves the old file intact.

Every file a user keeps (PNG/JPEG/WebP exports, masks, contact sheets, projects, journals' outputs)
is written through :func:`atomic_write`: a unique temp file in the target folder, written, flushed
and fsynced, then ``os.replace``-d over the target and the folder fsynced, so that after a crash or a
power cut the target is either the old file or the new one, never half of each. Temp files carry
:data:`TEMP_MARK` in their name so :func:`clean_stale_temp_files` can remove the leftovers of a
killed process (and nothing else).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .errors import InpaintError

TEMP_MARK = ".inpaint-tmp-"
"""Every temp file of ours starts with ``.<target name>`` and contains this mark."""

STALE_AFTER_S = 24 * 3600.0
"""A temp file of ours older than this is a crash leftover (no save takes a day)."""


class FileWriteError(InpaintError, OSError):
    """A user file could not be written; the message names the path and the reason."""


def describe_os_error(exc: OSError) -> str:
    """A short human reason for an OSError ("disk full", "permission denied", ...)."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENAMETOOLONG: "the file name is too long",
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EISDIR: "it is a folder",
        errno.ENOENT: "the folder does not exist",
        errno.ELOOP: "too many symbolic links (a link loop?)",
    }
    return reasons.get(exc.errno or -1, exc.strerror or str(exc) or type(exc).__name__)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # Windows cannot open a folder for fsync; os.replace is enough there
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (tmpfs on old kernels, network mounts) refuse a folder fsync
    finally:
        os.close(fd)


def _current_umask() -> int:
    """The process umask, read without changing it where the OS allows (``os.umask`` can only be
    read by setting it, which would race with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return _UMASK_AT_IMPORT


def _umask_at_import() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK_AT_IMPORT = _umask_at_import()


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_current_umask()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """``with atomic_open(path) as f: f.write(...)`` — the target appears only when the block ends
    without an exception (then fsynced, renamed into place, folder fsynced).

    Raises :class:`FileWriteError` naming ``path`` for any OSError (disk full, read-only, a folder
    that is a file, a name too long...); the previous file at ``path`` is left untouched.
    """
    if "w" not in mode:
        raise ValueError("atomic_open is for writing ('wb' or 'w')")
    target = Path(path)
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a part of the folder's path is a file
        raise FileWriteError(
            f"{target}: cannot write (a part of the path is a file, not a folder)"
        ) from None
    except OSError as exc:
        raise FileWriteError(f"{target}: cannot write ({describe_os_error(exc)})") from None
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name[:100]}{TEMP_MARK}", suffix=".tmp", dir=folder
        )
    except OSError as exc:
        reason = describe_os_error(exc)
        if exc.errno == errno.ENOENT and folder.is_dir():  # it exists but takes no files: /proc
            reason = "the folder takes no new files: a special system folder, not a normal folder"
        raise FileWriteError(f"{target}: cannot write ({reason})") from None
    tmp = Path(tmp_name)
    try:
        # mkstemp makes the file 0600; a user's file gets what a plain open() would give it (the
        # mode of the file it replaces, else 0666 less the umask)
        os.chmod(tmp, _mode_for(target))
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        _fsync_dir(folder)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise FileWriteError(f"{target}: cannot write ({describe_os_error(exc)})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Write a file atomically through ``write(binary_file_object)``; returns the target path.

    ``write`` may be e.g. ``lambda f: image.save(f, format="PNG")``.
    """
    with atomic_open(path, "wb") as f:
        write(f)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write(path, lambda f: f.write(data))


def clean_stale_temp_files(
    folder: str | os.PathLike[str], older_than_s: float = STALE_AFTER_S
) -> list[Path]:
    """Remove our crash leftovers (temp files with :data:`TEMP_MARK`) older than ``older_than_s``
    from ``folder`` (not recursive). Returns what was removed; never raises."""
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if TEMP_MARK not in entry.name or not entry.name.endswith(".tmp"):
            continue
        try:
            if entry.is_file() and now - entry.stat().st_mtime >= older_than_s:
                entry.unlink()
                removed.append(entry)
        except OSError:
            continue
    return removed
