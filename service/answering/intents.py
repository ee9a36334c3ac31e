"""What kind of message this is, by meaning: nearest prototypes in embedding space.

The prototypes are generic shopping-dialogue utterances (no catalog's products, brands or
categories), embedded once per process. The planner combines this guess with what it found in
the message (named products, constraints, asked attributes): structure decides whenever the
message is about the catalog; the prototypes decide between small talk, help, out-of-scope
and a request for something the catalog does not carry.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np
from langchain_core.embeddings import Embeddings

Intent = Literal[
    "search", "attribute", "compare", "recommend", "small_talk", "help", "out_of_scope"
]

PROTOTYPES: dict[Intent, tuple[str, ...]] = {
    "small_talk": (
        "hi",
        "hello",
        "hey there",
        "good morning",
        "thanks",
        "thank you so much",
        "great, thanks!",
        "ok cool",
        "bye",
        "see you later",
        "how are you today?",
        "nice",
        "awesome",
        "you're helpful",
    ),
    "help": (
        "what can you help me with?",
        "what can you do?",
        "how does this work?",
        "who are you?",
        "help",
        "what kind of questions can I ask?",
        "what are you for?",
        "how do I use this assistant?",
        "what do you know about?",
    ),
    "out_of_scope": (
        "what's the weather like tomorrow?",
        "tell me a joke",
        "who won the football game yesterday?",
        "write me a poem",
        "what is the capital of France?",
        "can you do my homework?",
        "what's the meaning of life?",
        "translate this sentence into German",
        "how do I fix my car engine?",
        "what time is it in Tokyo?",
        "what's the latest news?",
        "solve this math problem for me",
    ),
    "search": (
        "show me some options",
        "do you have any of these in stock?",
        "I'm looking for something to buy",
        "do you sell these?",
        "find me one under fifty",
        "list what you have",
        "what do you have in that category?",
        "cheapest ones please",
        "anything from that brand?",
        "I need a new one",
    ),
    "recommend": (
        "can you recommend something?",
        "what would you suggest?",
        "what's a good gift for my mother?",
        "which one should I buy?",
        "what's best for a beginner?",
        "suggest something nice for a birthday",
        "any recommendations for a student?",
        "what do you recommend for travel?",
    ),
    "attribute": (
        "how much does it cost?",
        "what is the price of this?",
        "does it have a warranty?",
        "is it in stock?",
        "what is it made of?",
        "how long does delivery take?",
        "what are its dimensions?",
        "can I return it?",
        "who makes it?",
        "what colour is it?",
    ),
    "compare": (
        "which is cheaper, this one or that one?",
        "compare these two",
        "what's the difference between them?",
        "which of the two is better?",
        "how do they compare?",
        "is the first one better than the second?",
        "this versus that",
    ),
}


@dataclass(frozen=True)
class IntentGuess:
    intent: Intent
    similarity: float  # cosine to the nearest prototype of that intent
    scores: dict[Intent, float]  # best cosine per intent


class IntentClassifier:
    """Nearest-prototype intent guesses; the prototypes are embedded on first use."""

    def __init__(self, embeddings: Embeddings) -> None:
        self._embeddings = embeddings
        self._lock = threading.Lock()
        self._labels: list[Intent] = []
        self._matrix: np.ndarray | None = None

    def _prototypes(self) -> tuple[list[Intent], np.ndarray]:
        if self._matrix is None:
            with self._lock:
                if self._matrix is None:
                    labels: list[Intent] = []
                    texts: list[str] = []
                    for intent, examples in PROTOTYPES.items():
                        labels += [intent] * len(examples)
                        texts += list(examples)
                    vectors = np.asarray(self._embeddings.embed_documents(texts), dtype=np.float32)
                    self._labels, self._matrix = labels, vectors
        assert self._matrix is not None
        return self._labels, self._matrix

    def guess(self, vector: list[float] | np.ndarray) -> IntentGuess:
        labels, matrix = self._prototypes()
        similarities = matrix @ np.asarray(vector, dtype=np.float32)
        scores: dict[Intent, float] = {}
        for label, similarity in zip(labels, similarities, strict=True):
            scores[label] = max(scores.get(label, -1.0), float(similarity))
        best = max(scores, key=lambda intent: scores[intent])
        return IntentGuess(best, scores[best], scores)
