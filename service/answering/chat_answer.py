"""A chat answer's parts taken from the catalog's own (fallback, sources), apart from streaming."""

from __future__ import annotations

from catalog.models import ProductHit
from service.answering.answerer import Outcome
from service.answering.types import Answer, Source

_SNIPPET_CHARS = 300


def fallback_answer(outcome: Outcome, why: str) -> Answer:
    answer = outcome.answer
    reason = why if answer.reason is None else f"{why}; {answer.reason}"
    return Answer(answer.text, answer.sources, refused=answer.refused, reason=reason)


def cited_sources(outcome: Outcome, cited: list[str]) -> list[Source]:
    """The model's cited products in its order, each with the passages the deterministic
    answer quotes for it (what the model was shown), else its retrieval hit."""
    quoted: dict[str, list[Source]] = {}
    for source in outcome.answer.sources:
        quoted.setdefault(source.product_id, []).append(source)
    hits = {hit.product_id: hit for hit in outcome.execution.hits}
    sources: list[Source] = []
    for product_id in dict.fromkeys(cited):
        if product_id in quoted:
            sources += quoted[product_id]
        elif product_id in hits:
            sources += hit_sources([hits[product_id]])
    return sources or outcome.answer.sources or hit_sources(outcome.execution.hits)


def hit_sources(hits: list[ProductHit]) -> list[Source]:
    return [
        Source(
            product_id=hit.product_id,
            title=hit.title,
            snippet=hit.snippet[:_SNIPPET_CHARS],
            score=hit.score,
        )
        for hit in hits
    ]
