"""What executing a plan found: record fields and passages, each tied to its product."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catalog.models import ProductHit

if TYPE_CHECKING:  # the plan module reads records, which build these facts
    from service.answering.plan import RequestPlan


# The facts a listed product shows (and prompts and answers print on its line).
LISTED_KEYS = ("price", "brand", "rating")


@dataclass(frozen=True)
class FieldFact:
    """One record value of one product: the answer to "what is its <label>?"."""

    product_id: str
    key: str
    label: str
    value: Any
    text: str  # the value as Aisle prints it (prices in the catalog's currency)


@dataclass(frozen=True)
class PassageFact:
    """A passage of one product's text that may answer an open question, with its score."""

    product_id: str
    text: str
    kind: str
    score: float


@dataclass
class ProductFacts:
    product_id: str
    title: str
    metadata: dict[str, Any]
    fields: list[FieldFact] = field(default_factory=list)
    passages: list[PassageFact] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # labels asked for that the record lacks
    answered: bool = False  # its best passage passes the evidence gate (an open question)

    def field(self, key: str) -> FieldFact | None:
        return next((fact for fact in self.fields if fact.key == key), None)


@dataclass
class Execution:
    """The plan's results: the products to answer from, in order, and how they were found."""

    plan: RequestPlan
    products: list[ProductFacts] = field(default_factory=list)
    hits: list[ProductHit] = field(default_factory=list)  # search results / the LLM's context
    relaxed: list[str] | None = None  # constraints dropped because nothing met them
    unmatched: list[str] = field(default_factory=list)  # words of a need no product holds
    made_for: list[str] = field(default_factory=list)  # what is sold only things made for
    matched: int | None = None  # products of the whole catalog that met the constraints
    features: list[str] = field(default_factory=list)  # "with" words their texts all hold
    # "phones with wireless charging" where no phone's text says it: ("phones", the feature).
    lacking: tuple[str, str] | None = None
    # Of those, how many a list ordered by an attribute left out: (no value, other units).
    unordered: tuple[int, int] = (0, 0)
    answerable: bool = True  # the evidence gate's verdict on an open question
    evidence_score: float | None = None
    missing_attributes: list[str] = field(default_factory=list)  # asked, no such field
    examples: list[str] = field(default_factory=list)  # help: questions from this catalog
    winner: str | None = None  # compare: the product that wins on ``plan.compare_on``
    absent: list[str] = field(default_factory=list)  # compare: models named, none sold
