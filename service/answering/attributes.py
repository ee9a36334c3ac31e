"""Which record attributes a message asks about, matched by meaning.

The message is cut into clauses ("what's the price | and the warranty of X"), the named
products' words are taken out, and each clause is compared in embedding space with every
askable attribute's label and its label with an example value. A clause asks for the best
attribute when that similarity clears ASKED_SIMILARITY and beats the runner-up clearly; a
message may ask for several. Words that name no attribute of this catalog ("megapixels" in a
catalog without a camera field) are reported as missing, so the answer can say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from catalog.profile import AttributeProfile
from catalog.text import content_words, tokens
from service.answering.attribute_index import AttributeIndex, role_words

# Similarity (mean of label and label-with-value cosines) above which a clause asks for an
# attribute, and the margin it must keep over the runner-up. The threshold maximises F1 of
# "this attribute answers this question" on 300 questions of semiPQA's training split
# (data/pqa_train: precision 0.66, recall 0.71 at 0.40; 0.55 / 0.80 at 0.34).
ASKED_SIMILARITY = 0.40
MARGIN = 0.02
# Cosine to a role's plain question above which a clause paraphrases it (paraphrases score
# 0.65-0.9 with MiniLM; "how much is shipping" 0.52 is not a price question).
ROLE_QUESTION_SIMILARITY = 0.6
# Clauses: split on ' and ', commas, semicolons and sentence ends, never inside a product name.
_CLAUSE = re.compile(r"\s+(?:and|&|plus|also|as well as)\s+|[,;?!]\s*|\.\s+", re.IGNORECASE)
_MIN_CLAUSE_CHARS = 3
_ENDINGS = ("ing", "ed", "d")  # "saying", "rated", "liked" against "say", "rate", "like"


@dataclass(frozen=True)
class AskedAttribute:
    key: str
    label: str
    similarity: float
    clause: str


def clauses(message: str, spans: list[tuple[int, int]]) -> list[str]:
    """The message's clauses with the named products' words blanked out."""
    chars = list(message)
    for start, end in spans:
        for i in range(start, min(end, len(chars))):
            chars[i] = " "
    text = "".join(chars)
    parts = [" ".join(part.split()) for part in _CLAUSE.split(text)]
    # A clause of stopwords only still asks something ("how much is it") when it has two words.
    return [
        part
        for part in parts
        if len(part) >= _MIN_CLAUSE_CHARS and (content_words(part) or len(part.split()) >= 2)
    ]


def match_attributes(
    parts: list[str], vectors: np.ndarray, index: AttributeIndex
) -> list[AskedAttribute]:
    """The attributes the clauses (embedded as ``vectors``) ask for, in the order asked."""
    if not parts or not index.attributes:
        return []
    scores = (vectors @ index.label_vectors.T + vectors @ index.value_vectors.T) / 2
    # A paraphrase of a role's plain question ("how much is the") asks for that role, when
    # the clause names nothing else ("how much is shipping" is about shipping).
    roles = index.role_scores(vectors)
    own = np.array([_only_role_words(part, index) for part in parts], dtype=bool)
    paraphrase = (roles >= ROLE_QUESTION_SIMILARITY) & own
    scores = np.where(paraphrase, np.maximum(scores, roles), scores)
    asked: list[AskedAttribute] = []
    for part, row in zip(parts, scores, strict=True):
        order = np.argsort(-row)
        best = int(order[0])
        runner_up = float(row[order[1]]) if len(order) > 1 else -1.0
        similarity = float(row[best])
        if similarity < ASKED_SIMILARITY or similarity - runner_up < MARGIN:
            continue
        attribute: AttributeProfile = index.attributes[best]
        if compound(part, attribute.label):
            continue  # "energy rating" asks for something else than the rating
        if all(item.key != attribute.key for item in asked):
            asked.append(AskedAttribute(attribute.key, attribute.label, similarity, part))
    return asked


def _only_role_words(clause: str, index: AttributeIndex) -> np.ndarray:
    """Per attribute: the clause's content words all belong to its label or plain question."""
    words = set(content_words(clause))
    own = []
    for attribute in index.attributes:
        vocabulary = set(content_words(role_words(attribute)))
        own.append(all(_inflected(word, vocabulary) for word in words))
    return np.array(own, dtype=bool)


def _inflected(word: str, vocabulary: set[str]) -> bool:
    """The word or its stem before a regular verb ending is in the vocabulary ("saying")."""
    return word in vocabulary or any(
        word.endswith(ending) and word[: -len(ending)] in vocabulary for ending in _ENDINGS
    )


def compound(clause: str, label: str) -> bool:
    """The label's first word appears in the clause right after another content word that
    the label lacks: a compound noun naming a different attribute ("energy rating")."""
    label_words = [token.stem for token in tokens(label) if not token.is_stopword]
    if not label_words:
        return False
    words = tokens(clause)
    for i, token in enumerate(words):
        if token.stem == label_words[0] and i > 0:
            before = words[i - 1]
            if not before.is_stopword and before.stem not in label_words:
                return True
    return False


def named_by_word(text: str, attributes: list[AttributeProfile]) -> AttributeProfile | None:
    """The one attribute whose label holds a word of ``text`` that no other label holds
    ("which has a longer warranty": "Warranty information"; "information" is in several)."""
    owners: dict[str, set[str]] = {}
    for attribute in attributes:
        for word in content_words(attribute.label):
            owners.setdefault(word, set()).add(attribute.key)
    said = set(content_words(text))
    found = {next(iter(keys)) for word, keys in owners.items() if word in said and len(keys) == 1}
    if len(found) != 1:
        return None
    key = found.pop()
    return next(attribute for attribute in attributes if attribute.key == key)
