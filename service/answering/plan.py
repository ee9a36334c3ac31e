"""The shopper's message (and the conversation so far) as a typed request plan.

    plan = Planner(embeddings).plan(message, history, view, explicit_filters)

A plan says what to do, not how: the intent (search, attribute, compare, recommend,
small_talk, help, out_of_scope), the products referred to (by name, partial name, ordinal or
pronoun), the attributes asked (matched to the profile's attributes by meaning), the
constraints (price in the catalog's currency, brand, category, stock, rating, attribute
conditions), the sort order and how many products to show. ``execute.py`` runs it against the
whole catalog; ``compose.py`` turns the facts into a cited answer.

Structure decides first (named products, constraints, asked attributes); the intent
prototypes decide what a message with no catalog content is (small talk, help, out of scope,
or a request for something the catalog does not carry).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from catalog.models import Filters
from catalog.text import blank, content_words
from service.answering.attributes import (
    AskedAttribute,
    clauses,
    match_attributes,
    named_by_word,
)
from service.answering.catalog_terms import vocabulary_spans
from service.answering.catalog_view import CatalogView
from service.answering.constraints import merge_filters, parse_constraints
from service.answering.intent_rules import (
    decide_intent,
    narrows_listed,
    only_product,
    seeks_products,
)
from service.answering.intents import Intent, IntentClassifier, IntentGuess
from service.answering.ordering import OrderReader
from service.answering.product_lines import line_comparison, line_subject
from service.answering.references import (
    ProductRef,
    definite,
    listed_earlier,
    named_products,
    pointer_spans,
    points_back,
    referenced_from_history,
)
from service.answering.scales import Scale, split_order
from service.answering.types import Turn

DEFAULT_K = 5
# Filters that, about named products, are questions: the attribute each one asks.
_FILTER_QUESTIONS = ((("in_stock",), "availability"), (("min_price", "max_price"), "price"))
_HISTORY_LOOKBACK = 6


@dataclass
class RequestPlan:
    intent: Intent
    message: str
    query: str  # what to retrieve with (the message, or rewritten from the conversation)
    products: list[ProductRef] = field(default_factory=list)
    attributes: list[AskedAttribute] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    sort: str | None = None  # "<key>_asc" | "<key>_desc": price, rating or an attribute
    k: int = DEFAULT_K
    compare_on: str | None = None  # the attribute a comparison is decided on
    grounded: bool = True  # the message has catalog content (words, names, constraints)
    spans: list[tuple[int, int]] = field(default_factory=list)  # constraint phrases
    foreign_currency: str | None = None  # a price in another currency, not applied
    scale: Scale | None = None  # a graded word ordering by an attribute ("the lightest")
    within: list[str] | None = None  # "only those under $80": the listed products searched

    def to_dict(self) -> dict[str, Any]:
        """What responses expose as ``plan``."""
        return {
            "intent": self.intent,
            "products": [
                {"product_id": ref.product_id, "title": ref.title, "how": ref.how}
                for ref in self.products
            ],
            "attributes": [item.key for item in self.attributes],
            "filters": self.filters.model_dump(exclude_none=True),
            "conditions": self.conditions,
            "sort": self.sort,
            "k": self.k,
        }


class Planner:
    def __init__(self, embeddings: Embeddings) -> None:
        self.embeddings = embeddings
        self.intents = IntentClassifier(embeddings)
        self.orders = OrderReader(embeddings)

    def plan(
        self,
        message: str,
        history: list[Turn],
        view: CatalogView,
        explicit: Filters | None = None,
        *,
        k: int = DEFAULT_K,
        earlier: list[str] | None = None,
    ) -> RequestPlan:
        """``earlier``: product ids of the previous answers, newest first (cited ids)."""
        products = named_products(message, view)
        constraints = parse_constraints(message, view)
        # "for the Apple" names one product; "which sunglasses" a category, not its "Sunglasses".
        one = [ref for ref in products if not ref.ambiguous or definite(message, ref)]
        scale = self.orders.read(message, constraints, view, len(one))
        # "Apple products": the brand, not the fruit of that name; unless the message asks for
        # a product's attributes ("Apple: weight and minimum order?").
        vocabulary = constraints.filters.brand or constraints.filters.category
        named = [ref.span for ref in products if ref.span]
        if constraints.filters.brand and constraints.filters.category:
            products = [ref for ref in products if not ref.ambiguous]  # "the Apple laptops"
        elif vocabulary and not self._asks_attributes(message, constraints.spans + named, view):
            # "the Apple", "the Glass": a definite article names the one product.
            products = [
                replace(ref, ambiguous=False) if definite(message, ref) else ref
                for ref in products
                if not ref.ambiguous or definite(message, ref)
            ]
        if constraints.sort and len(products) < 2:
            products = []  # "the cheapest Ice Cube Trays": a superlative is over a set
        if products:
            # Words that named a product are not brand or category constraints.
            named = [ref.span for ref in products if ref.span]
            constraints = parse_constraints(blank(message, named), view)
            scale = self.orders.read(blank(message, named), constraints, view, len(one))
        refs_from_history: list[ProductRef] = []
        if not products and earlier and (points_back(message) or _only_scaffolding(message)):
            refs_from_history = referenced_from_history(message, earlier, view)
            bare = blank(message, constraints.spans + pointer_spans(message))
            ordered = constraints.sort or constraints.compare_on
            them = len(refs_from_history) > 1 and {r.how for r in refs_from_history} == {"pronoun"}
            if (them or not refs_from_history) and ordered and not content_words(bare):
                # "which one is the cheapest?" / "which of them is cheaper?": all listed.
                refs_from_history = listed_earlier(earlier, view)
                constraints.compare_on = constraints.compare_on or constraints.sort
        spans = [ref.span for ref in products if ref.span] + constraints.spans
        if refs_from_history:
            spans += pointer_spans(message)  # "how much is the second one": not "quantity"
        parts = clauses(message, spans + vocabulary_spans(message, constraints.filters, view))
        # One encode call for the message (its intent) and its clauses (their attributes).
        vectors = np.asarray(self.embeddings.embed_documents([message, *parts]), np.float32)
        asked = match_attributes(parts, vectors[1:], view.attribute_index(self.embeddings))
        named_ids = [ref.product_id for ref in products or refs_from_history]
        if not asked and (how := self.orders.asked(message, view, named_ids)) is not None:
            asked = [how]  # "how heavy is it?" asks the attribute that measures weight
        filters = merge_filters(constraints.filters, explicit)
        plan = RequestPlan(
            intent="search",
            message=message,
            query=message,
            products=products or refs_from_history,
            attributes=asked,
            filters=filters,
            conditions=constraints.conditions,
            sort=constraints.sort,
            k=constraints.count or k,
            compare_on=constraints.compare_on,
            spans=list(constraints.spans),
            foreign_currency=constraints.foreign_currency,
            scale=scale,
        )
        guess = self.intents.guess(vectors[0])
        plan.intent = decide_intent(plan, constraints, view, guess)
        if plan.intent in ("search", "recommend"):
            # A search names no products: "Apple" was the brand, "watch" a category word.
            plan.products = [ref for ref in plan.products if not ref.ambiguous]
            if plan.products and plan.intent == "search" and not constraints.sort:
                plan.intent = "attribute" if len(plan.products) == 1 else "compare"
            elif (only := only_product(plan, view)) is not None:
                plan.intent, plan.products = "attribute", [only]
        if (line := line_subject(plan, constraints, view, guess, self._guess_text)) is not None:
            # "is the iPhone 7 waterproof?": the line's plainest member answers for it.
            plan.intent, plan.products, plan.filters = "attribute", [line], explicit or Filters()
        elif (sides := line_comparison(plan, constraints, view, guess)) is not None:
            plan.intent, plan.products, plan.filters = "compare", sides, explicit or Filters()
        if plan.intent == "attribute" and not plan.attributes and len(plan.products) == 1:
            whole = parse_constraints(message, view)
            if seeks_products(message, plan, view, whole.filters):
                # "show me plates": the category of that name, not its one "Plate".
                plan.intent, plan.products = "search", []
                plan.filters = merge_filters(whole.filters, explicit)
        if plan.intent == "compare" and not plan.attributes and plan.compare_on is None:
            # "which has a longer warranty, the X or the Y?": the dimension is named by a word.
            by_word = named_by_word(
                blank(message, [ref.span for ref in plan.products if ref.span]), view.askable()
            )
            if by_word is not None:
                plan.attributes = [AskedAttribute(by_word.key, by_word.label, 1.0, "")]
        if narrows_listed(plan, refs_from_history):  # "only those under $80"
            plan.intent, plan.products = "search", []
            plan.within = [ref.product_id for ref in listed_earlier(earlier or [], view)]
        if plan.intent in ("attribute", "compare"):
            _constraints_as_questions(plan, view, explicit, constraints.leaning)
        elif not plan.sort:
            plan.sort = constraints.leaning  # "a cheap phone": the lowest prices first
        if plan.intent == "compare" and plan.compare_on is None:
            # "compare them on price": a comparison on price or rating has a natural winner.
            first = plan.attributes[0].key if plan.attributes else None
            if first == "price":
                plan.compare_on = "price_asc"
            elif first == "rating":
                plan.compare_on = "rating_desc"
        if refs_from_history and plan.intent in ("search", "recommend"):
            plan.query = _refined_query(message, history)
        return plan

    def _guess_text(self, text: str) -> IntentGuess:
        return self.intents.guess(self.embeddings.embed_documents([text])[0])

    def _asks_attributes(
        self, message: str, spans: list[tuple[int, int]], view: CatalogView
    ) -> bool:
        parts = clauses(message, spans)
        if not parts:
            return False
        vectors = np.asarray(self.embeddings.embed_documents(parts), np.float32)
        return bool(match_attributes(parts, vectors, view.attribute_index(self.embeddings)))

    def plan_search(
        self, query: str, view: CatalogView, explicit: Filters | None = None, *, k: int = DEFAULT_K
    ) -> RequestPlan:
        """A search's plan: the constraints and sort of the query (no intent, no attributes)."""
        constraints = parse_constraints(query, view)
        scale = self.orders.read(query, constraints, view)
        return RequestPlan(
            intent="search",
            message=query,
            query=query,
            filters=merge_filters(constraints.filters, explicit),
            conditions=constraints.conditions,
            sort=constraints.sort,
            k=k,
            spans=list(constraints.spans),
            foreign_currency=constraints.foreign_currency,
            scale=scale,
        )


def _constraints_as_questions(
    plan: RequestPlan, view: CatalogView, explicit: Filters | None, leaning: str | None = None
) -> None:
    """About named products, "in stock" and "under $50" are questions, not filters; so is the
    dimension of a comparison whose other side names no one product ("is the Pixel XL or the
    iPhone 7 more expensive?" with many an iPhone 7: the Pixel XL's price)."""
    asked = {item.key for item in plan.attributes}
    parsed = plan.filters.model_dump(exclude_none=True)
    wanted = [key for names, key in _FILTER_QUESTIONS if any(name in parsed for name in names)]
    if leaning:
        wanted.append(split_order(leaning)[0])  # "is the X affordable?", "... well reviewed?"
    if plan.intent == "attribute" and plan.compare_on and not asked:
        wanted.append(split_order(plan.compare_on)[0])
    for key in wanted:
        if key not in asked:
            attribute = next((a for a in view.askable() if a.key == key), None)
            if attribute is not None:
                plan.attributes.append(AskedAttribute(key, attribute.label, 1.0, ""))
    plan.filters = explicit or Filters()


def _only_scaffolding(message: str) -> bool:
    """A message with no content of its own ("how much?", "and the warranty?")."""
    return len(content_words(message)) <= 2


def _refined_query(message: str, history: list[Turn]) -> str:
    previous = next((turn.content for turn in reversed(history) if turn.role == "user"), "")
    return f"{previous} {message}".strip()


def earlier_products(history: list[Turn], cited: Any) -> list[str]:
    """Product ids cited in the latest assistant turns, newest turn first, in citation order."""
    found: list[str] = []
    for turn in reversed(history[-_HISTORY_LOOKBACK:]):
        if turn.role != "assistant":
            continue
        for product_id in cited(turn.content):
            if product_id not in found:
                found.append(product_id)
        if found:
            return found
    return found
