"""The verdict of a comparison: which product wins on the dimension asked, in words that
fit it ("is cheaper", "has the longer warranty"), or the products that tie."""

from __future__ import annotations

from service.answering.facts import Execution
from service.answering.ordering import leaders
from service.answering.scales import PRICE_RATING_WORDS, Scale, split_order
from service.answering.wording import shown

_BARE_COMPARATIVES = frozenset({"more", "less", "fewer"})  # "has more stock", not "the more"


def joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def compare_verdict(execution: Execution) -> str | None:
    compare_on = execution.plan.compare_on
    if compare_on is None:
        return None
    key, _ = split_order(compare_on)
    winner = next((p for p in execution.products if p.product_id == execution.winner), None)
    if winner is None:
        return "They are the same on that." if _all_equal(execution, key) else _tie(execution)
    others = [p for p in execution.products if p is not winner and p.field(key) is not None]
    winner_fact = winner.field(key)
    assert winner_fact is not None
    versus = ", ".join(f"{fact.text} [{p.product_id}]" for p in others if (fact := p.field(key)))
    name = shown(winner.title)
    verdict = _winning(execution.plan.scale, compare_on, len(execution.products) > 2)
    return f"The {name} {verdict}: {winner_fact.text} [{winner.product_id}] vs {versus}."


def _tie(execution: Execution) -> str | None:
    """Several products share the best value (but not all): they are named together."""
    plan = execution.plan
    assert plan.compare_on is not None
    key, _ = split_order(plan.compare_on)
    best = set(leaders(execution.products, plan.compare_on, plan.scale))
    valued = [(p, fact) for p in execution.products if (fact := p.field(key)) is not None]
    if len(best) < 2 or len(best) == len(valued):
        return None
    top = [(p, fact) for p, fact in valued if p.product_id in best]
    names = joined([shown(p.title) for p, _ in top])
    cited = ", ".join(f"{fact.text} [{p.product_id}]" for p, fact in top)
    rest = ", ".join(f"{fact.text} [{p.product_id}]" for p, fact in valued if (p, fact) not in top)
    verdict = _winning(plan.scale, plan.compare_on, True, plural=True)
    return f"The {names} {verdict}: {cited} vs {rest}."


def _winning(
    scale: Scale | None, compare_on: str, of_several: bool, *, plural: bool = False
) -> str:
    """What the winner of a comparison is: "is cheaper", "is lightest", "has the highest
    stock" ("are", "have" for a tie)."""
    be, have = ("are", "have") if plural else ("is", "has")
    if scale is not None and scale.order == compare_on and scale.label:
        form = scale.forms[1] if of_several else scale.forms[0]
        if scale.noun and scale.adjective:  # "is more popular", "is the most popular"
            return f"{be} {'' if form in _BARE_COMPARATIVES else 'the '}{form} {scale.noun}"
        if scale.noun:  # "has the longer warranty", "has more stock"
            article = "" if form in _BARE_COMPARATIVES else "the "
            return f"{have} {article}{form} {scale.noun}"
        return f"{be} the {form}" if of_several else f"{be} {form}"
    key, descending = split_order(compare_on)
    two, several = PRICE_RATING_WORDS.get((key, descending), ("wins", "wins"))
    return f"{be} {several if of_several else two}"


def _all_equal(execution: Execution, key: str) -> bool:
    values = [f.value for p in execution.products if (f := p.field(key)) is not None]
    return len(values) >= 2 and len(set(map(str, values))) == 1
