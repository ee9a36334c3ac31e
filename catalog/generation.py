"""The collection's generation: one record in the store that every process reads.

Each ingest that changed anything writes a new generation after its last write, in one call,
so readers switch from the old contents to the new ones at once. ``text`` changes only when a
chunk text was added, changed or deleted: a price feed leaves the keyword index alone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from catalog.meta import StoreMeta

GENERATION_KEY = "generation"
# A generation lists the products it changed when they are this few (readers then refresh only
# those); beyond it readers reload everything.
CHANGED_LIST_LIMIT = 2000


@dataclass(frozen=True)
class Generation:
    id: str
    text: str
    changed: tuple[str, ...] | None = None  # products changed since ``previous``
    previous: str | None = None
    at: float = 0.0

    @classmethod
    def initial(cls) -> Generation:
        """A store no recorded ingest has written (or written by an older version)."""
        return cls(id="initial", text="initial")


def read_generation(meta: StoreMeta) -> Generation:
    record = meta.get(GENERATION_KEY)
    if not record:
        return Generation.initial()
    changed = record.get("changed")
    return Generation(
        id=str(record.get("id")),
        text=str(record.get("text")),
        changed=tuple(str(pid) for pid in changed) if isinstance(changed, list) else None,
        previous=record.get("previous"),
        at=float(record.get("at") or 0.0),
    )


def bump_generation(meta: StoreMeta, *, text_changed: bool, changed: Sequence[str]) -> Generation:
    current = read_generation(meta)
    new_id = uuid.uuid4().hex
    unique = sorted(set(changed))
    record: dict[str, Any] = {
        "id": new_id,
        "text": new_id if text_changed else current.text,
        "previous": current.id,
        "at": time.time(),
        "changed": unique if len(unique) <= CHANGED_LIST_LIMIT else None,
    }
    meta.put(GENERATION_KEY, record)
    return read_generation(meta)
