"""The per-intent scorer: gold values read in the catalog's locale, constraints checked against
the cited products' records, refusals exactly when they should be."""

from __future__ import annotations

from catalog.models import Product
from evaluation.intent_run import IntentResult, run, states, summarise
from evaluation.intents import IntentQuestion, generate


def test_numbers_are_read_in_the_catalog_locale() -> None:
    assert states("It costs ₹1,50,000.00 [p1].", "150000", "en_IN")
    assert states("Price: $1,299.00 [9].", "1299.0", "en_US")
    assert not states("Price: $1,299.00 [9].", "1299.5", "en_US")
    assert states("Return policy: 30 days return policy [3].", "30 days return policy", "en_US")


def _runner(answer: str, refused: bool = False, records: dict | None = None):
    def post(path: str, body: dict):
        return {"answer": answer, "refused": refused, "plan": {"intent": "x"}}, 5.0, None

    return post, (lambda pid: (records or {}).get(pid))


def test_a_cited_product_that_breaks_the_constraints_is_wrong() -> None:
    question = IntentQuestion(
        "q1", "search", "phones under 100", constraints={"category": "phones", "max_price": 100}
    )
    records = {"1": {"price": 90, "category": "phones"}, "2": {"price": 150, "category": "phones"}}
    post, record = _runner("1. A [1]\n2. B [2]", records=records)
    (result,) = run([question], post, record, "en_US", "extractive")
    assert not result.correct and "[2]" in result.why
    post, record = _runner("1. A [1]", records=records)
    (result,) = run([question], post, record, "en_US", "extractive")
    assert result.correct


def test_refusals_and_dialogue() -> None:
    out_of_scope = IntentQuestion(
        "q2", "out_of_scope", "a poem?", must_refuse=True, no_products=True
    )
    post, record = _runner("I can only help with the catalog.", refused=True)
    results = run([out_of_scope], post, record, "en_US", "extractive")
    post, record = _runner("Sure, here is [5].", refused=False)
    results += run([out_of_scope], post, record, "en_US", "extractive")
    assert [r.correct for r in results] == [True, False]
    summary = summarise(results)
    assert summary["out_of_scope"]["accuracy"] == 0.5 and summary["all"]["questions"] == 2


def test_guard_replacements_are_counted_from_the_reason() -> None:
    result = IntentResult(
        IntentQuestion("q3", "attribute", "x?"),
        "",
        [],
        False,
        None,
        True,
        "",
        1.0,
        reason="the model's answer failed the fact check (states '$5')",
    )
    assert result.replaced and summarise([result])["all"]["guard_replaced"] == 1


def test_ordered_questions_have_the_one_product_with_the_extreme_value() -> None:
    def product(pid: str, category: str, weight: float) -> Product:
        return Product(
            product_id=pid, title=f"Item {pid}", category=category, attributes={"weight": weight}
        )

    # Category "a": one heaviest and one lightest; category "b": a tie at both ends.
    products = [product("1", "a", 3), product("2", "a", 1), product("3", "a", 2)]
    products += [product(str(i), "b", 5) for i in range(4, 7)]
    ordered = [q for q in generate(products, "t") if q.intent == "ordered"]
    assert ordered
    for question in ordered:
        assert question.constraints == {"category": "a"}
        assert question.first_id == ("1" if "highest" in question.question else "2")
    post, record = _runner("1. Item 2 [2]\n2. Item 1 [1]")
    results = run(ordered, post, record, "en_US", "extractive")
    assert [r.correct for r in results] == [q.first_id == "2" for q in ordered]
