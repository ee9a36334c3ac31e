"""The guard for model-written answers: every figure bound to the fact it is stated for.

- every citation names a product of the plan (one whose facts the model was given);
- no product outside the plan is named in the text;
- a price (an amount with a currency marker, read in the catalog's currency and locale) must
  equal the price of a product cited in the same sentence;
- any other number must be in a fact of a product cited in that sentence, and when the
  sentence names an attribute ("warranty"), in that attribute's value;
- numbers the shopper wrote are not evidence: only the facts are.

Deterministic, and tolerant of formatting: "$1,299.99" is 1299.99, "4.5 stars" is a rating of
4.5, and a number written with fewer decimals matches a value rounded to that precision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from catalog.money_text import find_money
from catalog.text import content_words
from service.answering.catalog_view import CatalogView
from service.answering.facts import Execution, ProductFacts
from service.answering.measures import physical_unit
from service.answering.references import named_products
from service.answering.scales import split_order, winning_words
from service.answering.wording import shown

_CITATION = re.compile(r"\[\s*([A-Za-z0-9][\w.:\-]*(?:\s*[,;]\s*[A-Za-z0-9][\w.:\-]*)*)\s*\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(*-])|\n+")
_LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*•])\s", re.MULTILINE)
_NEGATION = re.compile(r"\b(?:not|no|none|nothing|cannot|can't|unable|doesn't|does not)\b", re.I)
_SCALE = re.compile(r"\s*(?:out\s+of\s+|/\s*)(\d+(?:\.\d+)?)")


@dataclass
class GuardResult:
    ok: bool
    problems: list[str] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)


def parse_citations(text: str) -> list[str]:
    """Product ids cited as ``[product_id]`` (also ``[a, b]``), in order, without repeats."""
    found: list[str] = []
    for match in _CITATION.finditer(text):
        if text[match.end() : match.end() + 1] == "(":
            continue  # a markdown link "[label](url)" is not a citation
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            if part and part not in found:
                found.append(part)
    return found


def check_answer(text: str, execution: Execution, view: CatalogView) -> GuardResult:
    facts = {product.product_id: product for product in execution.products}
    cited = parse_citations(text)
    problems = [
        f"cites [{product_id}], which is not a product of the plan"
        for product_id in cited
        if product_id not in facts
    ]
    # Line by line, without list markers: a list names one product per line, a name run
    # across two lines ("... (Sprint), $649.99 | 2. Apple - iPhone 6s Plus") names none, and
    # the marker "2." is no "Stripe 2".
    for line in _LIST_MARKER.sub(" ", _CITATION.sub(" ", text)).splitlines():
        for ref in named_products(line, view) if line.strip() else []:
            if ref.product_id not in facts and not ref.ambiguous:
                problems.append(f"names {ref.title!r}, which is not a product of the plan")
    body = _LIST_MARKER.sub(" ", text)
    bounds = _price_bounds(execution)
    for sentence in _sentences(body):
        ids = [pid for pid in parse_citations(sentence) if pid in facts]
        own = bounds if not ids else set()  # a sentence citing nothing may restate the filter
        if not ids and len(facts) == 1:
            ids = list(facts)
        problems += _figure_problems(
            _without_absent(_CITATION.sub(" ", sentence), execution),
            [facts[i] for i in ids],
            view,
            own,
        )
    problems += _order_problems(body, cited, execution)
    problems += _winner_problems(body, execution)
    return GuardResult(ok=not problems, problems=problems, cited=cited)


def _without_absent(sentence: str, execution: Execution) -> str:
    """A sentence saying the catalog lacks a model ("has no iPhone 9") or what none of a
    model's products mention ("None of the catalog's iPhone 6s ...") states no figure."""
    said = [*execution.absent, *(execution.lacking[:1] if execution.lacking else [])]
    if not said or not _NEGATION.search(sentence):
        return sentence
    for model in said:
        sentence = re.sub(re.escape(model), " ", sentence, flags=re.IGNORECASE)
    return sentence


def _winner_problems(text: str, execution: Execution) -> list[str]:
    """A comparison's answer calls the winner, not another product, "cheaper" ("lighter",
    "more popular"): the citation nearest the word in its sentence, leaving out the ones
    after a "than" that follows it ("X [1] is cheaper than Y [2]")."""
    plan = execution.plan
    winner = execution.winner
    if plan.intent != "compare" or plan.compare_on is None or winner is None:
        return []
    words = winning_words(plan.compare_on, plan.scale)
    for sentence in _sentences(text):
        lowered = sentence.lower()
        for word in words:
            for match in re.finditer(rf"\b{re.escape(word)}\b", lowered):
                than = lowered.find(" than ", match.end())
                marks = [
                    (abs(c.start() - match.start()), c.group(1))
                    for c in _CITATION.finditer(sentence)
                    if than < 0 or c.start() < than
                ]
                if marks and (called := min(marks)[1]) != winner:
                    return [f'calls [{called}] "{word}", but [{winner}] is']
    return []


def _order_problems(text: str, cited: list[str], execution: Execution) -> list[str]:
    """A sorted list's answer puts first a product that ranks first (or ties with it); an
    order the catalog cannot rank by is not claimed ("the newest" without any dates)."""
    plan = execution.plan
    scale = plan.scale
    if scale is not None and scale.key is None:
        claims = [
            s for s in _sentences(text) if scale.word in s.lower() and not _NEGATION.search(s)
        ]
        return [f'claims an order ("{scale.word}") the catalog cannot rank by'] if claims else []
    if plan.sort is None or plan.intent not in ("search", "recommend") or not execution.products:
        return []
    key, _ = split_order(plan.sort)
    top = execution.products[0].field(key)
    first = next(
        (pid for pid in cited if any(p.product_id == pid for p in execution.products)), None
    )
    if top is None or first is None:
        return []
    tied = {p.product_id for p in execution.products if (f := p.field(key)) and f.text == top.text}
    return [] if first in tied else [f"puts [{first}] first, not the first of the order"]


def _price_bounds(execution: Execution) -> set[float]:
    """The plan's own price limits ("under 700"): restating them states no product's price."""
    filters = execution.plan.filters
    return {bound for bound in (filters.min_price, filters.max_price) if bound is not None}


def _sentences(text: str) -> list[str]:
    """Sentences, each keeping the citations that close it ("... $5 [3]. Next")."""
    parts = [part.strip() for part in _SENTENCE.split(text) if part.strip()]
    merged: list[str] = []
    for part in parts:
        if merged and _CITATION.fullmatch(part.rstrip(".")):
            merged[-1] += " " + part
        else:
            merged.append(part)
    return merged


def _figure_problems(
    sentence: str, cited: list[ProductFacts], view: CatalogView, bounds: set[float]
) -> list[str]:
    profile = view.profile
    names = {name for p in cited for name in (p.title, shown(p.title))}
    for title in sorted(names, key=len, reverse=True):
        sentence = sentence.replace(title, " ")  # "iPhone 6" names, it states no figure
    mentions = find_money(sentence, profile.currency, profile.locale, profile.units)
    mentions = [
        m for m in mentions if not any(_same(m.value, b, m.text, exact=True) for b in bounds)
    ]
    if mentions and not cited:
        return [f"states {mentions[0].text!r} without citing a product of the plan"]
    problems = []
    scale = _scales(sentence)
    for mention in mentions:
        if mention.value in scale:
            continue  # "out of 5": the scale, not a claim
        if mention.is_money:
            prices = [f.value for p in cited if (f := p.field("price")) is not None]
            if not any(_same(mention.value, p, mention.text, exact=True) for p in prices):
                problems.append(f"states {mention.text!r}, not the cited product's price")
            continue
        holding = [t for p in cited if (t := _number_in(mention.value, mention.text, p, sentence))]
        if not holding:
            problems.append(f"states {mention.text!r}, which no cited fact holds")
            continue
        unit = _unit_after(sentence[mention.end :])
        if unit is not None and not any(unit in _units(text) for text in holding):
            problems.append(f"states {mention.text!r} in {unit}s, a unit its fact does not give")
    return problems


def _unit_after(text: str) -> str | None:
    """The physical unit written right after a number ("2 pounds")."""
    word = re.match(r"\s*([A-Za-z]+)", text)
    return physical_unit(word.group(1)) if word else None


def _units(text: str) -> set[str]:
    return {unit for word in re.findall(r"[A-Za-z]+", text) if (unit := physical_unit(word))}


def _number_in(value: float, written: str, product: ProductFacts, sentence: str) -> str | None:
    """The fact text holding the number (the named attribute's when one is named), if any."""
    named = [
        fact
        for fact in product.fields
        if set(content_words(fact.label)) & set(content_words(sentence))
    ]
    texts = [fact.text for fact in named] or [
        *(fact.text for fact in product.fields),
        *(passage.text for passage in product.passages),
        product.title,
    ]
    for text in texts:
        for mention in find_money(text):
            if _same(value, mention.value, written):
                return text
    return None


def _same(stated: float, known: float, written: str, *, exact: bool = False) -> bool:
    """Equal, or (not for prices) equal at the precision the number was written with."""
    if abs(stated - known) < 0.005:
        return True
    if exact:
        return False
    digits = "".join(ch for ch in written if ch.isdigit() or ch == ".")
    decimals = len(digits.split(".")[-1]) if "." in digits else 0
    return round(known, decimals) == stated


def _scales(sentence: str) -> set[float]:
    return {float(match.group(1)) for match in _SCALE.finditer(sentence)}
