"""The facts-first prompt: the plan and the facts its execution found, plus few-shot examples.

The model never sees loose top-k chunks: it gets, per product of the plan, the record fields
that answer the question (prices already in the catalog's currency), the passages the
evidence scorer ranked for an open question, what the record lacks, and for a comparison the
deterministic winner. Catalog text is data: it goes inside ``<facts>`` with its angle brackets
replaced, so product text cannot close the block or open a new one. Templates live in
``prompts/`` (system rules, the user message, the few-shot turns).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from catalog.models import ProductHit
from service.answering.catalog_view import CatalogView
from service.answering.facts import LISTED_KEYS, Execution, ProductFacts
from service.answering.scales import first_words, split_order
from service.answering.types import Turn
from service.answering.wording import listing_line

_PLACEHOLDER = re.compile(r"\{(facts|question)\}")
_PASSAGE_CHARS = 400
_PASSAGES = 3
_HISTORY_TURNS = 4
_HISTORY_CHARS = 400
_DIRECTION = {False: "lower wins", True: "higher wins"}


@lru_cache(maxsize=8)
def load_template(name: str) -> str:
    return (resources.files("service.answering") / "prompts" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def few_shot() -> tuple[tuple[str, str], ...]:
    """(user, assistant) example turns from ``prompts/fewshot.txt``."""
    lines = [line for line in load_template("fewshot.txt").splitlines() if not line.startswith("#")]
    pairs = []
    for block in "\n".join(lines).split("\n---\n"):
        user, _, assistant = block.partition("ASSISTANT:")
        pairs.append((user.replace("USER:", "", 1).strip(), assistant.strip()))
    return tuple(pairs)


def as_data(text: str) -> str:
    """Product text cannot open or close tags inside the prompt."""
    return text.replace("<", "\u2039").replace(">", "\u203a")


def format_facts(execution: Execution, view: CatalogView) -> str:
    plan = execution.plan
    lines = [f"intent: {plan.intent}"]
    if plan.attributes:
        lines.append("asked: " + ", ".join(item.label for item in plan.attributes))
    scale = plan.scale
    if plan.compare_on:
        key, descending = split_order(plan.compare_on)
        label = scale.label if scale is not None and scale.key == key else key.capitalize()
        lines.append(f"compared on: {label} ({_DIRECTION[descending]})")
    if scale is not None and scale.label and plan.sort == scale.order:
        lines.append(f"sorted by: {scale.label} ({scale.forms[1]} first)")
    if scale is not None and scale.key is None:
        lines.append(f'not ordered: the catalog records nothing to rank "{scale.word}" by')
    filters = plan.filters.model_dump(exclude_none=True)
    if filters:
        lines.append("filters: " + ", ".join(f"{name} {value}" for name, value in filters.items()))
    if plan.foreign_currency:
        lines.append(f"not applied: a price in {plan.foreign_currency} (prices are not converted)")
    if execution.relaxed:
        lines.append("nothing met: " + ", ".join(execution.relaxed) + " (closest matches below)")
    if execution.made_for:
        lines.append("sold only as things made for: " + " ".join(execution.made_for))
    if execution.absent:
        lines.append("not in the catalog: " + ", ".join(execution.absent) + " (say so)")
    if execution.features:
        lines.append("the listed products' texts mention: " + ", ".join(execution.features))
    if execution.lacking:
        thing, feature = execution.lacking
        lines.append(f"no {thing} mentions: {feature} (closest below)")
    if execution.unmatched:
        lines.append("no product mentions: " + ", ".join(execution.unmatched) + " (closest below)")
    if plan.intent in ("search", "recommend"):
        lines += [_listing(hit, view, execution) for hit in execution.hits]
        first = first_words(plan.sort, scale) if plan.sort and execution.hits else None
        if first:  # as "winner:" does for a comparison: the small model need not sort
            lines.append(f"first: [{execution.hits[0].product_id}] (the {first})")
        if not execution.hits:
            lines.append("(no product of the catalog matches)")
    else:
        for product in execution.products:
            lines += _product(product, execution)
    if execution.winner:
        lines.append(f"winner: [{execution.winner}]")
    return as_data("\n".join(lines))


def _product(product: ProductFacts, execution: Execution) -> list[str]:
    lines = [f"[{product.product_id}] {product.title}"]
    lines += [f"- {fact.label}: {fact.text}" for fact in product.fields]
    if execution.answerable:
        lines += [
            f"- passage: {passage.text[:_PASSAGE_CHARS]}"
            for passage in product.passages[:_PASSAGES]
        ]
    if product.missing:
        lines.append("- missing: " + ", ".join(product.missing))
    elif product.passages and not execution.answerable and not product.fields:
        lines.append("- missing: the answer to this question")
    return lines


def _listing(hit: ProductHit, view: CatalogView, execution: Execution) -> str:
    """A listed product; with the value of the attribute the list is ordered by."""
    facts = next((p for p in execution.products if p.product_id == hit.product_id), None)
    shown = (
        [f"{f.label}: {f.text}" for f in facts.fields if f.key not in LISTED_KEYS] if facts else []
    )
    extra = f"; {'; '.join(shown)}" if shown else ""
    return f"[{hit.product_id}] {listing_line(hit, view)}{extra}"


def build_messages(
    execution: Execution, history: list[Turn], view: CatalogView
) -> list[BaseMessage]:
    """System rules, the few-shot turns, the last few real turns, then the facts + question."""
    messages: list[BaseMessage] = [SystemMessage(load_template("system.txt"))]
    for user, assistant in few_shot():
        messages += [HumanMessage(user), AIMessage(assistant)]
    for turn in history[-_HISTORY_TURNS:]:
        content = turn.content[:_HISTORY_CHARS]
        messages.append(HumanMessage(content) if turn.role == "user" else AIMessage(content))
    values = {
        "facts": format_facts(execution, view),
        "question": as_data(execution.plan.message),
    }
    # One pass, so that text inside a value is never taken for a placeholder.
    user = _PLACEHOLDER.sub(lambda match: values[match.group(1)], load_template("user.txt"))
    messages.append(HumanMessage(user))
    return messages


def _shingles(text: str, size: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def echoes_instructions(answer: str) -> bool:
    """True when the answer repeats the system prompt (a model that obeyed injected text)."""
    return len(_shingles(answer) & _shingles(load_template("system.txt"))) >= 2
