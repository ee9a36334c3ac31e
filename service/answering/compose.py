"""The deterministic answer: facts -> cited text. Every fact carries its product's citation.

- attribute: one sentence per asked attribute, from the record ("Warranty information for X:
  1 year warranty [12]."); what the record lacks is named ("The catalog has no ... for X");
  an open question quotes the passage the evidence scorer found, or says the catalog doesn't
  hold the answer;
- compare: a table with a citation in every cell, and the winner for the asked dimension;
- search / recommend: a short ranked list with prices in the catalog's currency;
- small talk and help: no products listed; help says what Aisle does, with questions drawn
  from this catalog; out of scope: a plain refusal.
"""

from __future__ import annotations

from catalog.text import tokens
from service.answering.catalog_view import CatalogView
from service.answering.facts import Execution, PassageFact, ProductFacts
from service.answering.plan import RequestPlan
from service.answering.record import subject_words
from service.answering.scales import PRICE_RATING_WORDS, split_order
from service.answering.stand_ins import absent_models
from service.answering.types import Answer, Source
from service.answering.verdicts import compare_verdict, joined
from service.answering.wording import (
    describe_relaxed,
    foreign_price_sentence,
    help_text,
    listing_line,
    missing_sentence,
    shown,
    small_talk_text,
    unmatched_sentence,
)

SNIPPET_CHARS = 300


def compose(execution: Execution, view: CatalogView) -> Answer:
    plan = execution.plan
    if plan.intent == "small_talk":
        return Answer(small_talk_text(), [])
    if plan.intent == "help":
        return Answer(help_text(view, execution.examples), [])
    if plan.intent == "out_of_scope":
        return _refuse(
            "I can only help with the products in this catalog, so I can't answer that.",
            "The question is not about the catalog.",
        )
    if plan.intent == "compare" and len(execution.products) >= 2:
        return _compare(execution, view)
    if plan.intent in ("attribute", "compare") and execution.products:
        answer = _attribute(execution)
        if execution.absent:  # "compare the iPhone 9 and the iPhone X" without an iPhone 9
            named = shown(execution.products[0].title)
            said = " or ".join(execution.absent)
            answer.text = f"The catalog has no {said} to compare with {named}.\n{answer.text}"
        return answer
    return _listing(execution, view)


# -- one product's attributes -----------------------------------------------------------------
def _attribute(execution: Execution) -> Answer:
    if len(execution.products) > 1 and not any(p.fields for p in execution.products):
        return _asked_of_each(execution)
    product = execution.products[0]
    cite = f"[{product.product_id}]"
    lines = [
        f"{fact.label} of {shown(product.title)}: {fact.text} {cite}." for fact in product.fields
    ]
    sources = []
    if product.fields:
        sources.append(_source(product, "; ".join(f"{f.label}: {f.text}" for f in product.fields)))
    answered_by_text = bool(product.passages) and execution.answerable
    if answered_by_text:
        lines.append(_quoted(product, product.passages[0]))
        sources += [_source(product, passage.text) for passage in product.passages]
    elif product.missing or not product.fields:
        missing = missing_sentence(product.missing, execution.plan.message, shown(product.title))
        if not product.fields:
            return _refuse(missing, missing)
        lines.append(missing)
    return Answer("\n".join(lines), sources or [_source(product, product.title)])


def _quoted(product: ProductFacts, passage: PassageFact) -> str:
    """The answering passage: a record field read out as one, prose quoted."""
    cite = f"[{product.product_id}]"
    label, _, value = passage.text.partition(": ")
    if passage.kind == "attribute" and value:
        return f"{label} of {shown(product.title)}: {value} {cite}."
    return f'{shown(product.title)} {cite}: "{passage.text}"'


def _asked_of_each(execution: Execution) -> Answer:
    """An open question on several listed products: each one's answering passage, and the
    ones the catalog says nothing about for it."""
    lines, sources, silent = [], [], []
    for product in execution.products:
        if product.answered and execution.answerable:
            best = product.passages[0]
            lines.append(_quoted(product, best))
            sources.append(_source(product, best.text))
        else:
            silent.append(shown(product.title))
    question = execution.plan.message.strip().rstrip("?")
    if not lines:
        text = f'The catalog has nothing that answers "{question}" for {joined(silent)}.'
        return _refuse(text, text)
    if silent:
        lines.append(f"The catalog says nothing about it for {joined(silent)}.")
    return Answer("\n".join(lines), sources)


# -- comparisons -------------------------------------------------------------------------------
def _compare(execution: Execution, view: CatalogView) -> Answer:
    products = execution.products
    keys = list(dict.fromkeys(fact.key for product in products for fact in product.fields))
    labels = {fact.key: fact.label for product in products for fact in product.fields}
    if not keys:
        names = " and ".join(shown(product.title) for product in products)
        about = ", ".join(dict.fromkeys(m for product in products for m in product.missing))
        text = f"The catalog has no {about or 'comparable'} information for {names}."
        return _refuse(text, text)
    header = "| Product | " + " | ".join(labels[key] for key in keys) + " |"
    rule = "|---" * (len(keys) + 1) + "|"
    rows = []
    for product in products:
        cite = f"[{product.product_id}]"
        cells = []
        for key in keys:
            fact = product.field(key)
            cells.append(f"{fact.text} {cite}" if fact else "not in the catalog")
        rows.append(f"| {shown(product.title)} {cite} | " + " | ".join(cells) + " |")
    # The verdict first: it answers the question, and "does it have ...?" next points at the
    # product an answer cites first.
    verdict = compare_verdict(execution)
    lines = [verdict] if verdict else []
    lines += [header, rule, *rows]
    scale = execution.plan.scale
    if scale is not None and scale.key is None:
        lines.append(f'The catalog records nothing to compare "{scale.word}" by.')
    for product in products:
        if product.missing:
            lines.append(
                f"The catalog has no {', '.join(product.missing)} information for "
                f"{shown(product.title)}."
            )
    sources = [
        _source(product, "; ".join(f"{f.label}: {f.text}" for f in product.fields) or product.title)
        for product in products
    ]
    return Answer("\n".join(lines), sources)


# -- searches ----------------------------------------------------------------------------------
def _listing(execution: Execution, view: CatalogView) -> Answer:
    plan = execution.plan
    hits = execution.hits
    if not hits:
        known, unknown = subject_words(plan, view)
        wanted = set(known + unknown)
        ordered = [plan.message[t.start : t.end] for t in tokens(plan.message) if t.stem in wanted]
        models = absent_models(plan, view)  # "Galaxy S9", not "S9 come"
        subject = " and ".join(models) or " ".join(dict.fromkeys(ordered))
        subject = subject or "anything matching that"
        text = f"I couldn't find {subject} in the catalog."
        return _refuse(text, f"The catalog has no products matching '{subject}'.")
    lines = []
    if plan.foreign_currency:
        lines.append(foreign_price_sentence(plan.foreign_currency, view))
    if execution.relaxed:
        lines.append(
            "Nothing in the catalog meets "
            + describe_relaxed(execution.relaxed, view)
            + "; these are the closest matches:"
        )
    elif execution.unmatched:
        lines.append(unmatched_sentence(execution.unmatched))
    elif execution.lacking:
        thing, feature = execution.lacking
        lines.append(f'None of the catalog\'s {thing} mentions "{feature}"; these are the closest:')
    elif execution.made_for:
        said = " ".join(execution.made_for)
        lines.append(f'The catalog sells no "{said}", only products made for them:')
    elif plan.sort and execution.matched is not None:
        counted = "product" if execution.matched == 1 else "products"
        held = f" that mention {' and '.join(execution.features)}" if execution.features else ""
        lines.append(
            f"Of the {execution.matched} matching {counted} in the catalog{held}{_by(plan)}:"
        )
    elif execution.features:  # "which perfume smells floral?"
        lines.append(
            f"Here is what the catalog has that mentions {' and '.join(execution.features)}:"
        )
    elif plan.intent == "recommend":
        lines.append("Here is what I'd suggest from the catalog:")
    else:
        lines.append("Here is what I found in the catalog:")
    scale = plan.scale
    if scale is not None and scale.key is None and scale.superlative:
        unranked = f'The catalog records nothing to rank "{scale.word}" by'
        lines.insert(0, f"{unranked}, so this list is not in that order.")
    ordered_by = scale.key if scale is not None and plan.sort == scale.order else None
    for position, hit in enumerate(hits, start=1):
        facts = next((p for p in execution.products if p.product_id == hit.product_id), None)
        value = facts.field(ordered_by) if facts and ordered_by else None
        shown_value = f"; {value.label}: {value.text}" if value else ""
        lines.append(f"{position}. {listing_line(hit, view)}{shown_value} [{hit.product_id}]")
    if ordered_by and scale is not None and scale.label:
        lines += _unranked(execution.unordered, scale.label.lower())
    sources = [
        Source(hit.product_id, hit.title, hit.snippet[:SNIPPET_CHARS], round(hit.score, 4))
        for hit in hits
    ]
    return Answer("\n".join(lines), sources)


def _unranked(counts: tuple[int, int], label: str) -> list[str]:
    """Why some matching products are not in an attribute's order."""
    missing, other_units = counts
    parts = []
    if missing:
        parts.append(f"{missing} with no {label} in the catalog")
    if other_units:
        parts.append(f"{other_units} with a {label} in other units")
    return [f"Not ranked: {' and '.join(parts)}."] if parts else []


def _by(plan: RequestPlan) -> str:
    """ ", by weight, lightest first": the order of a list sorted by an attribute."""
    scale = plan.scale
    if scale is not None and scale.label is not None and plan.sort == scale.order:
        return f", by {scale.label.lower()}, {scale.forms[1]} first"
    if plan.sort is None:
        return ""
    key, descending = split_order(plan.sort)
    order = PRICE_RATING_WORDS.get((key, descending))
    return f", {order[1]} first" if order else ""


def _source(product: ProductFacts, snippet: str) -> Source:
    return Source(product.product_id, product.title, snippet[:SNIPPET_CHARS], 1.0)


def _refuse(text: str, reason: str) -> Answer:
    return Answer(text=text, sources=[], refused=True, reason=reason)
