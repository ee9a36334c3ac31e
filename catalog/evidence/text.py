"""Text helpers of the evidence scorer: words, numbers, attribute passages, question types.

They are part of the model: the artefact was trained on what these functions return, so a
change here needs a retrained artefact (``aisle train-scorer``) and a new version.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_NUMBER = re.compile(r"(?<![a-z0-9.])(\d+(?:[.,]\d+)*)(?:\.(?!\d))?")
# English function words: they carry no evidence either way. A language-level list, not a
# catalog's vocabulary.
STOPWORDS = frozenset(
    {
        *("a", "about", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be"),
        *("been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "get"),
        *("had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is"),
        *("it", "its", "just", "me", "my", "of", "on", "one", "or", "our", "out", "she"),
        *("should", "so", "some", "than", "that", "the", "their", "them", "then", "there"),
        *("these", "they", "this", "those", "to", "too", "up", "us", "was", "we", "were"),
        *("what", "when", "where", "which", "who", "why", "will", "with", "would", "you"),
        *("your", "yes", "no", "not", "s", "t", "very", "much", "many", "there's", "it's"),
        *("i'm", "don't", "doesn't", "product", "item", "thing", "anyone", "know"),
    }
)
# Auxiliary verbs that open a yes/no question ("does it ...", "can i ...").
_YES_NO_OPENERS = frozenset(
    {
        *("is", "are", "does", "do", "did", "can", "could", "will", "would", "should"),
        *("has", "have", "was", "were", "may", "might", "isn't", "aren't", "doesn't"),
        *("don't", "won't", "can't", "shall", "must"),
    }
)
# Words that ask for a measurement or an amount (English, not catalog-specific).
_MEASURE_WORDS = frozenset(
    {
        *("size", "sizes", "dimension", "dimensions", "big", "small", "large", "long"),
        *("length", "wide", "width", "tall", "height", "high", "deep", "depth", "thick"),
        *("weight", "weigh", "weighs", "heavy", "inch", "inches", "cm", "mm", "feet", "ft"),
        *("measure", "measurements", "capacity", "volume", "oz", "ounces", "lbs", "pounds"),
        *("watts", "volts", "mah", "gb", "diameter"),
    }
)
_ANSWER_OPENERS = frozenset({"yes", "no", "yep", "nope", "yeah", "nah"})
QUESTION_TYPES = ("yes_no", "amount", "measure", "choice", "open")
# "name:  { value:... }" (the PQA attribute format) or "Label: value" (Aisle's spec lines).
_ATTRIBUTE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_ ./&()-]{0,58}?)\s*:\s+(\S.*)$", re.DOTALL)
_NORMALISED = "normalized_value:"
_KEY = re.compile(r"\b([a-z_]+):")
_UNNAMED_KEYS = frozenset({"value", "unit", "standardized_values"})


def words(text: str) -> list[str]:
    """Lower-case words with a light English plural strip ('cases' -> 'case')."""
    out = []
    for word in _WORD.findall(text.lower().replace("\u2019", "'")):
        if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        out.append(word)
    return out


def content_words(text: str) -> list[str]:
    """The words of ``text`` that can carry evidence (no function words), in order, unique."""
    kept = (w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit()))
    return list(dict.fromkeys(kept))


def numbers(text: str) -> frozenset[float]:
    """Numeric values in ``text`` ('13.' and '13' are one value; '1,299' is 1299)."""
    values = set()
    for match in _NUMBER.finditer(text.lower()):
        raw = match.group(1)
        raw = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", raw) else raw
        try:
            values.add(float(raw.replace(",", ".")))
        except ValueError:
            continue
    return frozenset(values)


@lru_cache(maxsize=65536)
def split_attribute(text: str) -> tuple[str, str] | None:
    """``(name, value)`` when the passage is one attribute, else None.

    The PQA format (``item_weight:  { unit:pounds, value:13. }``) and short ``Label: value``
    lines both count; a sentence that happens to hold a colon does not (the name must be a
    short noun phrase).
    """
    match = _ATTRIBUTE.match(text)
    if match is None:
        return None
    name, value = match.group(1).strip(), match.group(2).strip()
    if len(name.split()) > 5 or name.lower() in {"question", "answer", "note", "update"}:
        return None
    structured = value.startswith(("{", "["))
    if not structured and (len(value) > 200 or len(name.split()) > 3):
        return None
    return name.replace("_", " ").strip().lower(), readable_value(value) if structured else value


def readable_value(value: str) -> str:
    """A PQA attribute value as plain words: ``{ unit:pounds, normalized_value:{...}, value:13.
    }`` -> ``pounds 13``; keys other than value/unit stay as words ('width 9 inches')."""
    value = _drop_normalised(value)
    value = _KEY.sub(lambda m: "" if m.group(1) in _UNNAMED_KEYS else m.group(1) + " ", value)
    value = re.sub(r'[{}\[\]"]', " ", value).replace("_", " ")
    value = re.sub(r"\s*,\s*", ", ", " ".join(value.split()))
    return re.sub(r"(,\s*)+", ", ", value).strip(" ,")


def _drop_normalised(value: str) -> str:
    """Remove ``normalized_value:{ ... }`` groups (a duplicate of the value in other units)."""
    while (start := value.find(_NORMALISED)) >= 0:
        depth, end = 0, len(value)
        for position in range(start + len(_NORMALISED), len(value)):
            if value[position] == "{":
                depth += 1
            elif value[position] == "}":
                depth -= 1
                if depth <= 0:
                    end = position + 1
                    break
        value = value[:start] + value[end:]
    return value


def passage_text(text: str) -> str:
    """The text that is embedded and matched: attributes as ``name: readable value``."""
    parts = split_attribute(text)
    if parts is None:
        return " ".join(text.split())
    return f"{parts[0]}: {parts[1]}"


def asked_clause(question: str) -> str:
    """The clause that asks: the last one ending in '?' ("I have a 3DS. Will it run?" ->
    "Will it run?"), else the whole question."""
    parts = [p.strip() for p in re.split(r"(?<=[.?!])\s+", question.strip()) if p.strip()]
    asked = [p for p in parts if p.endswith("?")]
    return asked[-1] if asked else question.strip()


def question_type(question: str) -> str:
    """One of :data:`QUESTION_TYPES`, from the wording of the asking clause."""
    clause = words(asked_clause(question))
    if not clause:
        return "open"
    if clause[0] == "how" and len(clause) > 1 and clause[1] in {"many", "much"}:
        return "amount"
    if clause[0] in {"how", "what", "which"} and any(w in _MEASURE_WORDS for w in clause):
        return "measure"
    if "or" in clause[1:-1]:
        return "choice"
    if clause[0] in _YES_NO_OPENERS:
        return "yes_no"
    return "open"


def opens_with_answer(text: str) -> bool:
    """The passage starts like an answer to a yes/no question ('Yes, it fits ...')."""
    first = words(text[:20])
    return bool(first) and first[0] in _ANSWER_OPENERS


def has_measure_words(text: str) -> bool:
    return any(word in _MEASURE_WORDS for word in words(text))
