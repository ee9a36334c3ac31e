"""Evaluation questions: generated from a catalog (``field``), the ePQA sample (``epqa``), or a
user JSONL file.

User JSONL schema (one JSON object per line; blank lines and lines starting with ``#`` are
skipped)::

    {"question": "How long is the warranty on the Lenovo Yoga 920?",   # required, non-empty
     "id": "q-17",                    # optional; default "<file stem>-<line>"
     "type": "warranty",              # optional question type for the breakdown; default "user"
     "product_id": "80",              # optional: the product the question is about
     "relevant_ids": ["80"],          # optional: products a search should return;
                                      #   default [product_id] when product_id is given
     "gold_values": ["1 year"],       # optional: short values scored by exact match
     "gold_answers": ["It has a one year warranty."],  # optional: scored by token F1/ROUGE-L
     "grades": {"80": 2, "81": 1},    # optional: graded relevance (product id -> gain) for
                                      #   nDCG; absent ids gain 0
     "answerable": true}              # optional, default true; false = the API should refuse

Any other key is an error. Errors name the file and line (``questions.jsonl:3: ...``).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEMO_CATALOG = DATA_DIR / "catalog" / "products.json"
EPQA_DIR = DATA_DIR / "epqa"
DEFAULT_SEED = 13


class DatasetError(ValueError):
    """A dataset file is unreadable or breaks the schema; the message names file and line."""


@dataclass(frozen=True)
class Evidence:
    text: str
    label: int  # ePQA: 2 fully answers, 1 helps, 0 irrelevant


@dataclass(frozen=True)
class Question:
    qid: str
    question: str  # exactly what is sent to the API
    qtype: str
    answerable: bool = True
    product_id: str | None = None
    relevant_ids: tuple[str, ...] = ()
    gold_values: tuple[str, ...] = ()
    gold_answers: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    grades: tuple[tuple[str, float], ...] = ()  # graded relevance: (product id, gain > 0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Dataset:
    name: str
    questions: list[Question]
    catalog: list[Path] = field(default_factory=list)  # what to ingest for a self-started API

    def fingerprint(self) -> str:
        """Short hash of the question ids, so a comparison can tell it is on the same set."""
        digest = hashlib.sha256("\n".join(q.qid for q in self.questions).encode())
        return digest.hexdigest()[:16]


# --- field: generated from a catalog ---------------------------------------------------------

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
            _parse_line(path, i, line)
            for i, line in enumerate(text.splitlines(), 1)
            if line.strip()
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


def _parse_line(path: Path, lineno: int, line: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(row, dict):
        raise DatasetError(f"{path}:{lineno}: expected a JSON object")
    return row


# --- ePQA ------------------------------------------------------------------------------------


def epqa_questions(directory: Path = EPQA_DIR) -> list[Question]:
    """The ePQA sample: each question asked about its product, with gold answers and labelled
    evidence; questions without a fully answering snippet are the unanswerable set."""
    path = directory / "questions.jsonl"
    questions: list[Question] = []
    for lineno, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        row = _parse_line(path, lineno, line)
        try:
            candidates = tuple(
                Evidence(text=str(c["text"]), label=int(c["label"])) for c in row["candidates"]
            )
            answerable = bool(row["answerable"])
            title = " ".join(str(row["title"]).replace('\\"', '"').split())
            asin = str(row["asin"])
            best = next((c for c in row["candidates"] if int(c["label"]) == 2), None)
            qtype = f"evidence_{best['source']}" if answerable and best else "unanswerable"
            questions.append(
                Question(
                    qid=f"epqa-{row['qid']}",
                    question=f"About the {title}: {str(row['question']).strip()}",
                    qtype=qtype,
                    answerable=answerable,
                    product_id=asin,
                    relevant_ids=(asin,),
                    gold_answers=tuple(str(a) for a in row.get("gold_answers") or ()),
                    evidence=candidates,
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{path}:{lineno}: bad ePQA row: {exc!r}") from None
    return questions


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read: {exc.strerror}") from None


# --- user JSONL ------------------------------------------------------------------------------

_USER_KEYS = {
    "id",
    "question",
    "type",
    "product_id",
    "relevant_ids",
    "gold_values",
    "gold_answers",
    "answerable",
    "grades",
}


def user_questions(path: Path) -> list[Question]:
    """Questions from a user JSONL file (schema in this module's docstring).

    Every broken line is reported, each as ``file:line: reason``.
    """
    questions: list[Question] = []
    errors: list[str] = []
    seen: set[str] = set()
    for lineno, line in enumerate(_read_lines(path), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            question = _user_question(path, lineno, _parse_line(path, lineno, line))
        except DatasetError as exc:
            errors.append(str(exc))
            continue
        if question.qid in seen:
            errors.append(f"{path}:{lineno}: duplicate id {question.qid!r}")
            continue
        seen.add(question.qid)
        questions.append(question)
    if errors:
        raise DatasetError("\n".join(errors))
    if not questions:
        raise DatasetError(f"{path}:1: no questions in file")
    return questions


def _user_question(path: Path, lineno: int, row: dict[str, Any]) -> Question:
    where = f"{path}:{lineno}"
    unknown = sorted(set(row) - _USER_KEYS)
    if unknown:
        raise DatasetError(f"{where}: unknown key(s) {', '.join(unknown)}")
    text = row.get("question")
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"{where}: 'question' must be a non-empty string")
    product_id = row.get("product_id")
    if product_id is not None and not isinstance(product_id, str | int):
        raise DatasetError(f"{where}: 'product_id' must be a string")
    answerable = row.get("answerable", True)
    if not isinstance(answerable, bool):
        raise DatasetError(f"{where}: 'answerable' must be true or false")
    lists = {}
    for key in ("relevant_ids", "gold_values", "gold_answers"):
        value = row.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
            raise DatasetError(f"{where}: '{key}' must be a list of strings")
        lists[key] = tuple(str(v) for v in value)
    qtype = row.get("type", "user")
    if not isinstance(qtype, str) or not qtype:
        raise DatasetError(f"{where}: 'type' must be a non-empty string")
    qid = row.get("id", f"{path.stem}-{lineno}")
    pid = None if product_id is None else str(product_id)
    grades = _grades(where, row.get("grades", {}))
    top = max((gain for _, gain in grades), default=0.0)
    relevant = (
        lists["relevant_ids"] or tuple(i for i, g in grades if g >= top) or ((pid,) if pid else ())
    )
    return Question(
        qid=str(qid),
        question=text.strip(),
        qtype=qtype,
        answerable=answerable,
        product_id=pid,
        relevant_ids=relevant,
        gold_values=lists["gold_values"],
        gold_answers=lists["gold_answers"],
        grades=grades,
    )


def _grades(where: str, value: Any) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict) or not all(
        isinstance(g, int | float) and not isinstance(g, bool) and g >= 0 for g in value.values()
    ):
        raise DatasetError(f"{where}: 'grades' must map product ids to numbers >= 0")
    return tuple((str(pid), float(gain)) for pid, gain in value.items() if gain > 0)


# --- choosing a dataset and a subset ---------------------------------------------------------


def load_dataset(name: str, *, seed: int = DEFAULT_SEED) -> Dataset:
    """``field`` (demo catalog), ``epqa`` (shipped sample) or a path to a user JSONL file
    (whose catalog, for a self-started API, is the demo catalog)."""
    if name == "field":
        return Dataset("field", field_questions(DEMO_CATALOG, seed=seed), [DEMO_CATALOG])
    if name == "epqa":
        return Dataset("epqa", epqa_questions(EPQA_DIR), [EPQA_DIR / "products.jsonl"])
    path = Path(name)
    if not path.is_file():
        raise DatasetError(f"{name}: not 'field', 'epqa' or an existing JSONL file")
    return Dataset(path.stem, user_questions(path), [DEMO_CATALOG])


def subset(
    questions: Sequence[Question], limit: int | None, *, seed: int = DEFAULT_SEED
) -> list[Question]:
    """A deterministic, type-balanced subset: each type's questions in a seeded order, taken
    round-robin across types, so ``--limit 50`` always asks the same 50 and covers every type."""
    if limit is None or limit >= len(questions):
        return list(questions)
    by_type: dict[str, list[Question]] = defaultdict(list)
    for question in questions:
        by_type[question.qtype].append(question)
    rng = random.Random(seed)
    queues = []
    for qtype in sorted(by_type):
        group = sorted(by_type[qtype], key=lambda q: q.qid)
        rng.shuffle(group)
        queues.append(group)
    chosen: list[Question] = []
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_name(name: str) -> str:
    return _SAFE.sub("-", name).strip("-") or "dataset"
