"""The askable attributes embedded for matching by meaning: each one's label, its label with
an example value, and the plain questions of its role ("how much does it cost?" for a price).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from catalog.profile import AttributeProfile, FieldRole

# The plain questions of each universal product role: "how much is it?" asks for the price
# whatever the catalog calls it. Shopping language about roles any catalog may have, not any
# catalog's vocabulary. A shopper asks what others think of a product in many ways, and none
# of them names the reviews ("is it any good?").
ROLE_QUESTIONS: dict[FieldRole, tuple[str, ...]] = {
    FieldRole.PRICE: ("how much does it cost?",),
    FieldRole.BRAND: ("who makes it?",),
    FieldRole.RATING: ("how well is it rated?",),
    FieldRole.AVAILABILITY: ("is it in stock?",),
    FieldRole.REVIEWS: (
        "what do customers say about it?",
        "what do people say about it?",
        "what do people think of it?",
        "do people like it?",
        "is it any good?",
        "is it worth buying?",
        "what are its reviews like?",
        "any complaints about it?",
    ),
}


@dataclass
class AttributeIndex:
    """Askable attributes and their embedded descriptions (label; label with a value)."""

    attributes: list[AttributeProfile]
    label_vectors: np.ndarray  # one row per attribute
    value_vectors: np.ndarray  # one row per attribute: "label: example value"
    question_vectors: np.ndarray  # one row per role question
    question_owner: np.ndarray  # the attribute each question row belongs to

    def role_scores(self, vectors: np.ndarray) -> np.ndarray:
        """Per clause and attribute: the best cosine to one of its role's plain questions
        (0 for attributes whose role has none)."""
        scores = np.zeros((len(vectors), len(self.attributes)), dtype=np.float32)
        if len(self.question_owner):
            similarities = vectors @ self.question_vectors.T
            for column, owner in enumerate(self.question_owner):
                scores[:, owner] = np.maximum(scores[:, owner], similarities[:, column])
        return scores


def role_words(attribute: AttributeProfile) -> str:
    """The attribute's label and its role's plain questions, as one text."""
    return " ".join((attribute.label, *ROLE_QUESTIONS.get(attribute.role, ())))


def build_index(attributes: list[AttributeProfile], embeddings: Embeddings) -> AttributeIndex:
    labels = [attribute.label for attribute in attributes]
    valued = [
        f"{attribute.label}: {attribute.examples[0]}" if attribute.examples else attribute.label
        for attribute in attributes
    ]
    owners = [i for i, a in enumerate(attributes) for _ in ROLE_QUESTIONS.get(a.role, ())]
    questions = [q for a in attributes for q in ROLE_QUESTIONS.get(a.role, ())]
    vectors = np.asarray(embeddings.embed_documents(labels + valued + questions), np.float32)
    n = len(labels)
    return AttributeIndex(
        attributes,
        vectors[:n],
        vectors[n : 2 * n],
        vectors[2 * n :],
        np.asarray(owners, dtype=np.int64),
    )
