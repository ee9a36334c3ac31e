"""What a field's values are, measured over the rows that have one: numbers, booleans, money
strings, measures ("500 ml"), URLs, dates, short or long text, lists, objects.

Field roles are decided from these statistics together with the field's name
(``ingestion/fields.py``): values decide the type, the name's meaning picks among the roles
that type allows.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from catalog.money_text import find_money

SAMPLE = 400  # values classified per field (evenly spread): enough to tell the type
LONG_TEXT_CHARS = 120
SHORT_VALUE_CHARS = 40  # a money string or a measure is short ("₹1,299.00", "Pack of 6")
PATH_SEPARATORS = (" > ", ">>", ">", " / ", "/", "|", "\u203a", "\u00bb", "\u2192", "\\")
_PLAIN_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_GROUPED_NUMBER = re.compile(r"^\d{1,3}(?:[,.' \u00a0\u202f]\d{2,3})+(?:[.,]\d{1,2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+Z?)?")
_URL = re.compile(r"^(?:https?:)?//|^www\.", re.I)
_BOOLEAN_WORDS = {"true": True, "false": False, "yes": True, "no": False}
NUMERIC_KINDS = frozenset({"integer", "number", "money"})
TEXT_KINDS = frozenset({"text", "long_text"})


def boolean_word(value: str) -> bool | None:
    return _BOOLEAN_WORDS.get(value.strip().lower())


def kind_of(value: Any) -> str | None:
    """One value's kind; None for empty values."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if math.isfinite(value) and value.is_integer() else "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return _list_kind(value)
    text = str(value).strip()
    if not text:
        return None
    if boolean_word(text) is not None:
        return "boolean"
    if _PLAIN_NUMBER.match(text):
        return "number" if "." in text else "integer"
    if _URL.match(text):
        return "url"
    if _DATE.match(text):
        return "date"
    if len(text) <= SHORT_VALUE_CHARS and (measured := _measured_kind(text)):
        return measured
    if len(text) >= LONG_TEXT_CHARS or len(text.split()) >= 20:
        return "long_text"
    return "text"


def _list_kind(items: list[Any]) -> str:
    kinds = {kind_of(item) for item in items} - {None}
    if kinds == {"object"}:
        return "list_object"
    if kinds == {"url"}:
        return "list_url"
    if kinds and kinds <= {"text", "long_text", "integer", "number", "boolean", "date"}:
        return "list_text"
    return "list_other"


def _measured_kind(text: str) -> str | None:
    """ "500 ml" / "Pack of 6" -> quantity; "₹1,299.00" / "Rs. 300" / "1.299,00" -> money."""
    mentions = find_money(text)
    if not mentions:
        return None
    leftover = text
    for mention in sorted(mentions, key=lambda m: -m.start):
        leftover = leftover[: mention.start] + " " + leftover[mention.end :]
    words = [w for w in re.findall(r"[^\W\d_]+", leftover) if len(w) > 2 and w.lower() != "of"]
    units = [m.unit for m in mentions if m.unit]
    unit_words = {unit for unit in units}
    words = [w for w in words if w.lower() not in unit_words]
    if units and not words:
        return "quantity"
    if any(m.is_money for m in mentions) and len(mentions) == 1 and len(words) <= 1:
        return "money"
    if len(mentions) == 1 and not words and _GROUPED_NUMBER.match(text.strip()):
        return "money"  # "1,299.00": a number written for people, read like a price
    return None


def measure_unit(text: str) -> str | None:
    """The unit of a measure value ("500 ml" -> "ml", "Pack of 6" -> "pack")."""
    units = [mention.unit for mention in find_money(str(text)) if mention.unit]
    return units[-1] if units else None


@dataclass
class ValueStats:
    """One field over the rows of a file (or the products of a catalog)."""

    name: str
    rows: int = 0  # rows seen
    present: int = 0  # rows with a value
    kinds: Counter[str] = field(default_factory=Counter)
    distinct: int = 0
    low: float | None = None
    high: float | None = None
    integral: bool = True  # every number seen is whole
    numbers: list[float] = field(default_factory=list)  # the sampled numeric values
    mean_chars: float = 0.0
    spaced: float = 0.0  # share of text values holding a space
    digits: float = 0.0  # share of text values holding a digit
    units: Counter[str] = field(default_factory=Counter)
    separator: str | None = None  # path separator most text values hold
    leaf_kinds: Counter[str] = field(default_factory=Counter)  # kinds inside object values
    examples: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.present / self.rows if self.rows else 0.0

    @property
    def kind(self) -> str | None:
        """The dominant kind (numbers of both kinds count together; whole numbers that are
        only ever 0 or 1 are flags)."""
        if not self.kinds:
            return None
        if self.kinds.keys() == {"integer"} and self.present >= 3 and set(self.numbers) <= {0, 1}:
            return "boolean"
        merged = Counter(self.kinds)
        if merged["integer"] and merged["number"]:
            merged["number"] += merged.pop("integer")
        return merged.most_common(1)[0][0]

    @property
    def purity(self) -> float:
        kind = self.kind
        if kind is None:
            return 0.0
        count = self.kinds[kind] + (self.kinds["integer"] if kind in ("number", "boolean") else 0)
        return count / max(1, sum(self.kinds.values()))

    def share_within(self, low: float, high: float) -> float:
        """Share of the sampled numbers between ``low`` and ``high`` (1.0 when none)."""
        if not self.numbers:
            return 1.0
        return sum(low <= number <= high for number in self.numbers) / len(self.numbers)

    @property
    def text_share(self) -> float:
        """Share of short and long text values together (titles may be either)."""
        return (self.kinds["text"] + self.kinds["long_text"]) / max(1, sum(self.kinds.values()))

    @property
    def unique(self) -> float:
        return self.distinct / self.present if self.present else 0.0

    @property
    def unit(self) -> str | None:
        return self.units.most_common(1)[0][0] if self.units else None


def value_stats(name: str, values: list[Any]) -> ValueStats:
    """Statistics of one field from all its values (``None`` where a row lacks it)."""
    stats = ValueStats(name=name, rows=len(values))
    # Inline tests, not calls: this pass runs over every value of every column.
    present = [v for v in values if not (v is None or v == "" or v == [] or v == {})]
    stats.present = len(present)
    stats.distinct = len({v.strip().lower() if type(v) is str else _hashable(v) for v in present})
    step = max(1, len(present) // SAMPLE)
    sample = present[::step][:SAMPLE]
    texts: list[str] = []
    for value in sample:
        kind = kind_of(value)
        if kind is None:
            continue
        stats.kinds[kind] += 1
        number = _number_of(value, kind)
        if number is not None:
            stats.low = number if stats.low is None else min(stats.low, number)
            stats.high = number if stats.high is None else max(stats.high, number)
            stats.integral = stats.integral and float(number).is_integer()
            stats.numbers.append(number)
        if isinstance(value, dict):
            stats.leaf_kinds.update(k for leaf in value.values() if (k := kind_of(leaf)))
        if isinstance(value, str):
            texts.append(value.strip())
            if kind == "quantity" and (unit := measure_unit(value)):
                stats.units[unit] += 1
        if len(stats.examples) < 3 and (shown := _shown(value)) not in stats.examples:
            stats.examples.append(shown)
    if texts:
        stats.mean_chars = sum(len(text) for text in texts) / len(texts)
        stats.spaced = sum(" " in text for text in texts) / len(texts)
        stats.digits = sum(any(c.isdigit() for c in text) for text in texts) / len(texts)
        stats.separator = path_separator(texts)
    return stats


def kind_of_is_present(value: Any) -> bool:
    return not (value is None or value == "" or value == [] or value == {})


def path_separator(texts: list[str]) -> str | None:
    """The separator of path values ("Home > Kitchen > Knives"), when most values have one."""
    for separator in PATH_SEPARATORS:
        holding = sum(separator in text for text in texts)
        if holding and holding >= 0.5 * len(texts):
            return separator.strip() or separator
    return None


def _number_of(value: Any, kind: str) -> float | None:
    if kind not in NUMERIC_KINDS or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if _PLAIN_NUMBER.match(str(value).strip()):
        return float(str(value).strip())
    from catalog.money import parse_price

    try:
        parsed = parse_price(str(value))
    except ValueError:
        return None
    return parsed.amount if parsed else None


_SCALARS = (str, int, float, bool, type(None))


def _hashable(value: Any) -> Any:
    if isinstance(value, list) and all(type(item) is str for item in value):
        return tuple(value)  # tags, category lists: no JSON needed
    if isinstance(value, dict) and all(type(item) in _SCALARS for item in value.values()):
        return frozenset(value.items())  # measures such as dimensions: no JSON needed
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value).strip().lower() if isinstance(value, str) else value


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(str(text).split())
    return text if len(text) <= 80 else text[:77] + "..."
