"""English cardinal numbers written as words ("fifty", "two hundred and fifty", "a thousand"),
found with their spans so that shopper text reads them like digits."""

from __future__ import annotations

import re
from collections.abc import Iterator

_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_VALUES = {word: n for n, word in enumerate(_UNITS)} | {
    word: 10 * (n + 2) for n, word in enumerate(_TENS)
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_WORD = "|".join(sorted([*_VALUES, *_SCALES], key=len, reverse=True))
# A run of number words; "a" only before a scale ("a hundred"), "and" only after a scale
# ("two hundred and fifty"; "twenty and thirty" is two numbers).
_RUN = re.compile(
    rf"\b(?:(?:{_WORD})|a(?=[\s-]+(?:{'|'.join(_SCALES)})\b))"
    rf"(?:(?:(?:(?<=hundred)|(?<=thousand)|(?<=million))\s+and\s+|[\s-]+)(?:{_WORD})\b)*\b",
    re.IGNORECASE,
)


def spelled_numbers(text: str) -> Iterator[tuple[int, int, float]]:
    """(start, end, value) of every run of English number words in ``text``."""
    for match in _RUN.finditer(text):
        value = _value(re.split(r"[\s-]+", match.group(0).lower()))
        if value is not None:
            yield match.start(), match.end(), float(value)


def _value(words: list[str]) -> int | None:
    total = current = 0
    seen = False
    for word in words:
        if word in ("a", "and"):
            continue
        if word in _VALUES:
            current += _VALUES[word]
            seen = True
        elif word == "hundred":
            current = max(current, 1) * 100
            seen = True
        else:  # thousand, million
            total += max(current, 1) * _SCALES[word]
            current = 0
    return total + current if seen or total else None
