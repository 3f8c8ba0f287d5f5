"""The batch journal: what a folder run has finished, so a re-run does only the rest.

One JSON object per line, appended and fsynced as each item finishes (``done`` or ``failed``), in
the output folder (:data:`JOURNAL_NAME`). Append-only: nothing is ever rewritten, so a crash or a
``kill -9`` can at worst cut the last line short, and :meth:`Journal.load` skips a line that does
not parse. An item counts as done when its latest ``done`` line matches the input hashes and the
parameter key of this run and its outputs are still there; anything else is done again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .files import FileWriteError, describe_os_error

JOURNAL_NAME = "inpaint-batch-journal.jsonl"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def params_key(params: dict[str, Any]) -> str:
    """A stable hash of an item's parameters (the request as JSON, plus how inputs are read)."""
    return sha256_bytes(json.dumps(params, sort_keys=True, default=str).encode())


@dataclass
class JournalEntry:
    """One finished item. ``key`` names the item (its output stem) within the output folder."""

    key: str
    status: str  # "done" or "failed"
    image: str
    mask: str
    image_sha256: str = ""
    mask_sha256: str = ""
    params_key: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)  # file names inside the output folder
    error: str = ""
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class Journal:
    """The journal file of one output folder (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.path = Path(folder) / JOURNAL_NAME

    def load(self) -> dict[str, JournalEntry]:
        """The latest entry per key. Lines that do not parse (a line cut short by a kill) are
        skipped: the item they described is simply done again."""
        latest: dict[str, JournalEntry] = {}
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return latest
        except OSError as exc:
            raise FileWriteError(f"{self.path}: cannot read ({describe_os_error(exc)})") from None
        for line in text.splitlines():
            try:
                entry = JournalEntry(**json.loads(line))
            except (ValueError, TypeError):
                continue
            latest[entry.key] = entry
        return latest

    def append(self, entry: JournalEntry) -> None:
        """Append one line and fsync it. A last line cut short by a kill is closed off first, so
        the new line never glues onto it."""
        line = entry.to_json() + "\n"
        try:
            with open(self.path, "a+b") as f:
                f.seek(0, os.SEEK_END)
                if f.tell() > 0:
                    f.seek(-1, os.SEEK_END)
                    if f.read(1) != b"\n":
                        line = "\n" + line
                f.write(line.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise FileWriteError(f"{self.path}: cannot write ({describe_os_error(exc)})") from None
