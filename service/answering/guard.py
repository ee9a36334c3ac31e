"""Grounding guard for model-written answers: every citation names a retrieved product, and every
price, number and attribute value stated appears in a cited product's record or chunks.

Deterministic and tolerant of formatting: "$1,299.99" matches 1299.99, "4.5 stars" matches a
rating of 4.5, and a number written with fewer decimals matches the record value rounded to
that precision ("$13" for 12.99, "4.6" for 4.56).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from catalog.models import ProductHit
from service.answering.types import RetrievedContext

_CITATION = re.compile(r"\[\s*([A-Za-z0-9][\w.:\-]*(?:\s*[,;]\s*[A-Za-z0-9][\w.:\-]*)*)\s*\]")
_NUMBER = re.compile(r"(?<![\w.])\$?\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w])")
_LIST_MARKER = re.compile(r"^\s*\d{1,2}[.)]\s", re.MULTILINE)
_RATING_SCALE = re.compile(r"\s*(?:out\s+of\s+5(?:\.0)?|/\s*5(?:\.0)?)(?!\.?\d)")
# Record fields whose values are short claims a model could misattribute between products.
_CLAIM_FIELDS = (
    "warrantyInformation",
    "shippingInformation",
    "returnPolicy",
    "availabilityStatus",
    "availability",
    "brand",
)


@dataclass
class GuardResult:
    ok: bool
    problems: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)


def parse_citations(text: str) -> list[str]:
    """Product ids cited as ``[product_id]`` (also ``[a, b]``), in order, without repeats."""
    found: list[str] = []
    for match in _CITATION.finditer(text):
        # A markdown link "[label](url)" is not a citation.
        if text[match.end() : match.end() + 1] == "(":
            continue
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            if part and part not in found:
                found.append(part)
    return found


def check_grounding(answer_text: str, ctx: RetrievedContext) -> GuardResult:
    cited = parse_citations(answer_text)
    retrieved = {hit.product_id: hit for hit in ctx.hits}
    problems = [
        f"cites [{product_id}], which is not among the retrieved products"
        for product_id in cited
        if product_id not in retrieved
    ]
    cited_hits = [retrieved[product_id] for product_id in cited if product_id in retrieved]

    body = _CITATION.sub(" ", answer_text)
    body = _LIST_MARKER.sub(" ", body)
    body = _RATING_SCALE.sub(" ", body)  # "4.5 out of 5": the 5 is the scale, not a claim
    stated = list(_numbers(body))
    if stated and not cited_hits:
        problems.append("states figures without citing a retrieved product")
    else:
        evidence = set(_numbers(_evidence_text(cited_hits)))
        evidence.update(_numbers(ctx.message))
        evidence.update(
            float(value)
            for value in ctx.filters.model_dump(exclude_none=True).values()
            if isinstance(value, int | float) and not isinstance(value, bool)
        )
        for text, value, decimals in stated:
            if not _supported(value, decimals, evidence):
                problems.append(f"'{text}' does not appear in the cited products")

    problems.extend(_claim_problems(body, cited_hits, ctx.hits))
    return GuardResult(ok=not problems, problems=problems, cited=cited)


# -- helpers -------------------------------------------------------------------------------
def _numbers(text: str) -> Iterator[Any]:
    for match in _NUMBER.finditer(text):
        whole, fraction = match.group(1), match.group(2)
        value = float(whole.replace(",", "") + ("." + fraction if fraction else ""))
        yield (match.group(0).strip(), value, len(fraction or ""))


def _supported(value: float, decimals: int, evidence: Iterable[Any]) -> bool:
    for item in evidence:
        known = item[1] if isinstance(item, tuple) else float(item)
        if abs(known - value) < 1e-6 or round(known, decimals) == value:
            return True
    return False


def _evidence_text(hits: list[ProductHit]) -> str:
    parts: list[str] = []
    for hit in hits:
        parts.append(hit.title)
        parts.extend(chunk.text for chunk in hit.chunks)
        parts.extend(str(value) for key, value in hit.metadata.items() if key != "record")
        parts.extend(_flatten(hit.record))
    return "\n".join(parts)


def _flatten(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _claims(hit: ProductHit) -> set[str]:
    record = hit.record
    attributes = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
    values: set[str] = set()
    for source in (record, attributes or {}, hit.metadata):
        for key in _CLAIM_FIELDS:
            value = source.get(key)
            if isinstance(value, str) and len(value) >= 3:
                values.add(value.lower())
    return values


def _claim_problems(body: str, cited: list[ProductHit], retrieved: list[ProductHit]) -> list[str]:
    """Attribute values of retrieved products stated in the answer must be a cited one's."""
    lowered = " ".join(body.lower().split())
    allowed = set().union(*(_claims(hit) for hit in cited)) if cited else set()
    in_stock = {hit.record.get("in_stock", hit.metadata.get("in_stock")) for hit in cited}
    problems = []
    candidates = set().union(*(_claims(hit) for hit in retrieved)) if retrieved else set()
    for value in sorted(candidates - allowed):
        if value in ("in stock", "out of stock") and (value == "in stock") in in_stock:
            continue
        if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", lowered) and not any(
            value in other for other in allowed
        ):
            problems.append(f"'{value}' is not what the cited products' records say")
    if re.search(r"\bout of stock\b", lowered) and cited and False not in in_stock:
        problems.append("'out of stock' contradicts the cited products' stock")
    return problems
