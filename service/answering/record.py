"""Reading a product's stored record: one field as a fact, printed the catalog's way; and the
words of a search that name what the shopper wants (its subject)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from catalog.models import Filters, ProductHit, facet_key
from catalog.profile import AttributeProfile, FieldRole
from catalog.reviews import review_comments
from catalog.text import blank, tokens, words
from service.answering.catalog_terms import is_head, of_kind
from service.answering.catalog_view import CatalogView, ProductEntry
from service.answering.conditions import attribute_value, holds
from service.answering.facts import LISTED_KEYS, FieldFact, ProductFacts

if TYPE_CHECKING:
    from service.answering.plan import RequestPlan

_EMPTY: tuple[Any, ...] = (None, "", [], {})
_BOUNDS = ("min_price", "max_price", "min_rating")
# The words after which a search names features: "phones with / that have wireless charging".
_HAVING = frozenset({"with", "have", "has", "having"})
MAX_REVIEWS = 5  # reviews quoted in an answer; the count of the rest is said


def field_fact(
    product_id: str,
    key: str,
    record: dict[str, Any],
    entry: ProductEntry | None,
    view: CatalogView,
) -> FieldFact | None:
    """The record's value for ``key`` as a fact, or None when the record has none."""
    attribute = next((item for item in view.askable() if item.key == key), None)
    label = attribute.label if attribute else key
    attributes = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
    if key == "price":
        value = _first(record.get("price"), entry.price if entry else None)
        if not _finite(value):
            return None
        return FieldFact(product_id, key, label, float(value), view.format_price(float(value)))
    if key == "rating":
        value = _first(record.get("rating"), entry.rating if entry else None)
        if not _finite(value):
            return None
        scale = view.profile.rating_scale
        text = f"{float(value):g} out of {scale:g}" if scale else f"{float(value):g}"
        return FieldFact(product_id, key, label, float(value), text)
    if key == "availability":
        return _availability(product_id, label, record, entry)
    if attribute is not None and attribute.role is FieldRole.REVIEWS:
        return _reviews(product_id, attribute, attributes or {})
    value = attribute_value(record, attributes or {}, key)
    if value in _EMPTY:
        return None
    unit = attribute.unit if attribute else None
    text = readable(value)
    if unit and isinstance(value, int | float) and not isinstance(value, bool):
        text = f"{text} {unit}"
    return FieldFact(product_id, key, label, value, text)


def listing(hit: ProductHit, view: CatalogView, ordered_by: str | None = None) -> ProductFacts:
    """A listed product with the facts a list shows (price, brand, rating, and the attribute
    the list is ordered by)."""
    facts = ProductFacts(hit.product_id, hit.title, dict(hit.metadata))
    entry = view.products.get(hit.product_id)
    for key in (*LISTED_KEYS, *([ordered_by] if ordered_by else [])):
        fact = field_fact(hit.product_id, key, hit.record, entry, view)
        if fact is not None:
            facts.fields.append(fact)
    return facts


def _availability(
    product_id: str, label: str, record: dict[str, Any], entry: ProductEntry | None
) -> FieldFact | None:
    status = record.get("availability")
    stock = record.get("stock")
    in_stock = record.get("in_stock")
    if in_stock is None and entry is not None:
        in_stock = entry.in_stock
    if status in _EMPTY and stock is None and in_stock is None:
        return None
    if status in _EMPTY:
        status = "In stock" if in_stock else "Out of stock"
    text = str(status)
    if isinstance(stock, int) and not isinstance(stock, bool):
        text += f" ({stock} units)"
    return FieldFact(product_id, "availability", label, in_stock, text)


def _reviews(
    product_id: str, attribute: AttributeProfile, attributes: dict[str, Any]
) -> FieldFact | None:
    """What customers said, quoted without their names (a name answers nothing)."""
    comments = [
        " ".join(comment.split()) for comment, _ in review_comments(attributes.get(attribute.key))
    ]
    if not comments:
        return None
    shown = "; ".join(f'"{comment}"' for comment in comments[:MAX_REVIEWS])
    if len(comments) > MAX_REVIEWS:
        shown += f" (and {len(comments) - MAX_REVIEWS} more)"
    return FieldFact(product_id, attribute.key, attribute.label, comments, shown)


def readable(value: Any) -> str:
    """Nested values as plain text: ``{"width": 2}`` -> ``width 2``; lists joined by commas."""
    if isinstance(value, dict):
        return ", ".join(
            f"{str(key).replace('_', ' ')} {readable(item)}"
            for key, item in value.items()
            if item not in _EMPTY
        )
    if isinstance(value, list):
        return ", ".join(readable(item) for item in value if item not in _EMPTY)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def subject_words(plan: RequestPlan, view: CatalogView) -> tuple[list[str], list[str]]:
    """What a search is about beyond its filters: (words some title holds, other words).

    Constraint phrases, the filtered brand's and category's words and stopwords are left out:
    "cheapest basmati rice under 200 rupees" is about ("basmati", "rice"). Another brand's word
    stays ("case" of the brand "Case-Mate" in "cheapest case")."""
    text = blank(plan.message, plan.spans)
    brand = plan.filters.brand
    brand_words = set(view.brand_words.get(facet_key(brand), ())) if brand else set()
    known: list[str] = []
    unknown: list[str] = []
    for token in tokens(text):
        word = token.stem
        if token.is_stopword or word in brand_words:
            continue
        if word in view.category_terms and plan.filters.category is not None:
            continue  # the category filter stands for it
        (known if word in view.title_index or word in view.tag_index else unknown).append(word)
    return list(dict.fromkeys(known)), list(dict.fromkeys(unknown))


def features(plan: RequestPlan, known: list[str], view: CatalogView) -> tuple[list[str], list[str]]:
    """The subject words split into what is sought and the features it should have (as
    written): the catalog's words said after "with" (or "have") name a feature ("a cheap
    phone with a good camera" seeks a phone, and a "Phone Camera Lens Kit" is not one; "good"
    is no catalog word)."""
    said = tokens(blank(plan.message, plan.spans))
    terms = (view.title_index, view.category_terms, view.tag_index)
    # After the thing sought: "do you have waterproof cases" names no feature.
    first = next(
        (i for i, t in enumerate(said) if not t.is_stopword and any(t.stem in h for h in terms)),
        len(said),
    )
    cut = next((i for i, t in enumerate(said) if t.stem in _HAVING and first < i), None)
    if cut is None:
        return known, []
    wanted = {
        token.stem: plan.message[token.start : token.end]  # as written: "64GB"
        for token in said[cut + 1 :]
        if not token.is_stopword and any(token.stem in held for held in terms)
    }
    sought = [word for word in known if word not in wanted]
    if not wanted or not (sought or plan.filters.category):
        return known, []
    return sought, list(wanted.values())


def sought(
    entries: list[ProductEntry], known: list[str], wanted: list[str], view: CatalogView
) -> tuple[list[ProductEntry], list[str]]:
    """The entries a scan is about: those the subject words name, preferring the things
    themselves ("cheapest Samsung phone": a phone, not a "Case for Samsung ... Cell Phones"),
    then those whose own category is the thing named, then those whose text has the wanted
    features (returned when they narrowed it), each preference only when some product meets
    it."""
    relevant = [entry for entry in entries if about(entry, known)]
    relevant = [entry for entry in relevant if is_itself(entry, known)] or relevant
    relevant = [entry for entry in relevant if of_kind(entry, known)] or relevant
    holding = [entry for entry in relevant if wanted and mentions(view, entry.product_id, wanted)]
    return (holding, wanted) if holding else (relevant, [])


def things_named(plan: RequestPlan, view: CatalogView) -> set[str] | None:
    """The products that are the thing a search names, when others only name it too: on a
    shop of phones, phone cases and phone cards, "phones under $100" are the phones. None when
    the subject names nothing or every product naming it is one. Asked among the products of
    the brand, category and stock filtered on ("Belkin phones": Belkin makes none, so its
    phone accessories); price and rating bounds are left to the search, which says so when no
    such thing meets them ("phones under $5"). The things themselves, too, when every product
    naming them is one but none meets the bounds: "headphones under $50" where all headphones
    cost more is said so, not answered with earrings."""
    known, _ = subject_words(plan, view)
    thing, _ = features(plan, known, view)
    if not thing:
        return None
    scope = plan.filters.model_copy(update=dict.fromkeys(_BOUNDS))
    naming = [e for e in view.products.values() if meets(e, scope) and _named(e, thing, view)]
    itself = sought(naming, thing, [], view)[0] or naming  # named by tags alone: themselves
    unmet = not any(meets(entry, plan.filters) for entry in itself)  # a bound none meets
    narrows = len(itself) < len(naming) or (unmet and bool(itself))
    return {entry.product_id for entry in itself} if narrows else None


def _named(entry: ProductEntry, subject: list[str], view: CatalogView) -> bool:
    """Every subject word names the product: its title's, its category's head, or its tags'
    ("over-ear headphones")."""
    tagged = [word for word in subject if entry.product_id in view.tag_index.get(word, ())]
    return about(entry, [word for word in subject if word not in tagged])


def featured(
    plan: RequestPlan,
    thing: list[str],
    wanted: list[str],
    among: set[str] | None,
    view: CatalogView,
) -> tuple[set[str] | None, list[str], tuple[str, str] | None]:
    """ "phones with wireless charging": the products of that kind (``among``, else those the
    thing's words name) whose texts mention the features, and the features; or, when none
    does, ``among`` unchanged and (the thing, the features) as written, to say so."""
    kind = [
        e
        for e in view.products.values()
        if (e.product_id in among if among is not None else about(e, thing))
        and meets(e, plan.filters)
    ]
    holders = {e.product_id for e in kind if mentions(view, e.product_id, wanted)}
    if holders:
        return holders, wanted, None
    said = tokens(blank(plan.message, plan.spans))
    category = plan.filters.category
    written = [
        plan.message[t.start : t.end]
        for t in said
        if t.stem in thing or (category and category in view.category_terms.get(t.stem, ()))
    ]
    written = [word for word in written if words(word)[0] not in wanted]
    return among, [], (" ".join(dict.fromkeys(written)) or "products", " ".join(wanted))


def mentions(view: CatalogView, product_id: str, wanted: list[str]) -> bool:
    """Every wanted feature word is in the product's title or description."""
    description = str(view.record(product_id).get("description") or "")
    title = view.products[product_id].title_words if product_id in view.products else set()
    return set(words(" ".join(wanted))) <= set(words(description)) | set(title)


def all_hold(record: dict[str, Any], plan: RequestPlan) -> bool:
    return all(holds(record, condition) for condition in plan.conditions)


def names_all(hit: ProductHit, subject: list[str], view: CatalogView) -> bool:
    entry = view.products.get(hit.product_id)
    return entry is not None and about(entry, subject)


def category_of(view: CatalogView, product_id: str) -> str | None:
    entry = view.products.get(product_id)
    return entry.category if entry is not None else None


def meets(entry: ProductEntry, filters: Filters) -> bool:
    """Whether the product meets the filters, read as retrieval reads them (a category holds
    at every level of the product's path)."""
    return filters.matches(
        {
            "price": entry.price,
            "rating": entry.rating,
            "in_stock": entry.in_stock,
            "brand_key": " ".join((entry.brand or "").lower().split()),
            "category_key": " ".join((entry.category or "").lower().split()),
            "category_keys": [facet_key(level) for level in entry.category_path],
        }
    )


def about(entry: ProductEntry, subject: list[str]) -> bool:
    """Every subject word is a word of the product's title or the head of its category's name:
    a "Rolex Datejust" in "womens-watches" is a watch its title does not call one."""
    return all(word in entry.title_words or is_head(word, entry) for word in subject)


def is_itself(entry: ProductEntry, subject: list[str]) -> bool:
    """Some subject word is the product's own, said before what it is made for or by the head
    of its category's name."""
    return not subject or any(
        word in entry.subject_words or is_head(word, entry) for word in subject
    )


def _first(*values: Any) -> Any:
    return next((value for value in values if value not in _EMPTY), None)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
