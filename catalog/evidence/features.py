"""Features of a (question, passage) pair, computed for one question's whole candidate set.

Lexical statistics (IDF, BM25) are taken within the candidate set, so they need no corpus and
behave the same for any catalog: a word that every passage of the product holds says little.
Dense similarities come from the MiniLM vectors the caller (or the scorer's cache) supplies.

Every feature is absolute (none compares a passage with the best of its set), so the best
passage's score also says whether the question is answered at all. The passage kind is not a
feature: the service often does not know it (ePQA snippets arrive as one ``snippet`` chunk),
and on the training hold-out kind features added nothing; only "is one attribute" (read from
the text's shape, or from an attribute/specs kind) is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from catalog.evidence import text as tx

# Kinds whose passages are one attribute each (Aisle's spec lines, PQA attributes).
ATTRIBUTE_KINDS = frozenset({"attribute", "attributes", "specs", "spec"})
_BM25_K1, _BM25_B = 1.2, 0.75

FEATURES = (
    "cos",
    "cos_name",
    "overlap",
    "idf_overlap",
    "bm25",
    "name_in_question",
    "number_match",
    "has_number",
    "amount_x_number",
    "measure_x_measure_words",
    "yes_no_x_answer_opener",
    "log_words",
    "is_attribute",
    *(f"question_{qtype}" for qtype in tx.QUESTION_TYPES),
)


@dataclass(frozen=True)
class Passage:
    """One piece of evidence about a product.

    ``kind`` is the chunk kind (core, description, specs, reviews, snippet, document), a PQA
    source (attribute, bullet, review, cqa...) or empty; only attribute kinds matter.
    ``name`` is the attribute name when the passage is one attribute (else read from the text).
    ``similarity`` is cosine(question, passage) when the caller already has both vectors.
    """

    text: str
    kind: str = ""
    name: str | None = None
    similarity: float | None = None


@dataclass
class PreparedPassage:
    """A passage with what every feature needs, computed once."""

    passage: Passage
    text: str  # as embedded and matched (attributes made readable)
    name: str | None  # the attribute name when the passage is one attribute
    words: set[str] = field(default_factory=set)
    word_counts: dict[str, int] = field(default_factory=dict)
    numbers: frozenset[float] = frozenset()


def prepare(passage: Passage) -> PreparedPassage:
    parts = tx.split_attribute(passage.text)
    name = passage.name.replace("_", " ").lower() if passage.name else None
    if parts is not None and name is None:
        name = parts[0]
    text = tx.passage_text(passage.text) if passage.name is None else passage.text
    if passage.name is not None and not text.lower().startswith(name or ""):
        text = f"{name}: {text}"
    counts: dict[str, int] = {}
    for word in tx.words(text):
        counts[word] = counts.get(word, 0) + 1
    return PreparedPassage(
        passage=passage,
        text=text,
        name=name,
        words=set(counts),
        word_counts=counts,
        numbers=tx.numbers(text),
    )


def feature_matrix(
    question: str,
    passages: Sequence[PreparedPassage],
    similarities: Sequence[float],
    name_similarities: Sequence[float | None],
) -> np.ndarray:
    """One row of :data:`FEATURES` per passage (float64)."""
    n = len(passages)
    rows = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return rows
    asked = tx.content_words(question)
    qtype = tx.question_type(question)
    qnumbers = tx.numbers(question)
    idf = _idf(asked, passages)
    total_idf = sum(idf.values()) or 1.0
    mean_len = sum(_length(p) for p in passages) / n or 1.0
    column = {name: i for i, name in enumerate(FEATURES)}
    for i, (p, cos, name_cos) in enumerate(
        zip(passages, similarities, name_similarities, strict=True)
    ):
        present = [w for w in asked if w in p.words]
        has_number = bool(p.numbers)
        values = {
            "cos": cos,
            "cos_name": name_cos if name_cos is not None else 0.0,
            "overlap": len(present) / len(asked) if asked else 0.0,
            "idf_overlap": sum(idf[w] for w in present) / total_idf,
            "bm25": _bm25(asked, p, idf, mean_len) / (total_idf * (_BM25_K1 + 1)),
            "name_in_question": _name_in_question(p.name, asked),
            "number_match": 1.0 if qnumbers & p.numbers else 0.0,
            "has_number": float(has_number),
            "amount_x_number": float(has_number and qtype in {"amount", "measure"}),
            "measure_x_measure_words": float(qtype == "measure" and tx.has_measure_words(p.text)),
            "yes_no_x_answer_opener": float(
                qtype == "yes_no" and tx.opens_with_answer(p.passage.text)
            ),
            "log_words": math.log1p(_length(p)),
            "is_attribute": float(p.name is not None or p.passage.kind in ATTRIBUTE_KINDS),
            f"question_{qtype}": 1.0,
        }
        for name, value in values.items():
            rows[i, column[name]] = value
    return rows


def _idf(asked: list[str], passages: Sequence[PreparedPassage]) -> dict[str, float]:
    n = len(passages)
    idf = {}
    for word in asked:
        df = sum(1 for p in passages if word in p.words)
        # Smoothed so that a word absent from every passage still weighs (it is asked for).
        idf[word] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    return idf


def _bm25(
    asked: list[str], passage: PreparedPassage, idf: dict[str, float], mean_len: float
) -> float:
    length = _length(passage)
    score = 0.0
    for word in asked:
        tf = passage.word_counts.get(word, 0)
        if tf:
            norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * length / mean_len)
            score += idf[word] * tf * (_BM25_K1 + 1) / (tf + norm)
    return score


def _length(passage: PreparedPassage) -> int:
    return sum(passage.word_counts.values())


def _name_in_question(name: str | None, asked: list[str]) -> float:
    """Share of the attribute name's words the question uses ('item weight' vs 'how heavy
    is it' -> 0; vs 'what is the weight' -> 0.5)."""
    if not name:
        return 0.0
    name_words = tx.content_words(name)
    if not name_words:
        return 0.0
    asked_set = set(asked)
    return sum(1 for w in name_words if w in asked_set) / len(name_words)
