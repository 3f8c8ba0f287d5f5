"""Reading model files a user points at, defensively: regular files only (a FIFO would block), size-
and depth-capped JSON, and a schema-checked ``.safetensors`` header, so a corrupt or hostile file is
a :class:`~inpaint_core.errors.ModelError` naming it, never a hang, a huge allocation or a traceback."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path
from typing import IO, Any

from ..errors import ModelError
from ..jsonsafe import JsonLimitError, loads_limited

MAX_CONFIG_BYTES = 4 * 2**20
"""Largest model JSON (``config.json``, ``model_index.json``) read; real ones are a few kB."""
MAX_SAFETENSORS_HEADER = 16 * 2**20
"""Largest ``.safetensors`` JSON header read (SD-1.5's is ~150 kB, SDXL's ~300 kB; the safetensors
library itself allows 100 MB, which a hostile file could fill with a million tiny entries)."""
SAFETENSORS_DTYPES = frozenset(
    "BOOL U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 F4 F6_E2M3 F6_E3M2 I16 U16 F16 BF16 I32 U32 F32 F64 "
    "I64 U64 C64".split()
)


def open_regular(path: Path) -> IO[bytes]:
    """Open ``path`` for reading only if it is a regular file: a FIFO (whose open would block
    until a writer came), a device or a folder is refused with a :class:`ModelError`."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ModelError(f"{path} is not a regular file (a folder, pipe or device)")
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ModelError(f"{path} cannot be read ({exc.strerror or exc})") from None
    f = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
        f.close()
        raise ModelError(f"{path} is not a regular file (a folder, pipe or device)")
    return f


# -- cheap inspection -----------------------------------------------------------------------------
def read_json(path: Path, what: str) -> dict[str, Any]:
    """A model's JSON file (a regular file, size- and depth-capped) as a dict, or a ModelError."""
    try:
        with open_regular(path) as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
        data = loads_limited(raw, what=str(path), max_chars=MAX_CONFIG_BYTES, max_depth=16)
    except FileNotFoundError:
        raise ModelError(f"{what}: {path.name} is missing ({path})") from None
    except (OSError, JsonLimitError) as exc:
        raise ModelError(f"{what}: {path} is unreadable or not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{what}: {path} does not hold a JSON object")
    return data


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_tensor_entry(path: Path, key: str, meta: Any) -> int:
    """One header entry must be ``{"dtype": known, "shape": [ints >= 0], "data_offsets": [a, b]}``
    with ``0 <= a <= b``; returns ``b``."""

    def bad(why: str) -> ModelError:
        return ModelError(f"{path} is not a valid safetensors file (entry {key[:80]!r}: {why})")

    if not isinstance(meta, dict):
        raise bad("not an object")
    if meta.get("dtype") not in SAFETENSORS_DTYPES:
        raise bad(f"unknown dtype {str(meta.get('dtype'))[:20]!r}")
    shape = meta.get("shape")
    if not isinstance(shape, list) or len(shape) > 8 or not all(_is_count(d) for d in shape):
        raise bad("the shape is not a list of sizes")
    offsets = meta.get("data_offsets")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_count(o) for o in offsets)
        or offsets[0] > offsets[1]
    ):
        raise bad("data_offsets is not [begin, end]")
    return int(offsets[1])


def read_safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a ``.safetensors`` file: size-capped (:data:`MAX_SAFETENSORS_HEADER`),
    depth-capped, schema-checked (every tensor entry's dtype, shape and offsets; ``__metadata__``
    text to text) and checked against the file size. A truncated or corrupt file is a
    :class:`ModelError`, not a crash inside the loader (or in a models listing)."""
    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(8)
            if len(head) < 8:
                raise ModelError(f"{path} is not a safetensors file (only {size} bytes)")
            (length,) = struct.unpack("<Q", head)
            if length < 2 or length > MAX_SAFETENSORS_HEADER:
                raise ModelError(f"{path} is not a valid safetensors file (corrupt header)")
            if length > size - 8:
                raise ModelError(
                    f"{path} is truncated or not a safetensors file: its header alone should be "
                    f"{length} bytes, the file has {size}"
                )
            raw = fh.read(length)
        header = loads_limited(
            raw, what=f"{path} header", max_chars=MAX_SAFETENSORS_HEADER, max_depth=4
        )
    except ModelError:
        raise
    except JsonLimitError as exc:
        raise ModelError(f"{path} is not a valid safetensors file ({exc})") from None
    except (OSError, struct.error) as exc:
        raise ModelError(f"{path} is not a valid safetensors file ({exc})") from None
    if not isinstance(header, dict):
        raise ModelError(f"{path} is not a valid safetensors file (corrupt header)")
    end = 0
    for key, meta in header.items():
        if key == "__metadata__":
            if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
                raise ModelError(
                    f"{path} is not a valid safetensors file (__metadata__ is not text)"
                )
            continue
        end = max(end, _check_tensor_entry(path, key, meta))
    if 8 + length + end > size:
        raise ModelError(
            f"{path} is truncated: its header describes {8 + length + end} bytes, "
            f"the file has {size} (an interrupted download?)"
        )
    return header
