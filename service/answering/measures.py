"""Attribute values as magnitudes that can be ordered: "3 months" < "1 year", "500 ml" < "1 l".

A value is a plain number, a text holding a number and its unit ("30 days return policy",
"ships in 3-5 business days", "10 ml"), or an object of numbers (``{"width": 2, "depth": 3}``).
Units are read by pint, so any unit it knows orders by its base-unit magnitude; a unit word it
does not know ("12 gm", "5 seater") orders by the number among values with the same word.
Values of different kinds are not ordered together: only the attribute's commonest kind is.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from catalog.text import tokens

if TYPE_CHECKING:
    import pint

T = TypeVar("T")

# The first number of a text, with an optional range end ("3-5", "3 to 5").
# "10,000" groups thousands; "1,5" is a decimal comma.
_AMOUNT = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?)"
_NUMBER = re.compile(rf"(?<![\w.]){_AMOUNT}(?:\s*(?:-|\u2013|to)\s*{_AMOUNT})?")
_NONE = re.compile(r"^\s*(?:no|none|not\s+\w+|without)\b", re.IGNORECASE)  # "No warranty": 0
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")
_WORD = re.compile(r"[A-Za-z]+")
_UNIT_WORDS = 2  # "3-5 business days": the unit may be the second word after the number


@dataclass(frozen=True)
class Measure:
    magnitude: float  # in base units when the unit is known, else the number as written
    kind: str  # the unit's dimensionality ("[time]"), an unknown unit word, or "" (plain)


@cache
def _registry() -> pint.UnitRegistry:
    import pint  # ~0.5 s to load: only when a request first orders by a unit-bearing value

    return pint.UnitRegistry()


def measure(value: Any, component: str | None = None) -> Measure | None:
    """``value`` as a magnitude; ``component`` picks one number of an object ("width"),
    otherwise an object measures as the product of its numbers (its size)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Measure(float(value), "") if math.isfinite(value) else None
    if isinstance(value, dict):
        return _object(value, component)
    if isinstance(value, str):
        return _text(value)
    return None


def _object(value: dict[str, Any], component: str | None) -> Measure | None:
    numbers = {
        str(key).lower(): float(item)
        for key, item in value.items()
        if isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item)
    }
    if not numbers:
        return None
    if component is not None and component in numbers:
        return Measure(numbers[component], "")
    return Measure(math.prod(numbers.values()), f"{len(numbers)}d")


def _text(value: str) -> Measure | None:
    if _ISO_DATE.match(value):
        try:
            return Measure(datetime.fromisoformat(value.strip()).timestamp(), "[date]")
        except ValueError:
            pass
    match = _NUMBER.search(value)
    if match is None:
        return Measure(0.0, "none") if _NONE.match(value) else None
    low = _amount(match.group(1))
    number = low if match.group(2) is None else (low + _amount(match.group(2))) / 2
    # The unit as written ("mAh" and "GB" are case-sensitive), one or two words after the
    # number: "8 fl oz" is one unit ("floz"), "3-5 business days" is days.
    following = [w for w in _WORD.findall(value[match.end() :])[:_UNIT_WORDS] if not _stop(w)]
    joined = ["_".join(following), "".join(following)] if len(following) > 1 else []
    for word in joined + following:
        found = _unit(number, word)
        if found is not None:
            return found
    return Measure(number, following[0].lower() if following else "")


def _amount(written: str) -> float:
    grouped = re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", written)
    return float(written.replace(",", "") if grouped else written.replace(",", "."))


def _unit(number: float, word: str) -> Measure | None:
    import pint

    registry = _registry()
    name = word if word in registry else word.lower()
    if name not in registry:
        return None
    try:
        quantity = registry.Quantity(number, name).to_base_units()
    except (pint.errors.PintError, ValueError, TypeError):
        return None
    return Measure(float(quantity.magnitude), str(quantity.dimensionality))


# The kinds of unit product facts are given in (pint also reads "units" as micro-nits).
_SHOPPING_KINDS = frozenset(
    {
        "[mass]",
        "[length]",
        "[time]",
        "[length] ** 2",
        "[length] ** 3",
        "[temperature]",
        "[current] * [time]",
    }
)


def physical_unit(word: str) -> str | None:
    """The canonical name of a unit of weight, size, volume, time, temperature or charge
    ("pounds" -> "pound"); None for other words and stopwords ("in")."""
    if not word.isalpha() or _stop(word):
        return None
    import pint

    registry = _registry()
    name = word if word in registry else word.lower()
    if name not in registry:
        return None
    try:
        unit = registry.Unit(name)
    except (pint.errors.PintError, ValueError, TypeError):
        return None
    return str(unit) if str(unit.dimensionality) in _SHOPPING_KINDS else None


def comparable(measures: Iterable[Measure | None]) -> str | None:
    """The commonest kind among the measures (a "none" value joins any kind)."""
    kinds = Counter(m.kind for m in measures if m is not None and m.kind != "none")
    return kinds.most_common(1)[0][0] if kinds else None


def in_kind(found: Measure | None, kind: str | None) -> bool:
    return found is not None and kind is not None and found.kind in (kind, "none")


def _stop(word: str) -> bool:
    found = tokens(word)
    return not found or found[0].is_stopword


# The physical kind a graded word's dimension means, when the values hold it ("lightest" of
# "10 ml" and "12 g" orders the grams); other dimensions order the commonest kind.
_PHYSICAL = {
    "weight": "[mass]",
    "length": "[length]",
    "height": "[length]",
    "width": "[length]",
    "depth": "[length]",
    "thickness": "[length]",
}


def physical_kind(dimension: str | None) -> str | None:
    return _PHYSICAL.get(dimension or "")


def ranked(
    items: Iterable[tuple[T, Any]], *, descending: bool, dimension: str | None = None
) -> list[tuple[T, Measure]]:
    """The items whose values measure in one kind, ordered (stable for equal magnitudes);
    items without such a value are left out."""
    measured = [(item, measure(value, dimension)) for item, value in items]
    kinds = {m.kind for _, m in measured if m is not None}
    preferred = _PHYSICAL.get(dimension or "")
    kind = preferred if preferred in kinds else comparable(m for _, m in measured)
    kept = [(item, m) for item, m in measured if m is not None and in_kind(m, kind)]
    return sorted(kept, key=lambda pair: -pair[1].magnitude if descending else pair[1].magnitude)
