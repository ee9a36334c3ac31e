"""Which intent a plan has: structure (named products, constraints, asked attributes) decides
whenever the message is about the catalog; the intent prototypes decide what a message with no
catalog content is (small talk, help, out of scope, or a request the catalog cannot meet)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from catalog.models import Filters
from catalog.text import blank, content_words, stranded_preposition, tokens
from service.answering.catalog_view import CatalogView
from service.answering.constraints import Constraints
from service.answering.intents import Intent, IntentGuess
from service.answering.record import about, meets, subject_words
from service.answering.references import ProductRef, pointer_spans
from service.answering.stand_ins import absent_rivals

if TYPE_CHECKING:
    from service.answering.plan import RequestPlan

# A message with no catalog content is small talk or help only when it is at least this close
# to one of their prototypes; otherwise it is out of scope or a request the catalog can't meet.
DIALOGUE_SIMILARITY = 0.55
_DIALOGUE = frozenset({"small_talk", "help", "out_of_scope"})
# A quantifier over the listed products: English grammar, not any catalog's words.
# Words that open a question about something (English grammar): "is", "does", "what"...
_ASKING = frozenset(
    {"is", "are", "was", "were", "does", "do", "did", "can", "could", "will", "would"}
    | {"should", "has", "have", "what", "which", "how", "who", "whose", "where", "when"}
    | {"why", "tell"}
)
_YES_NO = frozenset({"is", "are", "does", "do", "can", "has", "have"})
_OF_EACH = re.compile(r"\b(?:any|either|each|none|all|some)\s+of\s+(?:them|these|those)\b")


def decide_intent(
    plan: RequestPlan, constraints: Constraints, view: CatalogView, guess: IntentGuess
) -> Intent:
    """The plan's intent; may drop the plan's products (dialogue, a loose reference)."""
    catalog_words = _catalog_words(plan.message, view)
    strong = [ref for ref in plan.products if ref.how == "name" or len(ref.matched) > 1]
    weak = not constraints.any and not strong and len(catalog_words) <= 1
    close = guess.similarity >= DIALOGUE_SIMILARITY or guess.intent == "out_of_scope"
    if weak and guess.intent in _DIALOGUE and close:
        # "tell me a joke about cats" is not about the catalog's Cat Food.
        plan.products, plan.attributes, plan.grounded = [], [], False
        return guess.intent
    specific = [ref for ref in plan.products if not ref.ambiguous]
    if not specific and not constraints.any:
        specific = list(plan.products)  # "Is the Knife covered?": no brand or category took it
    if len(specific) >= 2:
        full = [ref for ref in specific if ref.how == "name"]
        # "are any of them polarized?" asks of each listed product, however close it reads
        # to a comparison; "which of them is cheaper?" names its dimension.
        of_each = _OF_EACH.search(plan.message.lower()) is not None
        guessed = guess.intent == "compare" and not of_each
        asks_comparison = constraints.compare_on is not None or guessed
        if not asks_comparison and _asks_each(plan, specific):
            return "attribute"  # "do any of them have UV protection?": asked of each
        if asks_comparison or len(full) != 1:
            return "compare"
        # "About the <full title>: does it work with Windows 8?": one product is the
        # subject, the others only the question's objects.
        plan.products = full
        return "attribute"
    # "I want a mug for coffee": one shared word of "Nescafe Coffee" in a request for things
    # is a search (that product competes with the rest), not a question on it; and "do you
    # sell laptops?" does not name the "Adapter for select Lenovo laptops" at all.
    asked_of_it = plan.attributes or not wants_products(guess)
    if _loose(specific) and (_only_fits(specific[0], view) or not asked_of_it):
        plan.products = specific = []
    # "compare the iPhone 9 and the iPhone X": one side is not sold, and the answer says so.
    one = len(specific) == 1 and guess.intent == "compare"
    if one and absent_rivals(replace(plan, products=specific), view):
        plan.products = specific
        return "compare"
    leaning_only = constraints.filters.is_empty() and not constraints.conditions
    if specific and (plan.attributes or not constraints.any or leaning_only):
        # Beside a product named outright, a brand or category word ("... bolts stainless
        # steel?") is part of the question, not a second product to answer about; so is a
        # degree alone ("is the X well reviewed?" asks its rating).
        plan.products = specific
        return "attribute"
    plan.grounded = bool(plan.products or constraints.any or catalog_words)
    if not plan.grounded:
        if guess.intent in _DIALOGUE:
            return guess.intent
        # A product the catalog does not carry: the search says so.
        return "recommend" if guess.intent == "recommend" else "search"
    if plan.products and plan.attributes:
        return "attribute"
    if guess.scores.get("recommend", 0.0) > guess.scores.get("search", 0.0) + 0.05:
        return "recommend"
    return "search"


def only_product(plan: RequestPlan, view: CatalogView) -> ProductRef | None:
    """A question on what one product alone is: "how heavy is the Chanel perfume?" asks the
    weight of the one fragrance of that brand. None unless the message's brand or category
    leaves exactly one product whose title holds the rest of what it names."""
    if plan.sort or plan.products or plan.conditions or not plan.attributes:
        return None  # "mascara of 10 ml" asks for products with a value, not a product's
    if plan.filters.brand is None and plan.filters.category is None:
        return None
    known, _ = subject_words(plan, view)  # words no title holds cannot pick one ("heavy")
    found = [
        entry
        for entry in view.products.values()
        if meets(entry, plan.filters) and about(entry, known)
    ]
    if len(found) != 1:
        return None
    return ProductRef(found[0].product_id, found[0].title, "partial")


def _asks_each(plan: RequestPlan, refs: list[ProductRef]) -> bool:
    """Products pointed back at ("them", "these") with a question no attribute answers: an
    open question on each of them, not a table of their prices."""
    if plan.attributes or not all(ref.how in ("pronoun", "ordinal") for ref in refs):
        return False
    # The pointers and constraints are no question: "are any of them under $50?"; a stranded
    # preposition is, whatever the stopword list holds ("what are they made of?").
    rest = blank(plan.message, pointer_spans(plan.message) + plan.spans)
    return bool(content_words(rest)) or stranded_preposition(plan.message)


def _loose(refs: list[ProductRef]) -> bool:
    """One product, named by a single word of its title."""
    return len(refs) == 1 and refs[0].how == "partial" and len(refs[0].matched) == 1


def _only_fits(ref: ProductRef, view: CatalogView) -> bool:
    """The words that named it come after "for" in its title: what it fits, not what it is."""
    entry = view.products.get(ref.product_id)
    return entry is not None and not set(ref.matched) & entry.subject_words


def wants_products(guess: IntentGuess) -> bool:
    """The message reads more like a request for things than like a question about one."""
    wanting = max(guess.scores.get("search", 0.0), guess.scores.get("recommend", 0.0))
    return wanting > guess.scores.get("attribute", 0.0)


def _catalog_words(message: str, view: CatalogView) -> list[str]:
    """Content words of the message that some product title, brand, category or tag holds."""
    return [
        word
        for word in content_words(message)
        if word in view.title_index or word in view.category_terms or word in view.tag_index
    ]


def seeks_products(message: str, plan: RequestPlan, view: CatalogView, filters: Filters) -> bool:
    """Of a message naming one product and asking nothing of it: it seeks products like it
    ("show me plates" beside the one "Plate"; "spice racks under 2000 rupees"; "gold iphone
    6s"), so it is a search."""
    category = view.categories.get(filters.category or "")
    kinds = category is not None and category.count > 1 and plural_of(message, plan, view)
    ref = plan.products[0]
    loose = loosely_named(message, ref, view, plan.spans) or asks_variant(message, ref, view)
    return kinds or kind_under_bound(message, ref, filters) or loose


def asks_variant(message: str, ref: ProductRef, view: CatalogView) -> bool:
    """ "is the Galaxy S7 edge unlocked?": a yes/no question ending in a word of the named
    title that only some products of its line hold asks which of them do, not about the one
    title that fits best."""
    said = tokens(message)
    if ref.how != "partial" or len(ref.matched) < 2 or not said or said[0].text not in _YES_NO:
        return False
    content = [token for token in said if not token.is_stopword]
    if not content or content[-1].stem != ref.matched[-1]:
        return False
    line = set.intersection(*(view.title_index.get(word, set()) for word in ref.matched[:-1]))
    holding = line & view.title_index.get(ref.matched[-1], set())
    return 0 < len(holding) < len(line)


def kind_under_bound(message: str, ref: ProductRef, filters: Filters) -> bool:
    """ "spice racks under 2000 rupees": a price or rating bound beside a product said in a
    plural its title is not in seeks such things, not that product's price."""
    bounded = any(v is not None for v in (filters.min_price, filters.max_price, filters.min_rating))
    return bounded and _in_plural(message, ref)


def narrows_listed(plan: RequestPlan, refs: list[ProductRef]) -> bool:
    """ "only those under $80", "which of them are Dior?": a plural pointer at the listed
    products with a price or rating bound or a brand, asking nothing else, narrows the list."""
    filters = plan.filters
    narrowing = (filters.min_price, filters.max_price, filters.min_rating, filters.brand)
    plural = len(refs) > 1 and all(ref.how == "pronoun" for ref in refs)
    asks = plan.attributes or plan.sort or plan.compare_on
    return plural and any(value is not None for value in narrowing) and not asks


def plural_of(message: str, plan: RequestPlan, view: CatalogView) -> bool:
    """The message names the product only by category words, in the plural its one-word
    title is not in ("show me plates" against the product "Plate"): the category is meant."""
    ref = plan.products[0]
    if ref.span is None or content_words(blank(message, [ref.span])):
        return False
    named = tokens(message[ref.span[0] : ref.span[1]])
    in_terms = all(token.stem in view.category_terms for token in named)
    return in_terms and _in_plural(message, ref)


def _in_plural(message: str, ref: ProductRef) -> bool:
    """The message names the product with a word in a plural its title does not hold."""
    if ref.span is None:
        return False
    title = {token.text for token in tokens(ref.title)}
    named = tokens(message[ref.span[0] : ref.span[1]])
    return any(token.text != token.stem and token.text not in title for token in named)


def loosely_named(
    message: str, ref: ProductRef, view: CatalogView, spans: list[tuple[int, int]]
) -> bool:
    """A phrase that asks nothing and names a product only in part ("gold iphone 6s", "green
    lipstick") seeks such products: the several that hold those words, or ones with what the
    shopper added ("wooden spoon" beside the one-word "Spoon"; constraint phrases, ``spans``,
    are no such words). A question ("is the ... unlocked?") or a full title of several words is
    about the product."""
    said = tokens(message)
    one_word = ref.how == "name" and len(content_words(ref.title)) == 1
    if not (ref.how == "partial" or one_word) or ref.span is None or not said or "?" in message:
        return False
    if said[0].text in _ASKING:
        return False
    # Not constraint phrases ("under 400 rupees") nor amounts ("of 1 l"): words of a kind.
    units = set(view.profile.units)
    added = [
        word
        for word in content_words(blank(message, [ref.span, *spans]))
        if word.isalpha() and word not in units
    ]
    if one_word:
        return bool(added)
    holders = set.intersection(*(view.title_index.get(word, set()) for word in ref.matched))
    return bool(added) or len(holders) > 1
