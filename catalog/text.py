"""Text normalisation shared by ingestion (profiles, vocabularies) and the service (planning,
execution, composition): one tokenizer, one plural rule, one stopword list.

Stopwords are scikit-learn's English list (a maintained list, not ours) plus the pieces of
contractions and the verbs of asking a shop for something. Stemming is a light, general
English plural rule; nothing here knows any catalog. (The evidence scorer keeps its own word
rules in ``catalog/evidence/text.py``: they are part of its trained artefact.)
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_WORD = re.compile(r"[^\W_]+(?:[.'][^\W_]+)*", re.UNICODE)
_LETTERS = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")


@lru_cache(maxsize=1)
def _english_stop_words() -> frozenset[str]:
    """scikit-learn's list, read from its data module without importing scikit-learn itself
    (whose package import costs seconds per process)."""
    spec = importlib.util.find_spec("sklearn")
    if spec is None or spec.origin is None:  # pragma: no cover - an install problem
        raise ImportError("scikit-learn is missing: pip install 'aisle-assistant'")
    path = Path(spec.origin).parent / "feature_extraction" / "_stop_words.py"
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    words = namespace["ENGLISH_STOP_WORDS"]
    assert isinstance(words, frozenset)
    return words


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    ENGLISH_STOP_WORDS = _english_stop_words()

    # Contractions' pieces, question auxiliaries, the verbs of asking a shop for something and
    # the placeholders for what it sells: words of the dialogue, never of one product.
    extra = [
        "s",
        "t",
        "d",
        "ll",
        "ve",
        "m",
        "re",
        "does",
        "did",
        "doing",
        "having",
        "tell",
        "know",
        "want",
        "need",
        "like",
        "let",
        "ok",
        "okay",
        "hi",
        "hello",
        "thanks",
        "thank",
        "pls",
        "sell",
        "buy",
        "carry",
        "offer",
        "looking",
        "look",
        "recommend",
        "suggest",
        # Placeholders for whatever is sold ("the cheapest thing you sell").
        "thing",
        "things",
        "stuff",
        "item",
        "items",
        "product",
        "products",
    ]
    return frozenset(ENGLISH_STOP_WORDS) | frozenset(extra)


def fold(text: str) -> str:
    """Lower-case, accents folded, curly quotes straightened: the form every matcher sees.
    One character stays one character, so positions in the folded text are positions in the
    original."""
    folded = "".join(_fold_char(char) for char in text)
    return folded.replace("\u2019", "'").replace("\u2018", "'")


def _fold_char(char: str) -> str:
    if char.isascii():
        return char.lower()
    base = unicodedata.normalize("NFKD", char)[:1].lower()
    return base if len(base) == 1 else char


def singular(word: str) -> str:
    """A general English rule, not a table: "watches" -> "watch", "accessories" ->
    "accessory", "shoes" -> "shoe", "glass" stays. Irregular plurals ("knives") are missed."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def stem(word: str) -> str:
    """The form words are compared in: the singular of a word of letters."""
    return singular(word) if word.isalpha() else word


def plural(word: str) -> str:
    """The reverse rule: "watch" -> "watches", "accessory" -> "accessories"."""
    if len(word) <= 2 or (word.endswith("s") and singular(word) != word):
        return word
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    if word.endswith(("s", "sh", "ch", "x", "z")):
        return word + "es"
    return word + "s"


def forms(word: str) -> set[str]:
    """The word, its singular and its plural ("cookies" gives both "cooky" and "cookie": a
    form nobody types costs nothing)."""
    base = singular(word)
    found = {word, base, plural(base)}
    if word.endswith("ies"):
        found.add(word[:-1])
    return found


def letter_words(text: str) -> list[str]:
    """Lower-case words of letters only ("men's" -> "mens"; digits split words)."""
    return [word.replace("'", "").replace("\u2019", "") for word in _LETTERS.findall(text.lower())]


@dataclass(frozen=True)
class Token:
    """A word of a text with its position (characters) and its stemmed form."""

    text: str  # folded, apostrophes removed
    stem: str
    start: int
    end: int

    @property
    def is_stopword(self) -> bool:
        return self.text in stopwords()


def tokens(text: str) -> list[Token]:
    """Words of ``text`` (positions refer to ``text`` itself)."""
    folded = fold(text)
    found = []
    for match in _WORD.finditer(folded):
        word = match.group(0).replace("'", "")
        if word.endswith("s") and match.group(0).endswith("'s"):
            word = word[:-1]  # "women's" -> "women"
        found.append(Token(word, stem(word), match.start(), match.end()))
    return found


def words(text: str) -> list[str]:
    """Stemmed words of ``text``, stopwords kept."""
    return [token.stem for token in tokens(text)]


def content_words(text: str) -> list[str]:
    """Stemmed words of ``text`` without stopwords."""
    return [token.stem for token in tokens(text) if not token.is_stopword]


def blank(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with the characters of ``spans`` turned to spaces (positions are kept, so
    tokens found afterwards still point into the original text)."""
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def has_digit(word: str) -> bool:
    return any(char.isdigit() for char in word)


# A preposition ending a question asks about a relation ("what is it made of?", "what does
# it come with?"), not for the thing itself ("what is it?"); "what is it for?" and "what does
# it sell for?" are answered by what it is (its description, its price), and so is "about".
_STRANDED = re.compile(r"\b(?:of|with|from|in|on|by|into|onto)\s*[?.!]*\s*$")


def stranded_preposition(text: str) -> bool:
    return _STRANDED.search(fold(text)) is not None
