"""Cell values as product fields: text, numbers, whole numbers, availability words, category
levels and dotted lookups. Each raises :class:`RowError` naming the field and the value."""

from __future__ import annotations

import html
import math
import re
from html.entities import html5
from typing import Any

from ingestion.loaders.formats import RowError
from ingestion.values import boolean_word, path_separator

# Shop exports often carry HTML character references in plain-text fields ("iPhone&#174;",
# "&#402;/1.8"). Only complete references (with the ";") are decoded, so "AT&T" or "R&D"
# stay as written.
_REFERENCE = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def category_levels(value: Any, separator: str | None) -> list[str]:
    """A category as levels: a name, a list (broad to narrow), a path string ("A > B") or a
    list holding one path string."""
    if isinstance(value, list):
        items = [shown for item in value if (shown := text(item))]
        if len(items) == 1:
            return category_levels(items[0], path_separator(items))
        return items
    whole = text(value)
    if not whole:
        return []
    parts = whole.split(separator) if separator and separator in whole else [whole]
    return [part.strip() for part in parts if part.strip()]


def text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    stripped = decode_references(str(value)).strip()
    return stripped or None


def decode_references(value: str) -> str:
    """``value`` with its HTML character references as the characters they stand for."""
    if "&" not in value:
        return value
    return _REFERENCE.sub(_decoded, value)


def decoded(value: Any) -> Any:
    """A field value as given, its strings (also inside lists and objects) decoded."""
    if isinstance(value, str):
        return decode_references(value)
    if isinstance(value, list):
        return [decoded(item) for item in value]
    if isinstance(value, dict):
        return {key: decoded(item) for key, item in value.items()}
    return value


def _decoded(found: re.Match[str]) -> str:
    reference = found.group(0)
    if reference[1] != "#" and reference[1:] not in html5:
        return reference  # "&notanentity;" is not "¬anentity;"
    return html.unescape(reference)


def number(value: Any, field: str, *, minimum: float, shown: Any = None) -> float | None:
    shown = value if shown is None else shown
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError(f"{field} {shown!r} is not a number")
    try:
        found = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise RowError(f"{field} {shown!r} is not a number") from None
    if math.isnan(found) or math.isinf(found):
        raise RowError(f"{field} {shown!r} is not a finite number")
    if found < minimum:
        raise RowError(f"{field} {shown!r} is negative")
    return found


def integer(value: Any, field: str) -> int | None:
    found = number(value, field, minimum=-math.inf)
    if found is None:
        return None
    if not found.is_integer():
        raise RowError(f"{field} {value!r} is not a whole number")
    return int(found)


def availability(value: Any) -> str | None:
    if isinstance(value, int) and value in (0, 1):  # bool too; a 0/1 flag column
        return "In Stock" if value else "Out of Stock"
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return "In Stock" if value.strip() == "1" else "Out of Stock"
    if isinstance(value, str) and (flag := boolean_word(value)) is not None:
        return "In Stock" if flag else "Out of Stock"
    return text(value)
