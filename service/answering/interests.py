"""Whom a gift is for, and what they like: "a gift for my sister who likes makeup" seeks
makeup, so the words before the relative clause that name nothing the catalog sells ("gift",
"sister") and the clause's own opener ("who likes") are no words to look for. English grammar
of preference, not any catalog's vocabulary."""

from __future__ import annotations

import re

from catalog.text import tokens
from service.answering.catalog_view import CatalogView

_LIKING = re.compile(
    r"\b(?:who|that)\s+(?:really\s+|also\s+|just\s+)?"
    r"(?:likes?|loves?|enjoys?|adores?|(?:is|are)\s+(?:into|a\s+fan\s+of|crazy\s+about))\s+"
)


def interest_spans(text: str, view: CatalogView) -> list[tuple[int, int]]:
    """Spans of the words that say whom something is for rather than what it is, when the
    text says what they like: the clause's opener and, before it, the words no title or
    tag holds ("a phone for my dad who likes photos" keeps "phone")."""
    found = _LIKING.search(text)
    if found is None or not text[found.end() :].strip():
        return []
    before = [
        (token.start, token.end)
        for token in tokens(text[: found.start()])
        if token.is_stopword
        or (token.stem not in view.title_index and token.stem not in view.tag_index)
    ]
    return [*before, found.span()]
