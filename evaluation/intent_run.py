"""Ask intent questions through the HTTP API and score each one (a black-box client).

A question is right when the answer states every gold value, cites every gold product, cites
nothing that breaks the question's constraints, names the winner of a comparison, lists the
gold product first for a superlative, and refuses exactly when it should. Numbers are read in
the catalog's own locale (from ``GET /v1/facets``), so "₹1,50,000.00" is 150000.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from evaluation.intents import IntentQuestion
from evaluation.metrics import parse_citations, strip_citations

_NUMBER = re.compile(r"\d[\d.,\u00a0\u202f]*\d|\d")
_WORDS = re.compile(r"[a-z0-9]+")

Post = Callable[[str, dict[str, Any]], tuple[dict[str, Any] | None, float, str | None]]
# (done event's data or None, wall-clock ms, ms to the first token event or None, error)
Stream = Callable[[dict[str, Any]], tuple[dict[str, Any] | None, float, float | None, str | None]]
_REPLACED = ("fact check", "repeated its instructions", "lacks the answer although")
Record = Callable[[str], dict[str, Any] | None]


@dataclass
class IntentResult:
    question: IntentQuestion
    answer: str
    cited: list[str]
    refused: bool
    intent: str | None
    correct: bool
    why: str
    latency_ms: float
    first_token_ms: float | None = None
    reason: str | None = None

    @property
    def replaced(self) -> bool:
        """The guard replaced a model's answer by the deterministic one."""
        return any(marker in (self.reason or "") for marker in _REPLACED)

    def to_dict(self) -> dict[str, Any]:
        return {
            "qid": self.question.qid,
            "intent": self.question.intent,
            "question": self.question.question,
            "answer": self.answer,
            "cited": self.cited,
            "refused": self.refused,
            "planned_intent": self.intent,
            "correct": self.correct,
            "why": self.why,
            "latency_ms": round(self.latency_ms, 1),
            "first_token_ms": None
            if self.first_token_ms is None
            else round(self.first_token_ms, 1),
            "reason": self.reason,
            "guard_replaced": self.replaced,
        }


def run(
    questions: Sequence[IntentQuestion],
    post: Post,
    record: Record,
    locale: str,
    backend: str,
    stream: Stream | None = None,
) -> list[IntentResult]:
    """``stream``, when given, asks each question as server-sent events (time to first token
    measured); else as one JSON call."""
    results = []
    for question in questions:
        history = list(question.history)
        gold_values = list(question.gold_values)
        gold_ids = list(question.gold_ids)
        if question.follow_up:
            first, _, error = post(
                "/v1/chat", {"message": history[0]["content"], "backend": backend}
            )
            if first is None:
                results.append(_failed(question, f"first turn failed: {error}"))
                continue
            history.append({"role": "assistant", "content": first["answer"]})
            listed = parse_citations(first["answer"])
            if len(listed) < 2:
                results.append(_failed(question, "the first answer listed fewer than two products"))
                continue
            target = record(listed[1]) or {}
            gold_ids = [listed[1]]
            if target.get("price") is not None:
                gold_values = [repr(float(target["price"]))]
        body = {"message": question.question, "history": history, "backend": backend}
        first_token: float | None = None
        if stream is not None:
            data, latency, first_token, error = stream(body)
        else:
            data, latency, error = post("/v1/chat", body)
        if data is None:
            results.append(_failed(question, error or "no answer", latency))
            continue
        answer = str(data.get("answer", ""))
        cited = parse_citations(answer)
        refused = bool(data.get("refused"))
        plan = data.get("plan") or {}
        why = _verdict(question, answer, cited, refused, gold_ids, gold_values, record, locale)
        results.append(
            IntentResult(
                question,
                answer,
                cited,
                refused,
                plan.get("intent"),
                not why,
                why,
                latency,
                first_token,
                data.get("reason"),
            )
        )
    return results


def summarise(results: Sequence[IntentResult]) -> dict[str, dict[str, Any]]:
    """Per intent (and "all"): questions, accuracy, p50/p95 latency, first token p50, guard
    replacements."""
    by_intent: dict[str, list[IntentResult]] = defaultdict(list)
    for result in results:
        by_intent[result.question.intent].append(result)
    summary: dict[str, dict[str, Any]] = {}
    for intent, rows in [*sorted(by_intent.items()), ("all", list(results))]:
        if not rows:
            continue
        latencies = sorted(row.latency_ms for row in rows)
        firsts = sorted(row.first_token_ms for row in rows if row.first_token_ms is not None)
        summary[intent] = {
            "questions": len(rows),
            "accuracy": round(sum(row.correct for row in rows) / len(rows), 4),
            "p50_ms": round(latencies[len(latencies) // 2], 1),
            "p95_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))], 1),
            "first_token_p50_ms": round(firsts[len(firsts) // 2], 1) if firsts else None,
            "guard_replaced": sum(row.replaced for row in rows),
        }
    return summary


# -- one verdict -------------------------------------------------------------------------------
def _verdict(
    question: IntentQuestion,
    answer: str,
    cited: list[str],
    refused: bool,
    gold_ids: list[str],
    gold_values: list[str],
    record: Record,
    locale: str,
) -> str:
    """Empty when right; else why not."""
    if question.must_refuse and not refused:
        return "should have refused"
    if question.no_products and cited:
        return "cited products in a dialogue answer"
    if question.must_refuse or question.no_products:
        return "" if refused == question.must_refuse else "refused a dialogue message"
    if refused:
        return "refused an answerable question"
    missing = [pid for pid in gold_ids if pid not in cited]
    if missing:
        return f"did not cite {missing}"
    for value in gold_values:
        if not states(answer, value, locale):
            return f"does not state {value!r}"
    first = question.first_id
    ranked = question.intent in ("superlative", "ordered")
    if first is not None and ranked and cited[:1] != [first]:
        return f"first product is {cited[:1]}, not [{first}]"
    compared = first is not None and question.intent == "compare"
    if compared and first is not None and not _names_winner(answer, first, record):
        return f"does not name [{first}] as the cheaper one"
    for pid in cited:
        broken = _breaks(record(pid), question.constraints)
        if broken:
            return f"cites [{pid}], which {broken}"
    if question.constraints and not cited and question.intent == "search":
        return "listed nothing"
    return ""


def states(answer: str, gold: str, locale: str) -> bool:
    body = strip_citations(answer)
    gold_number = _number(gold, locale)
    if gold_number is not None and re.fullmatch(r"[\d.,\s]+", gold.strip()):
        return any(abs(value - gold_number) < 0.005 for value in numbers(body, locale))
    return (
        f" {' '.join(_WORDS.findall(gold.lower()))} "
        in f" {' '.join(_WORDS.findall(body.lower()))} "
    )


def numbers(text: str, locale: str) -> list[float]:
    found = []
    for raw in _NUMBER.findall(text):
        value = _number(raw.rstrip(".,"), locale)
        if value is not None:
            found.append(value)
    return found


def _number(text: str, locale: str) -> float | None:
    from babel.numbers import NumberFormatError, parse_decimal

    try:
        return float(parse_decimal(text.strip(), locale=locale, strict=False))
    except (NumberFormatError, ValueError):
        return None


def _names_winner(answer: str, winner: str, record: Record) -> bool:
    """A sentence outside the table leads with the winner: most of its title, then its
    citation before any other."""
    target = record(winner) or {}
    title_words = set(_WORDS.findall(str(target.get("title", "")).lower()))
    for line in answer.splitlines():
        if line.lstrip().startswith("|"):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            ids = parse_citations(sentence)
            if not ids or ids[0] != winner:
                continue
            head = set(_WORDS.findall(sentence.split(f"[{winner}]")[0].lower()))
            if not title_words or len(title_words & head) >= 0.6 * len(title_words):
                return True
    return False


def _breaks(record: dict[str, Any] | None, constraints: dict[str, Any]) -> str:
    if not constraints:
        return ""
    if record is None:
        return "does not exist"
    price = record.get("price")
    ceiling = constraints.get("max_price")
    if ceiling is not None and (price is None or float(price) > ceiling + 1e-9):
        return f"costs {price}, above {ceiling}"
    category = constraints.get("category")
    if category is not None:
        path = [str(part).lower() for part in record.get("category_path") or []]
        if (
            str(record.get("category", "")).lower() != category.lower()
            and category.lower() not in path
        ):
            return f"is in {record.get('category')!r}, not {category!r}"
    return ""


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _failed(question: IntentQuestion, why: str, latency: float = 0.0) -> IntentResult:
    return IntentResult(question, "", [], False, None, False, why, latency)
