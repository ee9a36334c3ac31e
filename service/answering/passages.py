"""Passages of a product's text, and how well each answers a question.

A product's chunks are cut into passages (lines, or sentences of long lines) without their
"Title (kind):" headers and label-only lines. A :class:`PassageRanker` scores them; the
learned evidence scorer (``catalog.evidence``) is the one the service uses when its artefact
is present, with its answerability threshold chosen on the training data's held-out split;
:class:`CosineRanker` is the fallback that needs no artefact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from catalog.models import ScoredChunk
from catalog.text import words

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_HEADER = re.compile(r"^(?P<title>.{1,300}?) \((?P<kind>[a-z]+)\): ")
_LABEL_ONLY = re.compile(r"^[^:]{1,40}:\s*$")
_FIELD_LINE = re.compile(r"^[^:.]{1,40}:\s+(?P<value>.+)$")  # "Category: ...", not prose
# Longer lines are split into sentences: the evidence scorer learned from passages of about
# this size (90 % of hetPQA's passages that answer are at most 254 characters), and a
# 400-character description scored as one passage hides its one answering sentence
# ("splash and water resistant" for "is it waterproof?").
LONG_LINE = 250
MIN_CHARS = 3
# Ingestion writes a review as '"comment" (reviewer)': the reviewer's name answers nothing
# ("Sophia Brown" for "do you have brown rice?").
_ATTRIBUTED = re.compile(r'^(?P<said>".+")\s+\([^()]{1,80}\)$')


@dataclass
class Passage:
    text: str
    kind: str  # the chunk kind it came from: core, description, specs, reviews, snippet...


class PassageRanker(Protocol):
    def score(self, question: str, passages: list[Passage]) -> list[float]:
        """One score per passage, higher is better."""
        ...

    def answerable(self, best_score: float) -> bool:
        """Whether a passage with this score answers the question."""
        ...


class CosineRanker:
    """Cosine similarity of question and passage embeddings (no learned artefact needed)."""

    threshold = 0.35

    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings

    def score(self, question: str, passages: list[Passage]) -> list[float]:
        if not passages:
            return []
        vectors = np.asarray(
            self.embeddings.embed_documents([question, *(p.text for p in passages)]),
            dtype=np.float32,
        )
        return [float(value) for value in vectors[1:] @ vectors[0]]

    def answerable(self, best_score: float) -> bool:
        return best_score >= self.threshold


def passages_of(chunks: Iterable[ScoredChunk], title: str) -> list[Passage]:
    """Every distinct passage of the chunks, in chunk order."""
    seen: set[str] = set()
    found: list[Passage] = []
    for chunk in chunks:
        kind = str(chunk.metadata.get("kind") or "")
        text = chunk.text
        header = _HEADER.match(text)
        if header is not None and header.group("title") == title:
            kind = kind or header.group("kind")
            text = text[header.end() :]
        for line in text.splitlines():
            line = line.strip()
            if not line or line == title or _LABEL_ONLY.match(line):
                continue
            pieces = _SENTENCE.split(line) if len(line) > LONG_LINE else [line]
            for piece in pieces:
                piece = piece.strip()
                if len(piece) >= MIN_CHARS and piece not in seen:
                    seen.add(piece)
                    found.append(Passage(piece, kind or "core"))
    return found


def evidence_text(passage: Passage) -> Passage:
    """The passage as evidence: a review without its reviewer's name."""
    found = _ATTRIBUTED.match(passage.text) if passage.kind == "reviews" else None
    return Passage(found.group("said"), passage.kind) if found else passage


def field_value(text: str) -> str | None:
    """The value of a "Label: value" line, None for prose."""
    found = _FIELD_LINE.match(text)
    return found.group("value") if found else None


def restates(passage: Passage, mention: str) -> bool:
    """The passage is a field whose value the question already said to name the product
    ("Brand: Samsung" for "what camera does the Samsung Galaxy S7 have?"): it answers
    nothing the shopper asked."""
    value = set(words(field_value(passage.text) or ""))
    return bool(value) and value <= set(words(mention))
