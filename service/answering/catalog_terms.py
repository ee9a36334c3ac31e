"""Brands and categories a shopper's words name, read against the catalog's own vocabulary:
the profile's brand names and the loose terms it learned for each category."""

from __future__ import annotations

import functools
import itertools
import re

from catalog.models import Filters, facet_key
from catalog.text import forms, stem, stopwords, tokens, words
from service.answering.catalog_view import CatalogView, ProductEntry

# A category said only by the words qualifying its head ("iPhone 7" of "iPhone 7 Cases") is
# meant only when the products those words name are mostly in it (ingestion's association).
MODIFIER_SHARE = 0.8
_CONJUNCTION = re.compile(r"\s*[&,/+]\s*|\s+and\s+", re.IGNORECASE)  # "Cases & Clips": two heads


def find_brand(text: str, view: CatalogView) -> str | None:
    """The longest brand whose words appear in order, unless its word is mostly something else
    in this catalog ("apple" in a catalog of fruit and one Apple phone). A long brand may be
    said by its first two words ("kate spade" for "kate spade new york"); a brand written out
    in full wins over one only begun."""
    message = [token.stem for token in tokens(text)]
    joined = f" {' '.join(message)} "
    best: tuple[int, bool, str] | None = None
    for key, brand_words in view.brand_words.items():
        said = _said_words(brand_words, joined)
        if not said or not _mostly_brand(key, brand_words, view):
            continue
        rank = (len(said), len(said) == len(brand_words), view.brand_keys[key])
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def _said_words(brand_words: tuple[str, ...], joined: str) -> tuple[str, ...]:
    """The brand's words the message holds in order: all, or the first two of three or more."""
    if brand_words and f" {' '.join(brand_words)} " in joined:
        return brand_words
    if len(brand_words) >= 3 and f" {' '.join(brand_words[:2])} " in joined:
        return brand_words[:2]
    return ()


def _mostly_brand(key: str, brand_words: tuple[str, ...], view: CatalogView) -> bool:
    """Of the products whose title starts with the brand's word, at least half are the
    brand's own (the Apple fruit is not; "Case for Apple iPhone" does not start with it)."""
    if len(brand_words) > 1:
        return True
    word = brand_words[0]
    holders = (view.products[product_id] for product_id in view.title_index.get(word, set()))
    leading = [entry for entry in holders if entry.first_word == word]
    if not leading:
        return True
    of_brand = sum(1 for entry in leading if facet_key(entry.brand or "") == key)
    return of_brand * 2 >= len(leading)


def vocabulary_spans(text: str, filters: Filters, view: CatalogView) -> list[tuple[int, int]]:
    """Where the message says the filtered brand or category: words that are not a question
    ("what's the rating of the Calvin Klein perfume?" asks the rating)."""
    said: set[str] = set()
    if filters.brand:
        said |= set(view.brand_words.get(facet_key(filters.brand), ()))
    if filters.category:
        said |= {
            word for word, reached in view.category_terms.items() if filters.category in reached
        }
    return [(token.start, token.end) for token in tokens(text) if token.stem in said]


def inside_category_name(brand: str, category: str | None, view: CatalogView) -> bool:
    """Every word of the brand is a word of the category's own name."""
    if category is None:
        return False
    brand_words = view.brand_words.get(facet_key(brand), ())
    return bool(brand_words) and set(brand_words) <= set(words(category.replace("-", " ")))


def find_category(text: str, view: CatalogView) -> str | None:
    """The category whose terms the message holds most of; among equals, the one whose name
    has fewest words the message lacks ("Unlocked Cell Phones" over "All Unlocked Cell
    Phones"); None while a tie remains."""
    message = {token.stem for token in tokens(text)}
    # A word said as part of a model name ("galaxy s7 edge") names that line, not a category
    # without the model's number in its name (Best Buy's "Samsung Galaxy": 8 chargers and
    # cases); "iPhone 7 Cases" holds both words.
    models = said_models(text, view)

    def said_for(word: str, category: str) -> bool:
        numbers = {number for named, number in models if named == word}
        return not numbers or bool(numbers & set(words(category.replace("-", " "))))

    counts: dict[str, int] = {}
    for word in message:
        for category in view.category_terms.get(word, ()):
            if said_for(word, category):
                counts[category] = counts.get(category, 0) + 1
    if not counts:
        return None

    def rank(category: str) -> tuple[int, int]:
        name = words(category.replace("-", " "))
        unmatched = [w for w in name if w not in message or not said_for(w, category)]
        return counts[category], -len(unmatched)

    best = max(rank(category) for category in counts)
    top = [category for category in counts if rank(category) == best]
    if len(top) > 1:
        # "All Prepaid Phones" against "Prepaid Phones": the longest name written out wins.
        joined = f" {' '.join(token.stem for token in tokens(text))} "
        written = [c for c in top if f" {' '.join(words(c.replace('-', ' ')))} " in joined]
        top = sorted(written, key=lambda c: -len(words(c)))[:1] if written else top
    if len(top) != 1 or _only_qualified(top[0], text, view):
        return None
    return top[0]


def said_models(text: str, view: CatalogView) -> dict[tuple[str, str], str]:
    """The model names the text says as some title does, each as written: ("iphone", "6s")
    -> "iPhone 6s"."""
    return {
        (first.stem, second.stem): text[first.start : second.end]
        for first, second in itertools.pairwise(tokens(text))
        if (first.stem, second.stem) in view.model_pairs and not first.is_stopword
    }


def _name_parts(category: str) -> tuple[list[str], list[str]]:
    """(heads, qualifiers) of a category's name, as written in lower case: "iPhone Cases &
    Clips" -> (cases, clips), (iphone); "All Cell Phones with Plans" -> (phones), (cell): a
    preposition ends the head's phrase."""
    heads: list[str] = []
    before: list[str] = []
    for part in _CONJUNCTION.split(category.replace("-", " ")):
        found = [token.text for token in tokens(part)]
        cut = next((i for i, word in enumerate(found) if i and word in stopwords()), len(found))
        if cut:
            heads.append(found[cut - 1])
            before += [word for word in found[: cut - 1] if word not in stopwords()]
    return heads, [word for word in dict.fromkeys(before) if word not in heads]


def of_kind(entry: ProductEntry, subject: list[str]) -> bool:
    """Some subject word is the head of the product's own category's name: the cheapest
    "phone" is in "Prepaid Phones", not a kit in "SIM Cards" whose title says "Phone"."""
    return any(is_head(word, entry) for word in subject)


def is_head(word: str, entry: ProductEntry) -> bool:
    """The (stemmed) word says the head of the product's category: "watch" of "womens-watches"."""
    heads = category_heads(entry.category) if entry.category else ()
    return any(_says(word, head) for head in heads)


@functools.lru_cache(maxsize=4096)
def category_heads(category: str) -> tuple[str, ...]:
    """The heads of a category's name, as written and stemmed (cached: a scan asks per product)."""
    heads = _name_parts(category)[0]
    return tuple(dict.fromkeys([*heads, *(stem(head) for head in heads)]))


def _says(said: str, head: str) -> bool:
    """The shopper's word is the head or its plural's stem ("lens" for "lenses", which the
    plural rule does not undo)."""
    return said == head or (len(said) >= 4 and head.startswith(said) and len(head) - len(said) <= 2)


def _qualifiers(category: str) -> list[str]:
    return [stem(word) for word in _name_parts(category)[1]]


def _only_qualified(category: str, text: str, view: CatalogView) -> bool:
    """The message reaches ``category`` only through words that qualify its head and that name
    (in titles or tags) products mostly outside it: "is the Apple iPhone 7 waterproof?" asks
    about phones, not the category "iPhone 7 Cases"; "kitchen" still reaches "kitchen-accessories".
    """
    heads, _ = _name_parts(category)
    qualifiers = _qualifiers(category)
    said = [token.text for token in tokens(text)]
    if not qualifiers or any(_says(word, head) for word in said for head in heads):
        return False
    message = {stem(word) for word in said}
    qualifying = {form for word in qualifiers for form in forms(word)}
    reaching = {word for word in message if category in view.category_terms.get(word, ())}
    if not reaching or not reaching <= qualifying:
        return False
    named = set.intersection(
        *(view.title_index.get(word, set()) | view.tag_index.get(word, set()) for word in reaching)
    )
    if not named:
        return False
    entries = [view.products[pid] for pid in named]
    inside = sum(1 for e in entries if category == e.category or category in e.category_path)
    return inside < MODIFIER_SHARE * len(named)
