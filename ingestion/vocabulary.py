"""The catalog's own words: category nodes with their loose forms, and the unit words its texts
put after numbers. Everything is measured on the catalog; nothing is a table of one catalog.

Loose forms of a category:

- the words of its name with their singular and plural (a general English rule,
  ``catalog.units.forms``), the name's words written together ("skin-care" -> "skincare"),
  and the head of a closed compound when the catalog's own texts use it as a word
  ("smartphones" -> "phones", "sunglasses" -> "glasses"; heads of ``MIN_HEAD`` letters or
  more, so "laptops" does not give "tops");
- words of product titles and tags that mark it: at least ``ASSOCIATION`` of the products
  holding the word are in the category, at least ``MIN_PRODUCTS`` of them, and the category
  is at least ``MIN_LIFT`` times more frequent among them than in the catalog (so a top level
  holding every product learns nothing). A word goes to the narrowest category that passes.
  Brand words are left out: they name brands, not categories.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from catalog.money import currency_words, multiplier_words
from catalog.profile import CategoryProfile
from catalog.text import forms, plural, singular, stopwords
from catalog.text import letter_words as words

ASSOCIATION = 0.8
MIN_PRODUCTS = 2  # 3 was compared on the question sets: it lost "handbags" (2 products)
MIN_LIFT = 2.0
MAX_TERMS = 40  # per category, most frequent first
MIN_HEAD = 5  # letters of a compound's head word
UNIT_MIN_COUNT = 5  # a unit word follows a number this often...
UNIT_MIN_SHARE = 0.7  # ...in this share of its occurrences
_NUMBER_THEN_WORD = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s?-?\s?([^\W\d_]{1,12})(?![^\W\d_])")


@dataclass
class _Node:
    name: str
    count: int
    path: list[str]


def categories(records: list[dict[str, Any]], brands: Iterable[str]) -> list[CategoryProfile]:
    """Every node of the category paths, with its product count and loose terms."""
    nodes: dict[str, _Node] = {}
    paths: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    members: dict[str, set[int]] = defaultdict(set)
    for index, record in enumerate(records):
        path = _path(record)
        for level, name in enumerate(path):
            paths[name][tuple(path[: level + 1])] += 1
            members[name].add(index)
    for name, seen in paths.items():
        common = list(seen.most_common(1)[0][0])
        nodes[name] = _Node(name, len(members[name]), common)
    depth = {name: len(node.path) for name, node in nodes.items()}
    associated = _associated_words(records, members, depth, brands)
    known = {word for record in records for word in _record_words(record, description=True)}
    found = []
    for name, node in sorted(nodes.items(), key=lambda item: (-item[1].count, item[0])):
        own = sorted(_name_forms(name, known))
        marking = [form for word in associated.get(name, []) for form in sorted(forms(word))]
        terms = list(dict.fromkeys([*own, *marking]))  # the name's words, then most frequent
        found.append(CategoryProfile(name=name, count=node.count, path=node.path, terms=terms))
    return found


def _path(record: dict[str, Any]) -> list[str]:
    path = record.get("category_path")
    if isinstance(path, list) and path:
        return [str(level) for level in path if str(level).strip()]
    category = record.get("category")
    return [str(category)] if category else []


def _name_forms(name: str, known: set[str]) -> set[str]:
    own = [word for word in words(name) if word not in stopwords()]
    found = {form for word in own for form in forms(word)}
    if len(own) == 2:  # "skin-care" -> "skincare"
        joined = singular(own[0]) + singular(own[1])
        found |= {joined, plural(joined)}
    for word in own:
        heads = (word[i:] for i in range(3, len(word) - MIN_HEAD + 1))
        head = next((h for h in heads if h not in own and forms(h) & known), None)
        if head is not None:
            found |= forms(head)
    return found


def _associated_words(
    records: list[dict[str, Any]],
    members: dict[str, set[int]],
    depth: dict[str, int],
    brands: Iterable[str],
) -> dict[str, list[str]]:
    """Category -> the title/tag words that mark it (see the module docstring)."""
    brand_words = {word for brand in brands for word in words(brand)}
    holders: dict[str, set[int]] = defaultdict(set)
    for index, record in enumerate(records):
        for word in _record_words(record):
            if word not in brand_words and word not in stopwords() and len(word) > 2:
                holders[word].add(index)
    paths = [set(_path(record)) for record in records]
    total = max(1, len(records))
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for word, ids in holders.items():
        if len(ids) < MIN_PRODUCTS:
            continue
        per_category = Counter(name for index in ids for name in paths[index])
        passing = [
            name
            for name, shared in per_category.items()
            if shared >= MIN_PRODUCTS
            and shared >= ASSOCIATION * len(ids)
            and shared / len(ids) >= MIN_LIFT * len(members[name]) / total
        ]
        if passing:
            narrowest = max(passing, key=lambda name: (depth[name], -len(members[name])))
            found[narrowest].append((len(ids), word))
    return {
        name: [word for _, word in sorted(pairs, key=lambda p: (-p[0], p[1]))[:MAX_TERMS]]
        for name, pairs in found.items()
    }


def _record_words(record: dict[str, Any], *, description: bool = False) -> set[str]:
    text = str(record.get("title") or "")
    if description:
        text += " " + str(record.get("description") or "")
    tags = (record.get("attributes") or {}).get("tags")
    if isinstance(tags, list):
        text += " " + " ".join(str(tag) for tag in tags)
    return set(words(text))


def units(texts: Iterable[str], currency: str, locale: str) -> list[str]:
    """Words that follow numbers in the catalog's texts ("500 ml", "5-seater", "64GB"),
    often enough and mostly after numbers; never the currency's own words."""
    after: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    for text in texts:
        lowered = text.lower()
        after.update(match.group(1) for match in _NUMBER_THEN_WORD.finditer(lowered))
        anywhere.update(words(lowered))
    excluded = {word.lower() for word in currency_words(currency, locale)}
    excluded |= set(multiplier_words(locale)) | stopwords()
    found = {
        word
        for word, count in after.items()
        if count >= UNIT_MIN_COUNT
        and count >= UNIT_MIN_SHARE * max(anywhere[word], count)
        and len(word) > 1
        and word not in excluded
    }
    return sorted(found)
