"""What the answering steps hand each other (no FastAPI here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.models import Filters, ProductHit


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


@dataclass
class RetrievedContext:
    """Everything retrieval found for one shopper message."""

    message: str  # what the shopper typed
    query: str  # the retrieval query, rewritten from the conversation when needed
    filters: Filters  # the constraints actually applied
    relaxed: list[str] | None  # constraints dropped because nothing matched them
    hits: list[ProductHit]  # best first, one per product
    carried_over: list[str] = field(default_factory=list)  # product ids from earlier turns


@dataclass
class Source:
    product_id: str
    title: str
    snippet: str
    score: float


@dataclass
class Answer:
    text: str
    sources: list[Source]
    refused: bool = False
    reason: str | None = None
