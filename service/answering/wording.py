"""Phrases the deterministic answers are built from (kept apart from the composition logic)."""

from __future__ import annotations

import re

from catalog.models import ProductHit
from catalog.text import Token, tokens
from service.answering.catalog_view import CatalogView

# A lead-in naming the product before a colon ("About <title>: ..."): context, not the question.
_LEAD_IN = re.compile(r"^[^:]{0,40}\bit\b[^:\w]*:\s*(\S.*)$", re.IGNORECASE)
# Words after which the next one is the thing asked about (English grammar, no catalog's words).
_DETERMINERS = frozenset(
    {
        "the",
        "a",
        "an",
        "any",
        "its",
        "their",
        "your",
        "his",
        "her",
        "what",
        "which",
        "many",
        "much",
        "some",
    }
)
_FILTER_WORDS = {
    "min_price": "a price from {value}",
    "max_price": "a price up to {value}",
    "min_rating": "a rating of {value} or more",
    "in_stock": "in stock",
    "brand": "the brand {value}",
    "category": "the category {value}",
}


def small_talk_text() -> str:
    return (
        "Happy to help! Ask me about any product in the catalog (its price, availability or "
        "details), tell me what you're looking for, or ask me to compare two products."
    )


def help_text(view: CatalogView, examples: list[str]) -> str:
    labels = [a.label.lower() for a in view.profile.attributes if a.coverage >= 0.5][:4]
    details = ", ".join(labels) if labels else "prices and details"
    lines = [
        f"I'm Aisle, the shopping assistant for this catalog of {len(view.products)} products. "
        "I can find products for you (with a price limit, a brand or a category), answer "
        f"questions about a product ({details}), compare products and sort them by price"
        + (" or rating." if view.profile.rating_scale else "."),
        "Every answer cites the products it comes from. For example, you could ask:",
    ]
    lines += [f"- {example}" for example in examples]
    return "\n".join(lines)


def shown(title: str) -> str:
    """A title as answers print it: its square brackets would read as citations."""
    return title.replace("[", "(").replace("]", ")")


def listing_line(hit: ProductHit, view: CatalogView) -> str:
    meta = hit.metadata
    parts = [shown(hit.title)]
    price = meta.get("price")
    if isinstance(price, int | float) and not isinstance(price, bool):
        parts.append(view.format_price(float(price)))
    details = []
    if meta.get("brand"):
        details.append(str(meta["brand"]))
    rating = meta.get("rating")
    if isinstance(rating, int | float) and not isinstance(rating, bool):
        details.append(f"rated {float(rating):g}")
    if meta.get("in_stock") is False:
        details.append("out of stock")
    text = ", ".join(parts)
    return f"{text} ({', '.join(details)})" if details else text


def foreign_price_sentence(code: str, view: CatalogView) -> str:
    return (
        f"This catalog's prices are in {view.profile.currency}, and I can't convert {code}, so "
        "the price you gave was not applied."
    )


def unmatched_sentence(unmatched: list[str]) -> str:
    """``["gift", "mom"]`` -> the sentence that says the closest matches follow."""
    quoted = [f'"{word}"' for word in unmatched]
    said = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"No product in the catalog mentions {said}; these are the closest matches:"


def describe_relaxed(relaxed: list[str], view: CatalogView) -> str:
    """``["max_price 5.0"]`` -> ``a price up to $5.00``."""
    phrases = []
    for item in relaxed:
        name, _, raw = item.partition(" ")
        value: str = raw
        if name in ("min_price", "max_price"):
            try:
                value = view.format_price(float(raw))
            except ValueError:
                value = raw
        template = _FILTER_WORDS.get(name, name + " {value}")
        phrases.append(template.format(value=value))
    return " and ".join(phrases)


def missing_sentence(missing: list[str], message: str, title: str) -> str:
    """Says what the catalog lacks: the asked attributes it has no value for, the one word the
    question is about ("megapixel"), or else the question itself."""
    if missing:
        about = ", ".join(missing).lower()
        noun = "" if about.endswith("information") else " information"
        return f"The catalog has no {about}{noun} for {title}."
    title_words = {token.stem for token in tokens(title)}
    every = tokens(message)
    topic = [
        (i, token.text)
        for i, token in enumerate(every)
        if not token.is_stopword and token.stem not in title_words
    ]
    if len({text for _, text in topic}) == 1 and _is_object(message, every, topic[0][0]):
        return f"The catalog has no {topic[0][1]} information for {title}."
    named = re.sub(rf"\b(?:the|a|an)\s+{re.escape(title)}", "it", message, flags=re.IGNORECASE)
    question = " ".join(named.replace(title, "it").split()).rstrip("?.! ")
    lead_in = _LEAD_IN.match(question)
    if lead_in:
        question = lead_in.group(1)  # "About it: does it fit?" quotes "does it fit"
    return f'The catalog has nothing that answers "{question}" for {title}.'


def _is_object(message: str, every: list[Token], index: int) -> bool:
    """The word follows a determiner or a possessive ("the warranty", "how many megapixels",
    "the Hose's weight"): a thing asked about. "is it waterproof", "how much does it hold"
    are quoted whole instead."""
    if index == 0:
        return False
    before = every[index - 1]
    possessive = message[before.start : before.end].lower().replace("\u2019", "'")
    return before.text in _DETERMINERS or possessive.endswith("'s")


def example_questions(view: CatalogView, limit: int = 6) -> list[str]:
    """Questions a shopper could ask this catalog, drawn from its own products, attributes
    and categories (stable: products in id order)."""
    entries = sorted(view.products.values(), key=lambda entry: entry.product_id)
    if not entries:
        return []
    questions: list[str] = []
    first = entries[0]
    questions.append(f"How much is the {first.title}?")
    attributes = [a for a in view.profile.attributes if a.coverage >= 0.5]
    if attributes and len(entries) > 1:
        middle = entries[len(entries) // 2]
        questions.append(f"What is the {attributes[0].label.lower()} of the {middle.title}?")
    if len(entries) > 2:
        questions.append(f"Compare the {entries[1].title} and the {entries[-1].title}")
    seen: set[str] = set()
    for entry in entries:
        if entry.category and entry.price is not None and entry.category not in seen:
            seen.add(entry.category)
            ceiling = float(max(10, round(entry.price * 1.5, -1)))
            questions.append(f"{entry.category} under {view.format_price(ceiling)}")
            if len(seen) == 2:
                break
    if len(entries) > 1:
        questions.append(f"Is the {entries[1].title} in stock?")
    return questions[:limit]
