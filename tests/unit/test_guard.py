"""The grounding guard: citations must name retrieved products, figures must be in them."""

from __future__ import annotations

import json

from catalog.models import Filters, ProductHit, ScoredChunk
from service.answering.guard import check_grounding, parse_citations
from service.answering.types import RetrievedContext


def _hit(product_id: str, title: str, **fields: object) -> ProductHit:
    attributes = fields.pop("attributes", {})
    record = {"product_id": product_id, "title": title, "attributes": attributes, **fields}
    metadata: dict[str, object] = {
        "product_id": product_id,
        "title": title,
        "record": json.dumps(record),
    }
    metadata.update({k: v for k, v in fields.items() if isinstance(v, int | float | str)})
    chunk = ScoredChunk(
        chunk_id=f"{product_id}::core::0",
        product_id=product_id,
        text=f"{title}\n{fields.get('description', '')}",
        metadata=metadata,
        score=1.0,
    )
    return ProductHit(
        product_id=product_id, title=title, score=1.0, metadata=metadata, chunks=[chunk]
    )


def _ctx(message: str = "how much is the laptop?") -> RetrievedContext:
    laptop = _hit(
        "78",
        "Apple MacBook Pro 14 Inch",
        price=1299.99,
        rating=4.5,
        brand="Apple",
        in_stock=True,
        description="A sleek laptop with a 14 inch display.",
        attributes={"warrantyInformation": "3 year warranty", "availabilityStatus": "In Stock"},
    )
    phone = _hit(
        "124",
        "iPhone X",
        price=899.99,
        brand="Apple",
        in_stock=False,
        attributes={
            "warrantyInformation": "Lifetime warranty",
            "availabilityStatus": "Out of Stock",
        },
    )
    return RetrievedContext(
        message=message,
        query=message,
        filters=Filters.model_validate({}),
        relaxed=None,
        hits=[laptop, phone],
    )


def test_parse_citations() -> None:
    text = "It costs $5 [78]. See also [124, B00X-1] and [78] again; [a link](http://x) is not one."
    assert parse_citations(text) == ["78", "124", "B00X-1"]
    assert parse_citations("no citations here") == []


def test_grounded_answer_passes_with_formatting_differences() -> None:
    result = check_grounding(
        "The MacBook costs $1,299.99 [78], is rated 4.5 stars, has a 3 year warranty and a "
        "14 inch display. It is In Stock.",
        _ctx(),
    )
    assert result.ok, result.problems
    assert result.cited == ["78"]


def test_rounded_figures_are_tolerated() -> None:
    assert check_grounding("About $1,300 [78].", _ctx()).ok


def test_citation_of_a_product_not_retrieved_fails() -> None:
    result = check_grounding("It costs $1,299.99 [999].", _ctx())
    assert not result.ok
    assert any("[999]" in problem for problem in result.problems)


def test_invented_price_fails() -> None:
    result = check_grounding("The MacBook costs $999.00 [78].", _ctx())
    assert not result.ok
    assert any("999.00" in problem for problem in result.problems)


def test_number_from_an_uncited_product_fails() -> None:
    # 899.99 belongs to the iPhone, but only the MacBook is cited.
    assert not check_grounding("The MacBook costs $899.99 [78].", _ctx()).ok


def test_figures_without_any_citation_fail() -> None:
    result = check_grounding("The MacBook costs $1,299.99.", _ctx())
    assert not result.ok


def test_attribute_value_of_another_product_fails() -> None:
    result = check_grounding("The MacBook [78] comes with a lifetime warranty.", _ctx())
    assert not result.ok
    assert any("lifetime warranty" in problem for problem in result.problems)
    stock = check_grounding("The MacBook [78] is out of stock.", _ctx())
    assert not stock.ok


def test_numbers_from_the_question_and_list_markers_are_allowed() -> None:
    ctx = _ctx("anything under $1500?")
    answer = "Under $1500 I found:\n1. Apple MacBook Pro 14 Inch, $1299.99 [78]"
    assert check_grounding(answer, ctx).ok


def test_plain_refusal_is_grounded() -> None:
    result = check_grounding("I couldn't find that in the catalog.", _ctx())
    assert result.ok and result.cited == []


def test_rating_scale_is_not_a_claim() -> None:
    assert check_grounding("Rated 4.5 out of 5 [78], or 4.5/5.", _ctx()).ok
    assert not check_grounding("Rated 4.9 out of 5 [78].", _ctx()).ok
