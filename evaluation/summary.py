"""The tables ``aisle eval`` prints at the end of a run: headline metrics, per question type,
per retriever, and the comparison with a baseline."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from evaluation import report


def print_summary(console: Console, data: dict) -> None:
    table = Table(title=f"Aisle eval: {data['dataset']} ({data['questions']} questions)")
    table.add_column("metric")
    scopes = {"all": data["overall"]}
    if len(data["by_backend"]) > 1:
        scopes.update(data["by_backend"])
    for scope in scopes:
        table.add_column(scope, justify="right")
    for name in report.HEADLINE:
        if any(name in row for row in scopes.values()):
            table.add_row(name, *(report.fmt(row.get(name), name) for row in scopes.values()))
    console.print(table)
    types = Table(title="Per question type")
    columns = [
        "n",
        "recall@5",
        "exact_and_cited",
        "evidence_recall@5",
        "token_f1",
        "refusal_recall",
        "false_refusal_rate",
    ]
    present = [c for c in columns if any(c in row for row in data["by_type"].values())]
    types.add_column("type")
    for column in present:
        types.add_column(column, justify="right")
    for qtype, row in data["by_type"].items():
        types.add_row(qtype, *(report.fmt(row.get(c), c) for c in present))
    console.print(types)
    retrievers = report.retriever_table(data["overall"])
    if retrievers:
        table = Table(title="Retrieval per retriever (products)")
        table.add_column("retriever")
        for name in report.RETRIEVER_METRICS:
            table.add_column(name, justify="right")
        for view, row in retrievers.items():
            table.add_row(view, *(report.fmt(row[name], name) for name in report.RETRIEVER_METRICS))
        console.print(table)


def print_comparison(console: Console, rows: list[dict]) -> None:
    table = Table(title="Compared with the baseline")
    for column in ("scope", "metric", "baseline", "current", "delta", ""):
        table.add_column(
            column, justify="right" if column in ("baseline", "current", "delta") else "left"
        )
    for row in rows:
        name = row["metric"]
        table.add_row(
            row["scope"],
            name,
            report.fmt(row["baseline"], name),
            report.fmt(row["current"], name),
            f"{row['delta']:+.3f}",
            "[red]REGRESSED[/red]" if row["regressed"] else "",
        )
    console.print(table)
