"""The ``field`` question set: questions generated from a catalog's structured fields, with
gold values, plus unanswerable ones (an attribute a record lacks, a product nobody sells)."""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from evaluation.questions import DEFAULT_SEED, DEMO_CATALOG, DatasetError, Question, parse_line

# (type, source field, phrasings); {t} is the product title.
FIELD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "price": (
        "How much does the {t} cost?",
        "What is the price of the {t}?",
        "How much is the {t}?",
        "What does the {t} sell for?",
    ),
    "warranty": (
        "What warranty does the {t} come with?",
        "Is there a warranty on the {t}?",
        "How long is the warranty for the {t}?",
    ),
    "return_policy": (
        "What is the return policy for the {t}?",
        "Can I return the {t}?",
        "What are the return terms for the {t}?",
    ),
    "shipping": (
        "How fast does the {t} ship?",
        "What are the shipping times for the {t}?",
        "When will the {t} ship?",
    ),
    "availability": (
        "Is the {t} in stock?",
        "Is the {t} available right now?",
        "What is the availability of the {t}?",
    ),
    "brand": (
        "What brand is the {t}?",
        "Who makes the {t}?",
        "Which brand makes the {t}?",
    ),
    "minimum_order": (
        "What is the minimum order quantity for the {t}?",
        "How many units of the {t} must I order at least?",
        "What is the smallest order I can place for the {t}?",
    ),
    "rating": (
        "What is the rating of the {t}?",
        "How is the {t} rated?",
        "What rating do customers give the {t}?",
    ),
}

_SOURCE_FIELD = {
    "price": "price",
    "warranty": "warrantyInformation",
    "return_policy": "returnPolicy",
    "shipping": "shippingInformation",
    "availability": "availabilityStatus",
    "brand": "brand",
    "minimum_order": "minimumOrderQuantity",
    "rating": "rating",
}

# Attributes no demo record has; a question is only asked when the record never mentions
# any of the guard words (so the product really lacks the fact).
MISSING_ATTRIBUTES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "battery life": (
        ("What is the battery life of the {t}?", "How many hours does the {t} battery last?"),
        ("battery", "hour", "mah"),
    ),
    "colour": (
        ("What colour is the {t}?", "Which colors does the {t} come in?"),
        (
            "colour",
            "color",
            "black",
            "white",
            "red",
            "blue",
            "green",
            "pink",
            "gold",
            "silver",
            "grey",
            "gray",
            "brown",
            "yellow",
            "purple",
            "orange",
            "beige",
        ),
    ),
    "country of origin": (
        ("Where is the {t} made?", "In which country is the {t} manufactured?"),
        ("made in", "manufactur", "origin", "country", "imported"),
    ),
    "energy rating": (
        ("What is the energy efficiency rating of the {t}?",),
        ("energy", "efficien", "watt", "power"),
    ),
    "dishwasher safe": (
        ("Is the {t} dishwasher safe?", "Can I put the {t} in the dishwasher?"),
        ("dishwasher", "wash"),
    ),
}

# Made-up products: nonsense brand words + a real-sounding product noun.
_FAKE_BRANDS = (
    "Zorvik",
    "Quellara",
    "Brimtax",
    "Oxnova",
    "Velquist",
    "Drummox",
    "Yarrowin",
    "Skelvane",
    "Tumbrix",
    "Pexaloo",
)
_FAKE_NOUNS = (
    "Espresso Machine",
    "Trail Bike",
    "Gaming Monitor",
    "Robot Vacuum",
    "Snowboard",
    "Electric Kettle",
    "Drone",
    "Air Fryer",
    "Smart Ring",
    "Hiking Backpack",
    "Standing Desk",
    "Violin",
)
_FAKE_QUESTIONS = (
    "How much does the {t} cost?",
    "Is the {t} in stock?",
    "What warranty does the {t} have?",
    "What is the return policy for the {t}?",
    "Who makes the {t}?",
)


def _format_value(kind: str, value: Any) -> str:
    if kind == "price":
        return f"{float(value):.2f}"
    if kind == "rating":
        return f"{float(value):g}"
    return str(value).strip()


def field_questions(
    catalog: Path = DEMO_CATALOG,
    *,
    seed: int = DEFAULT_SEED,
    phrasings: int = 2,
    missing_per_product: int = 1,
    unknown_products: int = 40,
) -> list[Question]:
    """Questions about each product's structured fields, with gold values, plus unanswerable
    ones (an attribute the record lacks; a product the catalog does not carry).

    The same catalog and seed always give the same questions in the same order.
    """
    rows = _read_catalog(catalog)
    rng = random.Random(seed)
    title_counts: dict[str, int] = defaultdict(int)
    for row in rows:
        title_counts[_title_key(row)] += 1
    questions: list[Question] = []
    for row in rows:
        title = str(row.get("title", "")).strip()
        if not title or title_counts[_title_key(row)] > 1:
            continue  # a question naming an ambiguous title has no single gold product
        pid = str(row.get("id", row.get("product_id", "")))
        for kind, templates in FIELD_TEMPLATES.items():
            value = row.get(_SOURCE_FIELD[kind])
            if value is None or value == "":
                continue
            chosen = rng.sample(range(len(templates)), k=min(phrasings, len(templates)))
            for n in sorted(chosen):
                questions.append(
                    Question(
                        qid=f"field-{pid}-{kind}-{n}",
                        question=templates[n].format(t=title),
                        qtype=kind,
                        product_id=pid,
                        relevant_ids=(pid,),
                        gold_values=(_format_value(kind, value),),
                    )
                )
        record_text = json.dumps(row).lower()
        lacking = [
            name
            for name, (_, guards) in MISSING_ATTRIBUTES.items()
            if not any(re.search(rf"\b{word}", record_text) for word in guards)
        ]
        for name in rng.sample(lacking, k=min(missing_per_product, len(lacking))):
            templates = MISSING_ATTRIBUTES[name][0]
            n = rng.randrange(len(templates))
            questions.append(
                Question(
                    qid=f"field-{pid}-missing-{name.replace(' ', '_')}-{n}",
                    question=templates[n].format(t=title),
                    qtype="missing_attribute",
                    answerable=False,
                    product_id=pid,
                    relevant_ids=(pid,),
                )
            )
    catalog_text = " ".join(str(row.get("title", "")) for row in rows).lower()
    brands = [b for b in _FAKE_BRANDS if b.lower() not in catalog_text]
    for i in range(unknown_products):
        name = f"{rng.choice(brands)} {rng.choice(_FAKE_NOUNS)} {rng.randint(2, 9)}00"
        questions.append(
            Question(
                qid=f"field-unknown-{i}",
                question=rng.choice(_FAKE_QUESTIONS).format(t=name),
                qtype="unknown_product",
                answerable=False,
            )
        )
    return questions


def _title_key(row: dict[str, Any]) -> str:
    """Titles that differ only in punctuation or case ("Off White & Red", "Off White Red")."""
    return " ".join(re.findall(r"[a-z0-9]+", str(row.get("title", "")).lower()))


def _read_catalog(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from None
    if path.suffix == ".jsonl":
        return [
            parse_line(path, i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip()
        ]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    if not isinstance(data, list):
        raise DatasetError(f"{path}:1: expected a list of products")
    return [row for row in data if isinstance(row, dict)]
