"""``aisle eval --dataset intents:<catalog>``: per-intent accuracy through the HTTP API.

Catalogs: ``demo`` (data/catalog), ``bestbuy`` (data/bestbuy), ``inr`` (data/inr_shop), or a
path to any catalog file. The questions are generated from the catalog (evaluation/intents.py)
plus the hand-written ones in ``evaluation/data/intents-<catalog>.jsonl`` when present.
Writes ``intents.json`` (per intent, per backend), ``intent_results.jsonl`` and
``intents.md`` under ``<out>/<timestamp>/``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from aisle.settings import Settings
from evaluation.intent_run import IntentResult, Stream, run, summarise
from evaluation.intents import generate, load_handwritten
from evaluation.runner import ApiUnavailableError, EvalClient

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = {
    "demo": ROOT / "data" / "catalog" / "products.json",
    "bestbuy": ROOT / "data" / "bestbuy" / "products.json",
    "inr": ROOT / "data" / "inr_shop" / "products.csv",
}
HANDWRITTEN = ROOT / "evaluation" / "data"


def catalog_path(name: str) -> Path:
    return CATALOGS.get(name, Path(name))


def run_intent_eval(
    settings: Settings,
    *,
    catalog: str,
    api_url: str | None,
    backends: list[str | None],
    per_intent: int,
    out: Path,
    console: Console,
    llm_server: str | None = None,
) -> int:
    from evaluation.private_api import EvalError, private_api, private_llm_server
    from ingestion.loaders import LoaderError, load_path

    path = catalog_path(catalog)
    try:
        products = [item.product for item in load_path(path).products]
    except LoaderError as exc:
        console.print(f"[red]error[/red] {exc}")
        return 2
    name = path.stem if catalog not in CATALOGS else catalog
    questions = generate(products, name, per_intent=per_intent)
    written = HANDWRITTEN / f"intents-{name}.jsonl"
    if written.exists():
        questions += load_handwritten(written, products)
    try:
        with (
            private_llm_server(llm_server, console) as llm_env,
            private_api(settings, api_url, [path], console, llm_env) as url,
            EvalClient(url) as client,
        ):
            client.check()
            locale = _locale(url)
            results: dict[str, list[IntentResult]] = {}
            for backend in backends:
                label = backend or client.default_backend()
                console.print(f"Asking {len(questions)} questions ({label})…")
                stream = _streamer(url)
                results[label] = run(questions, client.post, client.record, locale, label, stream)
    except (EvalError, ApiUnavailableError) as exc:
        console.print(f"[red]error[/red] {exc}")
        return 2
    summary = {label: summarise(rows) for label, rows in results.items()}
    run_dir = out / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "intents.json").write_text(
        json.dumps({"catalog": name, "questions": len(questions), "by_backend": summary}, indent=2)
    )
    with (run_dir / "intent_results.jsonl").open("w", encoding="utf-8") as handle:
        for label, rows in results.items():
            for row in rows:
                handle.write(json.dumps({"backend": label, **row.to_dict()}) + "\n")
    (run_dir / "intents.md").write_text(_markdown(name, summary, results), encoding="utf-8")
    _print(console, name, summary)
    console.print(f"Report: {run_dir / 'intents.md'}", markup=False, highlight=False)
    return 0


def _streamer(url: str) -> Stream:
    """Ask as server-sent events: the done event's data, wall ms, ms to the first token."""

    def ask(body: dict[str, Any]) -> tuple[dict[str, Any] | None, float, float | None, str | None]:
        start = time.perf_counter()
        first: float | None = None
        done: dict[str, Any] | None = None
        event = ""
        try:
            with httpx.stream(
                "POST", f"{url}/v1/chat", json={**body, "stream": True}, timeout=600.0
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    return None, _ms(start), None, f"HTTP {response.status_code}: {response.text}"
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:"):
                        if event == "token" and first is None:
                            first = _ms(start)
                        elif event == "done":
                            done = json.loads(line.split(":", 1)[1])
                        elif event == "error":
                            return None, _ms(start), first, line.split(":", 1)[1].strip()
        except httpx.HTTPError as exc:
            return None, _ms(start), first, f"{type(exc).__name__}: {exc}"
        return done, _ms(start), first, None if done else "the stream ended without an answer"

    return ask


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _locale(url: str) -> str:
    """The catalog's number locale, as the API reports it (numbers in answers are read in it)."""
    try:
        facets = httpx.get(f"{url}/v1/facets", timeout=30.0).json()
    except (httpx.HTTPError, ValueError):
        return "en_US"
    return str(facets.get("locale") or "en_US") if isinstance(facets, dict) else "en_US"


def _markdown(
    name: str, summary: dict[str, dict[str, dict[str, Any]]], results: dict[str, list]
) -> str:
    lines = [f"# Intent accuracy: {name}", ""]
    lines.append(
        "| backend | intent | questions | accuracy | p50 ms | p95 ms | first token p50 ms "
        "| guard replaced |"
    )
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, intents in summary.items():
        for intent, row in intents.items():
            first = row["first_token_p50_ms"]
            shown = "" if first is None else f"{first:.0f}"
            lines.append(
                f"| {label} | {intent} | {row['questions']:.0f} | {row['accuracy']:.1%} "
                f"| {row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {shown} "
                f"| {row['guard_replaced']:.0f} |"
            )
    lines += ["", "## First failures", ""]
    for label, rows in results.items():
        for row in [r for r in rows if not r.correct][:25]:
            lines.append(f"- [{label}] {row.question.intent}: {row.question.question!r}: {row.why}")
    return "\n".join(lines) + "\n"


def _print(console: Console, name: str, summary: dict[str, dict[str, dict[str, Any]]]) -> None:
    table = Table(title=f"intents: {name}")
    for column in ("backend", "intent", "questions", "accuracy", "p50 ms"):
        table.add_column(column)
    for label, intents in summary.items():
        for intent, row in intents.items():
            table.add_row(
                label,
                intent,
                f"{row['questions']:.0f}",
                f"{row['accuracy']:.1%}",
                f"{row['p50_ms']:.0f}",
            )
    console.print(table)
