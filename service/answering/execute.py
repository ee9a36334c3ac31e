"""Run a request plan against the whole catalog and collect the facts to answer from.

- attribute / compare: each referenced product's record fields for the asked attributes (and
  the comparison's dimension); an open question about a product gets its passages ranked by
  the evidence scorer, whose verdict says whether they answer it;
- search / recommend with a sort ("cheapest", "best rated"): a filtered scan of every product
  that meets the constraints and is about what the shopper named, sorted over the whole
  catalog, not over the nearest neighbours;
- other searches: hybrid retrieval with the filters pushed down; when nothing meets them the
  least important constraint is dropped and ``relaxed`` says which.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from catalog.models import ProductHit, ScoredChunk
from catalog.profile import FieldRole
from catalog.text import blank, content_words, stranded_preposition, tokens
from service.answering.attributes import compound
from service.answering.catalog_terms import said_models
from service.answering.catalog_view import CatalogView, ProductEntry
from service.answering.facts import LISTED_KEYS, Execution, PassageFact, ProductFacts
from service.answering.ordering import by_attribute, winner
from service.answering.passages import (
    Passage,
    PassageRanker,
    evidence_text,
    field_value,
    passages_of,
    restates,
)
from service.answering.plan import RequestPlan
from service.answering.record import (
    all_hold,
    category_of,
    featured,
    features,
    field_fact,
    listing,
    meets,
    names_all,
    sought,
    subject_words,
    things_named,
)
from service.answering.references import ProductRef, pointer_spans
from service.answering.relaxing import (
    Searcher,
    holds_model,
    nearest_price_first,
    of_models,
    retrievable,
    search_relaxing,
)
from service.answering.scales import split_order
from service.answering.stand_ins import (
    absent_rivals,
    close,
    context_hits,
    foreign_words,
    made_for_hits,
    saying_hits,
    standing_hits,
    unheld_phrase,
)

MAX_PASSAGES = 5
_DEFAULT_COMPARE = ("price", "rating", "brand")
_OVERVIEW = ("price", "brand", "rating", "availability")
# Questions asking for an amount ("how many megapixels", "the battery capacity"): English
# question forms, answered only by a passage that holds a number.
_ASKS_AMOUNT = re.compile(
    r"\bhow\s+(?:many|much|big|heavy|tall|wide|far|old)\b|\b(?:number|count|amount|capacity)\b"
)
_DIGIT = re.compile(r"\d")
# Question words that ask for one fact (where it is made, when it arrives...), unlike "what is".
_SPECIFIC_QUESTION = frozenset({"where", "when", "why", "how", "who", "which", "whose"})
_CONDITION_POOL = 50  # hybrid candidates checked against attribute conditions


class ChunkSource(Protocol):
    def product_chunks(self, product_id: str) -> list[ScoredChunk]: ...


class Executor:
    def __init__(self, searcher: Searcher, chunks: ChunkSource, ranker: PassageRanker) -> None:
        self.searcher = searcher
        self.chunks = chunks
        self.ranker = ranker

    def run(self, plan: RequestPlan, view: CatalogView) -> Execution:
        execution = Execution(plan=plan)
        if plan.intent in ("small_talk", "help", "out_of_scope"):
            return execution
        if plan.intent in ("attribute", "compare") and plan.products:
            self._products(plan, view, execution)
        elif plan.sort is not None:
            self._scan(plan, view, execution)
        else:
            self._search(plan, view, execution)
        return execution

    # -- named products ---------------------------------------------------------------------
    def _products(self, plan: RequestPlan, view: CatalogView, execution: Execution) -> None:
        refs = sorted(plan.products, key=lambda ref: ref.span[0] if ref.span else 0)
        execution.hits = self.searcher.products([ref.product_id for ref in refs])
        keys = [item.key for item in plan.attributes]
        if plan.intent == "compare":
            dimension = _compare_key(plan.compare_on)
            keys = list(dict.fromkeys([*([dimension] if dimension else []), *keys]))
            keys = keys or [key for key in _DEFAULT_COMPARE if _any_has(view, refs, key)]
        reviews = {a.key for a in view.askable() if a.role is FieldRole.REVIEWS}
        rated = "rating" not in keys and _any_has(view, refs, "rating")
        if plan.intent == "attribute" and reviews & set(keys) and rated:
            keys.insert(0, "rating")  # what customers said, and the stars they gave
        overview = plan.intent == "attribute" and not keys and _names_only(plan, refs)
        if overview:
            keys = [key for key in _OVERVIEW if _any_has(view, refs, key)]
        for ref in refs:
            facts = self._facts(ref, keys, view)
            if overview:
                chunks = self.chunks.product_chunks(ref.product_id)
                prose = [p for p in passages_of(chunks, ref.title) if field_value(p.text) is None]
                passages = prose[:1]
                facts.passages = [
                    PassageFact(ref.product_id, p.text, p.kind, 1.0) for p in passages
                ]
            elif plan.intent == "attribute" and (not keys or facts.missing):
                self._rank_passages(plan, ref, facts, view)
            execution.products.append(facts)
        if overview:
            return
        needs_text = not keys or any(p.missing for p in execution.products)
        if plan.intent == "attribute" and needs_text:
            if _ASKS_AMOUNT.search(plan.message.lower()):
                # An amount is only stated by a passage holding a number (not its title's).
                for product in execution.products:
                    product.passages = [
                        p
                        for p in product.passages
                        if _DIGIT.search(p.text.replace(product.title, ""))
                    ]
            for product in execution.products:
                top = product.passages[0].score if product.passages else None
                product.answered = top is not None and self.ranker.answerable(top)
            scores = [p.passages[0].score for p in execution.products if p.passages]
            best = max(scores, default=None)
            execution.evidence_score = best
            execution.answerable = best is not None and self.ranker.answerable(best)
        if plan.intent == "compare" and len(refs) < 2:
            execution.absent = absent_rivals(plan, view)  # the other side is not sold
        if plan.intent == "compare" and plan.compare_on:
            execution.winner = winner(execution.products, plan.compare_on, plan.scale)

    def _facts(self, ref: ProductRef, keys: list[str], view: CatalogView) -> ProductFacts:
        entry = view.products.get(ref.product_id)
        record = view.record(ref.product_id)
        facts = ProductFacts(ref.product_id, ref.title, _metadata(entry))
        for key in keys:
            fact = field_fact(ref.product_id, key, record, entry, view)
            if fact is None:
                attribute = next((a for a in view.askable() if a.key == key), None)
                facts.missing.append(attribute.label if attribute else key)
            else:
                facts.fields.append(fact)
        return facts

    def _rank_passages(
        self, plan: RequestPlan, ref: ProductRef, facts: ProductFacts, view: CatalogView
    ) -> None:
        question = " ".join(blank(plan.message, [ref.span] if ref.span else []).split())
        record = view.record(ref.product_id)
        entry = view.products.get(ref.product_id)
        # The record's own fields compete with the text: "can I send it back?" may be answered
        # by "Return policy: 30 days return policy".
        fields = [field_fact(ref.product_id, a.key, record, entry, view) for a in view.askable()]
        # Not the fields already answered, nor a compound's ("energy rating" is no rating).
        shown = {fact.key for fact in facts.fields}
        passages = [
            Passage(f"{f.label}: {f.text}", "attribute")
            for f in fields
            if f is not None and f.key not in shown and not compound(question, f.label)
        ]
        passages += passages_of(self.chunks.product_chunks(ref.product_id), ref.title)
        mention = plan.message[ref.span[0] : ref.span[1]] if ref.span else ""
        passages = [passage for passage in passages if not restates(passage, mention)]
        scores = self.ranker.score(question, [evidence_text(p) for p in passages])
        ranked = sorted(zip(scores, passages, strict=True), key=lambda item: -item[0])
        facts.passages = [
            PassageFact(ref.product_id, passage.text, passage.kind, round(score, 4))
            for score, passage in ranked[:MAX_PASSAGES]
        ]

    # -- the whole catalog, sorted ----------------------------------------------------------
    def _scan(self, plan: RequestPlan, view: CatalogView, execution: Execution) -> None:
        known, unknown = subject_words(plan, view)
        known, wanted = features(plan, known, view)
        filters = plan.filters
        matching = [entry for entry in view.products.values() if meets(entry, filters)]
        if plan.conditions:
            matching = [e for e in matching if all_hold(view.record(e.product_id), plan)]
        relevant, execution.features = sought(matching, known, wanted, view)
        if (known and not relevant) or (unknown and not known):
            # Nothing names it in a title: what retrieval finds close enough to it, sorted (a
            # price ceiling does not make "shampoo" mean every product under it).
            hits = self.searcher.search(retrievable(plan), _CONDITION_POOL, filters)
            ids = {hit.product_id for hit in hits if close(hit)}
            relevant = [entry for entry in matching if entry.product_id in ids]
        key, descending = split_order(plan.sort or "rating_desc")
        relevant.sort(key=lambda entry: entry.product_id)
        if key in ("price", "rating"):
            valued = [entry for entry in relevant if getattr(entry, key) is not None]
            valued.sort(
                key=lambda entry: (getattr(entry, key), entry.product_id), reverse=descending
            )
            chosen = [entry.product_id for entry in valued[: plan.k]]
        else:  # an attribute: "the lightest", "the longest warranty"
            order, execution.unordered = by_attribute(relevant, view, key, descending, plan.scale)
            chosen = order[: plan.k]
        execution.matched = len(relevant)
        execution.hits = self.searcher.products(chosen)
        shown_key = None if key in LISTED_KEYS else key
        execution.products = [listing(hit, view, shown_key) for hit in execution.hits]

    # -- retrieval --------------------------------------------------------------------------
    def _search(self, plan: RequestPlan, view: CatalogView, execution: Execution) -> None:
        known, _ = subject_words(plan, view)
        thing, wanted = features(plan, known, view)  # "phones with wireless charging"
        pool = _CONDITION_POOL if plan.conditions or wanted else plan.k * 2
        among = things_named(plan, view)  # "phones": the phones, not their cases and cards
        if plan.within is not None:  # "only those under $80": of the listed products
            among = {p for p in plan.within if among is None or p in among} or set(plan.within)
        if wanted:  # only those whose texts mention the features, or say none does
            among, execution.features, execution.lacking = featured(
                plan, thing, wanted, among, view
            )
        query = retrievable(plan)

        def fit(found: list[ProductHit]) -> int:  # how much of what the shopper said they name
            return sum(names_all(hit, [word], view) for hit in found[: plan.k] for word in known)

        models = said_models(plan.message, view)  # "unlocked iphone 6s": an iPhone 6s or none
        need = holds_model(models, view)
        hits, relaxed = search_relaxing(self.searcher, query, pool, plan.filters, among, fit)
        if not hits and among is not None:
            hits, relaxed = search_relaxing(self.searcher, query, pool, plan.filters)
        if need is not None and hits and not need(hits):  # ranked other models first
            hits, relaxed, execution.lacking = of_models(
                self.searcher, query, pool, plan, models, known, view
            ) or (hits, relaxed, None)
        if plan.conditions:
            hits = [hit for hit in hits if all_hold(hit.record, plan)][: plan.k]
        hits = nearest_price_first(hits, relaxed, plan.filters, view)
        standing = standing_hits(hits, plan, view)
        if hits and not standing:  # "a phone for my dad": phones, saying none mentions "dad"
            wider, _ = search_relaxing(self.searcher, query, _CONDITION_POOL, plan.filters, among)
            standing, execution.unmatched = context_hits(wider, plan, view)
        standing, execution.made_for = made_for_hits(standing, plan, view)
        if standing and not (execution.unmatched or execution.made_for):
            execution.unmatched = foreign_words(plan, view)  # "Motorola phones": none is one
        if standing and not (execution.unmatched or execution.made_for or execution.lacking):
            execution.unmatched = unheld_phrase(plan, view)  # "green lipstick": none is green
        if standing and not (execution.unmatched or execution.made_for or execution.features):
            standing, execution.features = saying_hits(standing, plan, view)
        named_by = thing if wanted else known
        # "Motorola phones": the phones, from twice the depth, before the best of the rest (a
        # "Band for Motorola Moto 360 Smartwatches"); the rest only from the usual depth.
        naming = [hit.product_id for hit in standing if named_by and names_all(hit, named_by, view)]
        usual = {hit.product_id for hit in (standing if execution.unmatched else hits[: plan.k])}
        # Beside products named so, only others of their categories ("lipstick": no rice).
        kinds = {category_of(view, pid) for pid in naming}
        usual = {pid for pid in usual if not naming or category_of(view, pid) in kinds}
        rest = [hit for hit in standing if hit.product_id in usual - set(naming)]
        hits = [hit for hit in standing if hit.product_id in naming] + rest or standing
        execution.hits = hits[: plan.k]
        execution.relaxed = relaxed or None
        execution.products = [listing(hit, view) for hit in execution.hits]


def _names_only(plan: RequestPlan, refs: list[ProductRef]) -> bool:
    """The message only names the product(s) ("show me the Boxed Blender", "what is the X?"):
    an overview. "Where is the Pan made?" asks something: not an overview."""
    # "tell me more about the second one": the pointer names it too.
    spans = [ref.span for ref in refs if ref.span] + pointer_spans(plan.message)
    text = blank(plan.message, spans)
    words = {token.text for token in tokens(text)}
    asks = content_words(text) or stranded_preposition(plan.message)  # "what is it made of?"
    return not asks and not words & _SPECIFIC_QUESTION


def _metadata(entry: ProductEntry | None) -> dict[str, Any]:
    if entry is None:
        return {}
    return {"price": entry.price, "brand": entry.brand, "rating": entry.rating}


def _compare_key(compare_on: str | None) -> str | None:
    return None if compare_on is None else split_order(compare_on)[0]


def _any_has(view: CatalogView, refs: list[ProductRef], key: str) -> bool:
    return any(getattr(view.products.get(ref.product_id), key, None) for ref in refs)
