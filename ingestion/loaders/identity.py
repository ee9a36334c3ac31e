"""Stable ids for rows that have none.

Rule: ``p`` + the first 12 hex digits of SHA-256 over the row's normalised title and brand
(lower case, spaces collapsed). Re-ingesting the same row gives the same id, so a price or
stock change updates the product in place, and the id does not depend on the file's name or
on where the row sits in it.

Collisions: rows of one file that share a title and brand are different products (a colour,
a size: Best Buy's catalog has 62 such rows) or the same row twice. Each of them gets its id
from its title, brand and every identifying detail (category, description, measures such as
"500 ml", other text and links; never price, stock, ratings or other numbers, which change).
Rows still identical in all of that are duplicates: the first is kept and each other one is
reported with its file and line. Numbering them (-2, -3) was rejected: numbers follow row
order, so reordering a file would swap two products' ids.

Adding a second row with the same title and brand later changes the first row's id too (it
is then identified by its details): that product is deleted and re-added, once.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from typing import Any

from catalog.profile import FieldRole

# Roles whose values identify a product (stable); the others (prices, stock...) change.
IDENTITY_ROLES = frozenset(
    {
        FieldRole.TITLE,
        FieldRole.BRAND,
        FieldRole.CATEGORY,
        FieldRole.DESCRIPTION,
        FieldRole.QUANTITY,
        FieldRole.TEXT,
        FieldRole.MEDIA,
    }
)


@dataclass
class Draft:
    """A parsed row waiting for its id."""

    line: int | None
    fields: dict[str, Any]  # Product keyword arguments (product_id may be None)
    identity: dict[str, Any]  # the row's identifying values, by source field


@dataclass(frozen=True)
class Duplicate:
    line: int | None
    first_line: int | None


def normalised(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").lower().split())


def derived_id(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return "p" + digest[:12]


def assign_ids(drafts: list[Draft]) -> list[Duplicate]:
    """Give every draft without an id a derived one (in place); return the duplicates, which
    the caller reports and leaves out."""
    groups: dict[str, list[Draft]] = {}
    for draft in drafts:
        if not draft.fields.get("product_id"):
            key = _base(draft)
            groups.setdefault(key, []).append(draft)
    duplicates: list[Duplicate] = []
    for key, members in groups.items():
        if len(members) == 1:
            members[0].fields["product_id"] = derived_id(*key.split("\x1e"))
            continue
        seen: dict[str, Draft] = {}
        for draft in members:
            details = json.dumps(draft.identity, sort_keys=True, ensure_ascii=False, default=str)
            first = seen.get(details)
            if first is not None:
                duplicates.append(Duplicate(draft.line, first.line))
                draft.fields["product_id"] = None
                continue
            seen[details] = draft
            draft.fields["product_id"] = derived_id(*key.split("\x1e"), normalised(details))
    return duplicates


def _base(draft: Draft) -> str:
    return normalised(draft.fields.get("title")) + "\x1e" + normalised(draft.fields.get("brand"))
