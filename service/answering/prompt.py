"""Turn retrieved products into chat messages, using the template files in ``prompts/``.

Retrieved text is data: it goes inside ``<context>`` tags, with its angle brackets replaced so
that no product text can close the block or open a new one.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from catalog.models import ProductHit
from service.answering.types import RetrievedContext, Turn

# Record fields worth showing the model; long lists (reviews, snippets) come in as chunk text.
_SKIPPED_FIELDS = {
    "product_id",
    "in_stock",
    "attributes",
    "source",
    "reviews",
    "snippets",
    "images",
    "thumbnail",
    "meta",
    "tags",
}
_PLACEHOLDER = re.compile(r"\{(context|question)\}")
_CHUNKS_PER_PRODUCT = 1
_CHUNK_CHARS = 400
_FACT_CHARS = 400
_FACT_KINDS = {"core", "specs"}
_HISTORY_TURNS = 6
_HISTORY_CHARS = 600


@lru_cache(maxsize=4)
def load_template(name: str) -> str:
    return (resources.files("service.answering") / "prompts" / name).read_text(encoding="utf-8")


def as_data(text: str) -> str:
    """Product text cannot open or close tags inside the prompt."""
    return text.replace("<", "\u2039").replace(">", "\u203a")


def _facts(record: dict[str, Any]) -> list[str]:
    facts = []
    fields = {**record, **(record.get("attributes") or {})}
    for key, value in fields.items():
        if key in _SKIPPED_FIELDS or key == "title" or value is None or value == "":
            continue
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
        facts.append(f"{key}: {str(value)[:_FACT_CHARS]}")
    return facts


def _metadata_facts(hit: ProductHit) -> dict[str, Any]:
    return {key: value for key, value in hit.metadata.items() if key != "record"}


def format_context(hits: list[ProductHit]) -> str:
    blocks = []
    for number, hit in enumerate(hits, start=1):
        lines = [f"[{number}] id: {hit.product_id}", f"title: {hit.title}"]
        lines += _facts(hit.record or _metadata_facts(hit))
        # The record's facts already hold what core and specs chunks say: add other text only.
        extra = [chunk for chunk in hit.chunks if chunk.metadata.get("kind") not in _FACT_KINDS]
        for chunk in extra[:_CHUNKS_PER_PRODUCT]:
            lines.append(f"text: {chunk.text[:_CHUNK_CHARS]}")
        blocks.append(as_data("\n".join(lines)))
    return "\n\n".join(blocks) if blocks else "(no products matched)"


def build_messages(ctx: RetrievedContext, history: list[Turn]) -> list[BaseMessage]:
    """System rules, the last few turns, then the question with its context."""
    messages: list[BaseMessage] = [SystemMessage(load_template("system.txt"))]
    for turn in history[-_HISTORY_TURNS:]:
        content = turn.content[:_HISTORY_CHARS]
        messages.append(HumanMessage(content) if turn.role == "user" else AIMessage(content))
    values = {"context": format_context(ctx.hits), "question": as_data(ctx.message)}
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
