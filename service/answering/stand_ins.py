"""Which retrieved products may stand for a search whose words the catalog does not hold.

Retrieval always returns its nearest products, even for "Brimtax Air Fryer" in a shop without
one. A word no text of the catalog holds, or a model number no title holds ("iPhone 27"), says
the shopper asks for something else, so only a product close in meaning may stand for it. A
word no title holds but some description does ("makeup") is stood for by the products saying it.

A product the message names by its full title stands for itself: the foreign words then
describe something of the shopper's ("About the <title>: will it fit my 95 Mustang?").

A request that describes a need ("a gift for my mom who loves cooking", "something to wear to
a wedding") uses words no product holds for the shopper and the occasion. When nothing stands
and the catalog holds some of its words, the products holding them are the closest matches,
offered as such (``context_hits``); a request naming no word of the catalog stays refused.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

from catalog.models import ProductHit
from catalog.text import Token, blank, content_words, has_digit, tokens, words
from service.answering.catalog_view import CatalogView
from service.answering.record import mentions, subject_words
from service.answering.references import ProductRef, named_products

if TYPE_CHECKING:
    from service.answering.plan import RequestPlan

# Below this cosine a retrieved product is not about the query ("lawn mowers" in a catalog
# without any): chosen on the planner's development questions.
RELEVANT_SIMILARITY = 0.5
_MODEL = re.compile(r"[a-z]{0,3}\d+")  # "8", "27", "s9", "g5"; not "64gb"


def standing_hits(hits: list[ProductHit], plan: RequestPlan, view: CatalogView) -> list[ProductHit]:
    """``hits`` without those the query's foreign words or unknown model numbers rule out."""
    known, unknown = subject_words(plan, view)
    foreign = _foreign(unknown, view)
    named = _proper_names(plan.message, foreign)
    too_far = bool(named) or bool((foreign or (unknown and not known)) and plan.filters.is_empty())
    numbers = [word for word in unknown if any(char.isdigit() for char in word)]
    strict_numbers = bool(numbers and known)
    models = [words(model) for model in absent_models(plan, view)]
    if not (too_far or strict_numbers or models):
        return hits
    titled = _named_by_title(plan, view)
    # Words no title holds but other texts do ("makeup" in descriptions): a product whose
    # texts hold them all is about them, however far its embedding.
    described = [] if foreign or named else _described(unknown, view)

    def stands(hit: ProductHit) -> bool:
        near = not too_far or close(hit) or bool(described and _holds_all(hit, described))
        holds = not strict_numbers or _holds_all(hit, numbers)
        return near and holds and all(_holds_run(hit, model) for model in models)

    return [hit for hit in hits if hit.product_id in titled or stands(hit)]


def absent_models(plan: RequestPlan, view: CatalogView) -> list[str]:
    """Models the message names that no title holds, as written: a title word followed by a
    number no title puts after it ("iPhone 8" where titles hold "iPhone 7" and "Honor 8";
    "Galaxy S9"). A number with a unit ("64GB") is a measure, not a model."""
    # Prices and other constraints out, and the products the message does name.
    named = [ref.span for ref in plan.products if ref.span]
    every = tokens(blank(plan.message, plan.spans + named))
    found = []
    for before, token in itertools.pairwise(every):
        if not _MODEL.fullmatch(token.stem) or before.is_stopword:
            continue
        if before.stem in view.title_index and (before.stem, token.stem) not in view.model_pairs:
            found.append(plan.message[before.start : token.end])
    return found


def absent_rivals(plan: RequestPlan, view: CatalogView) -> list[str]:
    """The absent models a comparison names beside its one product, when they are of its kind:
    their first word is in titles of its category ("compare the iPhone 9 and the iPhone X").
    Nothing for a product without a category: "size 8" beside a shoe tree may be a number of
    the shopper's own, not a product to compare with."""
    if len(plan.products) != 1 or (entry := view.products.get(plan.products[0].product_id)) is None:
        return []
    if not entry.category:
        return []
    rivals = []
    for model in absent_models(plan, view):
        first = tokens(model)[0].stem
        holders = view.title_index.get(first, set())
        if any(view.products[pid].category == entry.category for pid in holders):
            rivals.append(model)
    return rivals


def context_hits(
    hits: list[ProductHit], plan: RequestPlan, view: CatalogView
) -> tuple[list[ProductHit], list[str]]:
    """For a recommendation, or a search for a thing for someone ("a phone for my dad"), none
    of whose ``hits`` stands: those holding a word some title holds, and the words no text of
    the catalog holds (to say so). Nothing for a proper name or a model number no title
    holds: those ask for one thing the catalog lacks."""
    known, unknown = subject_words(plan, view)
    foreign = [word for word in unknown if not view.knows_word(word)]
    numbers = any(has_digit(word) for word in unknown)
    wishing = plan.intent == "recommend" or for_whom(plan, known, foreign)
    if not wishing or not known or not foreign or numbers:
        return [], []
    if _proper_names(plan.message, set(foreign)):
        return [], []
    holding = [hit for hit in hits if any(_titled(hit.product_id, word, view) for word in known)]
    return holding, _as_written(foreign, plan.message)


def for_whom(plan: RequestPlan, known: list[str], foreign: list[str]) -> bool:
    """The words no text holds all follow a "for" said after the thing sought: whom or what
    it is for ("a phone for my dad"), not a product the catalog lacks ("basmati rice")."""
    said = tokens(plan.message)
    after = next(
        (
            i
            for i, token in enumerate(said)
            if token.stem == "for" and any(t.stem in known for t in said[:i])
        ),
        None,
    )
    if after is None or not foreign:
        return False
    return all(any(t.stem == word for t in said[after + 1 :]) for word in foreign) and not any(
        t.stem in foreign for t in said[:after]
    )


def _as_written(stems: list[str], message: str) -> list[str]:
    """The message's own spelling of each stemmed word ("loves" for "love")."""
    said = {token.stem: message[token.start : token.end] for token in tokens(message)}
    return [said.get(word, word) for word in stems]


def _titled(product_id: str, word: str, view: CatalogView) -> bool:
    """The product's title or tags hold the word: it names what the product is."""
    entry = view.products.get(product_id)
    in_title = entry is not None and word in entry.title_words
    return in_title or product_id in view.tag_index.get(word, set())


def made_for_hits(
    hits: list[ProductHit], plan: RequestPlan, view: CatalogView
) -> tuple[list[ProductHit], list[str]]:
    """ "do you sell laptops?" where titles say "laptops" only after "for" ("Adapter for select
    Lenovo laptops"): the catalog sells none, only things made for them. Those hits, and the
    words as written; nothing when any word names what some product is."""
    known, _ = subject_words(plan, view)
    if plan.products or not known:
        return hits, []
    for word in known:
        holders = view.title_index.get(word, set())
        if not holders or any(word in view.products[pid].subject_words for pid in holders):
            return hits, []
    holding = [hit for hit in hits if all(_titled(hit.product_id, w, view) for w in known)]
    return holding, _as_written(known, plan.message)


def saying_hits(
    hits: list[ProductHit], plan: RequestPlan, view: CatalogView
) -> tuple[list[ProductHit], list[str]]:
    """ "which perfume smells floral?": the hits whose texts say the sought words no title
    holds but some description does, and those words as written; all hits and no words when
    none says them, or when a title word says what is sought ("a phone with a good camera":
    "good" only qualifies it)."""
    known, unknown = subject_words(plan, view)
    spoken = [w for w in _described(unknown, view) if view.knows_word(w)] if not known else []
    saying = [hit for hit in hits if spoken and _holds_all(hit, spoken)]
    return (saying, _as_written(spoken, plan.message)) if saying else (hits, [])


def _described(unknown: list[str], view: CatalogView) -> list[str]:
    """The words that may describe a product: no numbers, and no word of an attribute's name,
    which every product's text may hold ("does it have a warranty?" asks for no product)."""
    labels = {word for attribute in view.askable() for word in words(attribute.label)}
    return [word for word in unknown if not has_digit(word) and word not in labels]


def close(hit: ProductHit) -> bool:
    """Dense similarity high enough that the product is about the query at all."""
    return hit.similarity is not None and hit.similarity >= RELEVANT_SIMILARITY


def _named_by_title(plan: RequestPlan, view: CatalogView) -> set[str]:
    refs: list[ProductRef] = plan.products or named_products(plan.message, view)
    return {ref.product_id for ref in refs if ref.how == "name"}


def foreign_words(plan: RequestPlan, view: CatalogView) -> list[str]:
    """The names in what is sought that no text of the catalog holds: words written with a
    capital ("Motorola" in "Motorola phones" where the catalog has phones but no Motorola; not
    "come" in "how many plates come in the pack?")."""
    foreign = _foreign(subject_words(plan, view)[1], view)
    named = _proper_names(plan.message, foreign, first=True)
    return _as_written(list(dict.fromkeys(named)), plan.message)


def _foreign(unknown: list[str], view: CatalogView) -> set[str]:
    """The words no text of the catalog holds."""
    return {word for word in unknown if not view.knows_word(word)}


def _proper_names(message: str, foreign: set[str], first: bool = False) -> list[str]:
    """Foreign words written as a name (capitalised; not first in the message unless
    ``first``): "Is the Drummox Trail Bike 500 in stock?" asks for a product, whatever its
    filters say."""
    found = []
    for position, token in enumerate(tokens(message)):
        original = message[token.start : token.end]
        if (first or position > 0) and token.stem in foreign and original[:1].isupper():
            found.append(token.stem)
    return found


def _holds_all(hit: ProductHit, words: list[str]) -> bool:
    return all(word in _words_of(hit) for word in words)


def _holds_run(hit: ProductHit, run: list[str]) -> bool:
    for text in (hit.title, *(chunk.text for chunk in hit.chunks)):
        said = words(text)
        if any(said[i : i + len(run)] == run for i in range(len(said) - len(run) + 1)):
            return True
    return False


def _words_of(hit: ProductHit) -> set[str]:
    return set(content_words(" ".join([hit.title, *(chunk.text for chunk in hit.chunks)])))


def unheld_phrase(plan: RequestPlan, view: CatalogView) -> list[str]:
    """Catalog words said side by side that no product holds together, as written: "green
    lipstick" where the one lipstick is red and the green things are earrings."""
    known, _ = subject_words(plan, view)
    runs: list[list[Token]] = [[]]
    for token in tokens(blank(plan.message, plan.spans)):  # a stopword ends a run
        if token.stem in known and not token.is_stopword:
            runs[-1].append(token)
        elif runs[-1]:
            runs.append([])
    for run in (run for run in runs if len(run) >= 2):
        stems = [token.stem for token in run]
        holders = set.intersection(*(view.title_index.get(stem, set()) for stem in stems))
        heads = view.title_index.get(stems[-1], set())  # titles naming the thing itself
        if holders or not heads or any(mentions(view, p, stems[:-1]) for p in sorted(heads)[:200]):
            continue
        return [plan.message[run[0].start : run[-1].end]]
    return []
