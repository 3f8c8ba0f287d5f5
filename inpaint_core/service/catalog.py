"""The models a server offers, as ``owner/name`` slugs with one version each.

* ``inpaint-studio/stable-diffusion-inpainting`` — the server's ``--model`` (the slug of the hosted
  model this project grew from), offered only when a model was given;
* ``inpaint-studio/classical`` — the no-weights engine, always there;
* one slug per inpainting model found on this machine (``inpaint-studio-cli models``).

A version id is a digest of what the version runs (engine, model reference, input schema), so it is
stable across restarts of the same server and changes when what it runs changes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InpaintError

OWNER = "inpaint-studio"
SD_NAME = "stable-diffusion-inpainting"
CLASSICAL_NAME = "classical"
#: bump when the input schema changes: version ids change with it
SCHEMA_REVISION = "1"


@dataclass(frozen=True)
class ModelEntry:
    owner: str
    name: str
    engine: str  # "classical" | "diffusion"
    model: str | None  # what the diffusion engine loads (path or repo id)
    description: str

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def version_id(self) -> str:
        key = f"{self.slug}\n{self.engine}\n{self.model or ''}\n{SCHEMA_REVISION}"
        return hashlib.sha256(key.encode()).hexdigest()


def slugify(name: str) -> str:
    """A model name as the last part of a slug: lower case, ``[a-z0-9._-]`` only."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.")
    return slug or "model"


@dataclass
class Catalog:
    entries: list[ModelEntry]

    def by_slug(self, owner: str, name: str) -> ModelEntry | None:
        return next((e for e in self.entries if e.owner == owner and e.name == name), None)

    def by_version(self, version_id: str) -> ModelEntry | None:
        return next((e for e in self.entries if e.version_id == version_id), None)


def build_catalog(
    model: str | None, *, discover: bool = True, extra_dirs: list[Path] | None = None
) -> Catalog:
    """The served models. Discovery reads no weights; a model that cannot be listed is skipped."""
    entries: list[ModelEntry] = []
    if model:
        entries.append(
            ModelEntry(
                OWNER,
                SD_NAME,
                "diffusion",
                str(model),
                f"Stable Diffusion inpainting with the server's model ({Path(str(model)).name})",
            )
        )
    entries.append(
        ModelEntry(
            OWNER,
            CLASSICAL_NAME,
            "classical",
            None,
            "Classical (no-weights) fill: scratches and small blotches, no prompt",
        )
    )
    if discover:
        from ..models import list_models

        try:
            found = list_models(list(extra_dirs or []) or None)
        except (InpaintError, OSError):
            found = []
        taken = {e.name for e in entries}
        for info in found:
            if info.is_inpainting is False:
                continue
            name = slugify(info.name)
            if name in taken:
                continue
            taken.add(name)
            entries.append(
                ModelEntry(
                    OWNER,
                    name,
                    "diffusion",
                    info.source,
                    f"Stable Diffusion inpainting with {info.name} ({info.kind})",
                )
            )
    return Catalog(entries)
