"""A product line the message names, when it names no one product.

"Is the iPhone 7 waterproof?" names none of a catalog's many iPhone 7s (storage, colour,
carrier), yet each is an iPhone 7 and its text answers for the line. A line is the set of
products whose own name (the title before "for": not the cases *for* an iPhone 7) holds a
whole mention of the message (a run of its words that cannot grow: "iPhone 7 Plus" is not
the "iPhone 7"), of one kind (not the "iPhone 7 Silicone Case" beside the phones), and whose
members are variants: listed with near copies of one
text, where a family of different products ("iPhone": the 6, the 9, the X) is not. An open
question on a line is answered from its plainest variant (the shortest title).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from catalog.text import Token, content_words, has_digit, stopwords, tokens, words
from service.answering.catalog_terms import category_heads
from service.answering.catalog_view import CatalogView, ProductEntry
from service.answering.constraints import Constraints
from service.answering.intent_rules import wants_products
from service.answering.intents import IntentGuess
from service.answering.record import field_fact
from service.answering.references import ProductRef, only_vocabulary
from service.answering.stand_ins import absent_rivals

if TYPE_CHECKING:
    from service.answering.plan import RequestPlan

MIN_MEMBERS = 2
MAX_MEMBERS = 100  # more products than that share a name as a family, not as variants
SAME_TEXT = 0.8  # word-set overlap of two variants' texts (colour or carrier words apart)
VARIANT_SHARE = 0.5
# As in titles (``catalog_view._FOR``): a name after "for" is what the thing fits.
_FITS = re.compile(r"\bfor\s+(?:(?:the|a|an|my|your)\s+)?$", re.IGNORECASE)
_ARTICLE_END = re.compile(r"\b(?:the|a|an|my|your|this|that)\s+$", re.IGNORECASE)


@dataclass(frozen=True)
class ProductLine:
    members: tuple[str, ...]  # product ids, the one to answer from first
    matched: tuple[str, ...]  # the stemmed message words that named the line
    span: tuple[int, int]

    def representative(self, view: CatalogView) -> ProductRef:
        product_id = self.members[0]
        title = view.products[product_id].title
        return ProductRef(product_id, title, "partial", self.matched, self.span)


def named_line(message: str, view: CatalogView) -> ProductLine | None:
    """The longest line a mention names, or None."""
    lines = named_lines(message, view)
    return max(lines, key=lambda line: len(line.matched)) if lines else None


def named_lines(message: str, view: CatalogView) -> list[ProductLine]:
    """The lines the message's mentions name, in message order, no two mentions overlapping
    (the longer kept). A mention is a run of consecutive message words that some products'
    own names hold and that cannot grow by a word on either side ("iPhone 7 Plus" is one
    mention, not a mention of the "iPhone 7")."""
    brand_words = {word for key in view.brand_words for word in view.brand_words[key]}
    every = tokens(message)
    said = {token.stem for token in every}
    found: list[ProductLine] = []
    for run in _runs(every):
        stems = [token.stem for token in run]
        for start in range(len(run)):
            for end in range(start, len(run)):
                members = _holding_all(view, stems[start : end + 1])
                if not members:
                    break
                grows = (start > 0 and _holding_all(view, stems[start - 1 : end + 1])) or (
                    end + 1 < len(run) and _holding_all(view, stems[start : end + 2])
                )
                words = stems[start : end + 1]
                if grows:
                    continue
                numbered = [w for w in words if has_digit(w)]
                if len(numbered) == len(words):
                    continue  # a bare number names nothing by itself
                if not numbered and only_vocabulary(words, view):
                    continue  # "Apple phones": a brand and a category ("iPhone 7": a model)
                things = _variants(view, _named_things(view, members, said | brand_words, words))
                if things:
                    span = (run[start].start, run[end].end)
                    found.append(ProductLine(things, tuple(words), span))
    kept: list[ProductLine] = []
    for line in sorted(found, key=lambda line: -len(line.matched)):  # stable: first of equals
        if all(line.span[1] <= other.span[0] or other.span[1] <= line.span[0] for other in kept):
            kept.append(line)
    return sorted(kept, key=lambda line: line.span)


def _runs(every: list[Token]) -> list[list[Token]]:
    """Runs of consecutive content words (a stopword ends a run, a model number does not)."""
    runs: list[list[Token]] = [[]]
    for token in every:
        if token.stem in stopwords() and not has_digit(token.stem):
            runs.append([])
        else:
            runs[-1].append(token)
    return [run for run in runs if run]


def _holding_all(view: CatalogView, stems: list[str]) -> set[str]:
    """Products whose own name (the title before "for") holds every one of the words."""
    found = set(view.title_index.get(stems[0], set()))
    for word in stems[1:]:
        found &= view.title_index.get(word, set())
    return {pid for pid in found if set(stems) <= view.products[pid].subject_words}


def _named_things(
    view: CatalogView, members: set[str], known: set[str], mention: list[str]
) -> tuple[str, ...]:
    """The members of the one kind the message names, plainest (shortest title) first. A
    member's kind is the category words of its own name the message does not say (``known``:
    the message's words and the brands'): when members differ in kind, the message named the
    kind that adds nothing ("the iPhone 7": the phones, not the "iPhone 7 Silicone Case");
    when all are of one kind ("Trailblazer 40L Backpack - Red"), that kind, if it is what
    the mention's family mostly is (a catalog with no iPhone 7 Plus but its silicone cases:
    the "iPhone" products are mostly phones, so the cases are no "iPhone 7 Plus")."""
    kinds: dict[frozenset[str], list[str]] = {}
    for pid in members:
        kind = frozenset(view.products[pid].subject_words & view.category_terms.keys()) - known
        kinds.setdefault(kind, []).append(pid)
    kept = kinds.get(frozenset())
    if kept is None and len(kinds) == 1 and _family_kind(view, members, mention):
        kept = next(iter(kinds.values()))
    return tuple(sorted(kept or [], key=lambda pid: (len(view.products[pid].title), pid)))


def _family_kind(view: CatalogView, members: set[str], mention: list[str]) -> bool:
    """The members' category head is the commonest among the products whose own name holds
    the mention's first word that is not a number (its family: "iPhone", "Trailblazer")."""
    lead = next((word for word in mention if not has_digit(word)), None)
    if lead is None:
        return True
    family = [
        view.products[pid]
        for pid in view.title_index.get(lead, set())
        if lead in view.products[pid].subject_words
    ]
    counts = Counter(head for entry in family for head in _heads(entry))
    if not counts:
        return True
    top = counts.most_common(1)[0][0]
    return any(top in _heads(view.products[pid]) for pid in members)


def _heads(entry: ProductEntry) -> tuple[str, ...]:
    return category_heads(entry.category) if entry.category else ()


def _variants(view: CatalogView, members: tuple[str, ...]) -> tuple[str, ...]:
    """Members in the order to answer from, or () when they are not one product's variants.
    A shop lists a product's variants (storage, colour, carrier) with near copies of one
    text; a family of different products ("iPhone": the 6, the 9, the X) shares far less.
    At least half of the members must have a near copy among the others; those come first."""
    if not MIN_MEMBERS <= len(members) <= MAX_MEMBERS:
        return ()
    texts = [frozenset(words(str(view.record(pid).get("description") or ""))) for pid in members]
    copied = [
        pid
        for i, pid in enumerate(members)
        if any(_jaccard(texts[i], texts[j]) >= SAME_TEXT for j in range(len(members)) if j != i)
    ]
    if len(copied) < MIN_MEMBERS or len(copied) < VARIANT_SHARE * len(members):
        return ()
    return tuple(copied) + tuple(pid for pid in members if pid not in copied)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def line_subject(
    plan: RequestPlan,
    constraints: Constraints,
    view: CatalogView,
    guess: IntentGuess,
    guess_of: Callable[[str], IntentGuess],
) -> ProductRef | None:
    """The product a question on a named line is answered from, or None: the message asks
    no catalog attribute its variants differ on (prices, colours: those are a search), sets
    no price, order or condition ("is the iPhone 7 cheap?" is about prices too), names no
    one product, and reads as a question rather than as a request for products ("Galaxy S7
    cases"), as itself or with the line's name said as "it" (``guess_of`` reads a text's
    intent): a product's name reads like a search whatever is asked of it ("what camera does
    the Samsung Galaxy S7 have?"), and "what brand is it?" like a question about brands."""
    if plan.intent not in ("search", "attribute") or plan.compare_on:
        return None
    filters = constraints.filters.model_dump(exclude_none=True)
    if set(filters) - {"brand", "category"} or constraints.sort or constraints.leaning:
        return None
    if constraints.conditions:
        return None
    line = named_line(plan.message, view)
    if line is None or any(_names_another(ref, line, view) for ref in plan.products):
        return None
    if not all(_agreed(line, attribute.key, view) for attribute in plan.attributes):
        return None  # "how much is the iPhone 7?": its variants' prices differ, a search
    before, after = plan.message[: line.span[0]], plan.message[line.span[1] :]
    if _FITS.search(before):
        return None  # "a screen protector for the iPhone 7": what it fits, not what it is
    if not content_words(f"{before} {after}"):
        return None  # "do you have the iPhone 7?" asks for the products, nothing of them
    category = {token.stem for token in tokens(constraints.filters.category or "")}
    if category & {token.stem for token in tokens(f"{before} {after}")}:
        return None  # "Galaxy S7 cases": a kind said beside the line's name is what is wanted
    said_as_it = f"{_ARTICLE_END.sub('', before)}it{after}"
    if wants_products(guess) and wants_products(guess_of(said_as_it)):
        return None
    return line.representative(view)


def line_comparison(
    plan: RequestPlan, constraints: Constraints, view: CatalogView, guess: IntentGuess
) -> list[ProductRef] | None:
    """The products a comparison of lines compares ("compare the iPhone 7 and the iPhone
    6s": one plainest variant of each), or of one line with a model the catalog lacks
    ("compare the Galaxy S7 with the Galaxy S9": the answer says the S9 is not sold). None
    when the message reads as no comparison or names two products itself."""
    if plan.intent == "compare" or (guess.intent != "compare" and not constraints.compare_on):
        return None
    if sum(not ref.ambiguous for ref in plan.products) >= 2:
        return None
    lines = [
        line for line in named_lines(plan.message, view)
        if not _FITS.search(plan.message[: line.span[0]]) and _a_name(line, plan.message)
    ]  # fmt: skip
    refs = list({line.members[0]: _side(line, plan.compare_on, view) for line in lines}.values())
    if len(refs) >= 2:
        return refs
    if len(refs) == 1 and absent_rivals(replace(plan, products=refs), view):
        return refs
    return None


def _a_name(line: ProductLine, message: str) -> bool:
    """The mention reads as a product's name: a model number, several words, or a capital
    ("the Trailblazer"; not "water resistant", which two "Impact-Resistant" cases share)."""
    said = message[line.span[0] : line.span[1]]
    return len(line.matched) > 1 or any(has_digit(w) for w in line.matched) or said[:1].isupper()


def _agreed(line: ProductLine, key: str, view: CatalogView) -> bool:
    """Every variant of the line has the field, with one value ("what brand is the iPhone
    7?"): the line answers for it."""
    values = set()
    for pid in line.members:
        fact = field_fact(pid, key, view.record(pid), view.products.get(pid), view)
        if fact is None:
            return False
        values.add(fact.text)
    return len(values) == 1


def _side(line: ProductLine, compare_on: str | None, view: CatalogView) -> ProductRef:
    """The line's variant a comparison shows: on price its cheapest (or dearest) variant, since
    the lines' prices are what is compared, else its plainest."""
    priced = [pid for pid in line.members if view.products[pid].price is not None]
    if compare_on not in ("price_asc", "price_desc") or not priced:
        return line.representative(view)
    sign = 1 if compare_on == "price_asc" else -1
    chosen = min(priced, key=lambda pid: (sign * (view.products[pid].price or 0.0), pid))
    return replace(line.representative(view), product_id=chosen, title=view.products[chosen].title)


def _names_another(ref: ProductRef, line: ProductLine, view: CatalogView) -> bool:
    """The message asks about this product rather than the line: it points back to it, or
    names it by words that say the line's name too ("the OtterBox case for the iPhone 7"), or
    names it first ("does the headphone jack adapter work with the iPhone 7?"). Named after
    the line by other words, it is what is asked of the line ("does the iPhone 7 have a
    headphone jack?" names a "Headphone Jack Adapter" by its last words)."""
    if ref.how in ("ordinal", "pronoun"):
        return True
    if ref.ambiguous:
        return False
    if set(line.matched) & view.products[ref.product_id].title_words or ref.span is None:
        return True
    return ref.span[0] < line.span[0]
