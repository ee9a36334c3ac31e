"""``aisle eval``: pick the questions, find (or start) the API, ask, score, report, compare."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aisle.processes import free_port, stop_process, wait_ready
from aisle.settings import Settings
from evaluation import report
from evaluation.datasets import DEFAULT_SEED, Dataset, DatasetError, load_dataset, subset
from evaluation.local_llm import LLM_SERVERS, LocalModelError, llm_server_env
from evaluation.runner import ApiUnavailableError, EvalClient, Judge, run_questions

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2
_READY_TIMEOUT_S = 300.0


class EvalError(RuntimeError):
    """The run could not happen (the API did not start, the ingest failed...)."""


def run_eval(
    settings: Settings,
    *,
    dataset: str,
    api_url: str | None,
    backend: str | None,
    limit: int | None,
    out: Path,
    compare: Path | None,
    judge: bool = False,
    catalog: list[Path] | None = None,
    console: Console | None = None,
    llm_server: str | None = None,
) -> int:
    """Run one evaluation; 0 when done (and no regression), 1 on a regression, 2 on bad input.

    ``backend`` may name several backends separated by commas (each question is asked to
    each). ``catalog`` overrides what a self-started API ingests (default: the dataset's own).
    ``llm_server`` ("qwen") hosts a local model for the run as the self-started API's
    ``openai`` backend (evaluation/local_llm.py).
    """
    # Wide enough for the summary tables when the output is a file or a CI log.
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    if dataset.startswith("intents:"):
        from evaluation.intent_command import run_intent_eval

        chosen_backends: list[str | None] = (
            [b.strip() for b in backend.split(",") if b.strip()] if backend else [None]
        )
        return run_intent_eval(
            settings,
            catalog=dataset.split(":", 1)[1],
            api_url=api_url,
            backends=chosen_backends,
            per_intent=limit or 30,
            out=out,
            console=console,
            llm_server=llm_server,
        )
    try:
        data = load_dataset(dataset)
        baseline = report.load_metrics(compare) if compare is not None else None
    except (DatasetError, ValueError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    if limit is not None and limit < 1:
        _error("--limit must be at least 1")
        return EXIT_USAGE
    if llm_server and api_url:
        _error("--llm-server configures a self-started API: leave out --api-url")
        return EXIT_USAGE
    if llm_server and llm_server not in LLM_SERVERS:
        _error(f"--llm-server: unknown {llm_server!r}; known: {', '.join(LLM_SERVERS)}")
        return EXIT_USAGE
    questions = subset(data.questions, limit, seed=DEFAULT_SEED)
    chosen = Dataset(data.name, questions, data.catalog)
    backends: list[str | None] = (
        [b.strip() for b in backend.split(",") if b.strip()] if backend else [None]
    )
    judge_fn: Judge | None = None
    if judge:
        try:
            from evaluation.judge import OpenAIJudge

            judge_fn = OpenAIJudge(settings)
        except Exception as exc:  # missing key, bad URL: say which, do not start
            _error(f"cannot set up the LLM judge: {exc}")
            return EXIT_USAGE
    try:
        with (
            _llm_server(llm_server, console) as llm_env,
            _api(settings, api_url, catalog or data.catalog, console, llm_env) as url,
        ):
            results = _ask_all(settings, url, chosen, backends, judge_fn, console)
    except (EvalError, ApiUnavailableError, LocalModelError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    created = datetime.now(UTC)
    meta = {
        "dataset": data.name,
        "created": created.isoformat(timespec="seconds"),
        "api_url": api_url or "self-started",
        "backends": sorted({r.backend for r in results}),
        "limit": limit,
        "questions": len(questions),
        "fingerprint": chosen.fingerprint(),
        "judge": judge,
    }
    metrics_data = report.build_metrics(results, meta)
    comparison = report.compare(metrics_data, baseline) if baseline is not None else None
    run_dir = _unique_dir(out / created.strftime("%Y%m%dT%H%M%SZ"))
    try:
        files = report.write_report(run_dir, results, metrics_data, comparison)
    except OSError as exc:
        _error(f"cannot write the report to {run_dir}: {exc.strerror}")
        return EXIT_USAGE
    _print_summary(console, metrics_data)
    console.print(f"Report: {files[0]}", markup=False, highlight=False)
    if comparison is None or baseline is None:
        return EXIT_OK
    _print_comparison(console, comparison)
    if baseline.get("fingerprint") not in (None, metrics_data["fingerprint"]):
        console.print(
            "[yellow]warning: the baseline was computed on a different question set "
            f"({baseline.get('questions')} questions, limit {baseline.get('limit')})[/yellow]"
        )
    regressed = [row for row in comparison if row["regressed"]]
    if regressed:
        names = ", ".join(f"{r['scope']}:{r['metric']}" for r in regressed)
        console.print(f"[red]REGRESSION beyond tolerance {report.TOLERANCE}: {names}[/red]")
        return EXIT_REGRESSION
    console.print(f"[green]No metric dropped more than {report.TOLERANCE}.[/green]")
    return EXIT_OK


def _error(message: str) -> None:
    # Plain stderr: file:line messages must not be wrapped or styled.
    print(f"aisle eval: {message}", file=sys.stderr)


def _ask_all(
    settings: Settings,
    url: str,
    dataset: Dataset,
    backends: list[str | None],
    judge: Judge | None,
    console: Console,
) -> list:
    api_key = settings.api_keys[0].get_secret_value() if settings.api_keys else None
    total = len(dataset.questions) * len(backends)
    with EvalClient(url, api_key=api_key) as client:
        client.check()
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        ) as progress:
            task = progress.add_task(f"eval {dataset.name}", total=total)
            return run_questions(
                client,
                dataset.questions,
                backends,
                judge=judge,
                on_result=lambda _result: progress.advance(task),
            )


@contextlib.contextmanager
def _llm_server(name: str | None, console: Console) -> Iterator[dict[str, str]]:
    """The environment pointing the API's openai backend at a local model started here."""
    if name is None:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="aisle-eval-llm-") as tmp:
        console.print(f"Starting the local {name} model server…")
        with llm_server_env(name, Path(tmp)) as env:
            yield env


@contextlib.contextmanager
def _api(
    settings: Settings,
    api_url: str | None,
    catalog: list[Path],
    console: Console,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """The given API URL, or a private API: the catalog ingested into a temporary data dir and
    ``aisle serve`` on a free loopback port, stopped on the way out."""
    if api_url:
        yield api_url
        return
    with tempfile.TemporaryDirectory(prefix="aisle-eval-") as tmp:
        env = {**_child_env(settings, Path(tmp) / "data"), **(extra_env or {})}
        log_path = Path(tmp) / "serve.log"
        console.print(f"Ingesting {', '.join(str(p) for p in catalog)} into a temporary store…")
        ingest = subprocess.run(
            [sys.executable, "-m", "aisle.cli", "ingest", *map(str, catalog)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if ingest.returncode == 2 and "error" in ingest.stdout:
            # Exit 2 with a summary: some rows were rejected (named there), the rest ingested.
            console.print("The ingest rejected some rows (see aisle ingest); evaluating the rest.")
        elif ingest.returncode != 0:
            output = _tail(ingest.stderr or ingest.stdout)
            raise EvalError(f"aisle ingest failed ({ingest.returncode}): {output}")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "aisle.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                console.print(f"Starting the API on {url}…")
                wait_ready(
                    server,
                    f"{url}/readyz",
                    timeout=_READY_TIMEOUT_S,
                    name="aisle serve",
                    log_path=log_path,
                    tail_lines=15,
                    error=EvalError,
                )
                yield url
            finally:
                stop_process(server)


def _child_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    """The environment of the private ingest/serve: this run's settings, a fresh embedded store."""
    env = dict(os.environ)
    env.update(
        {
            "AISLE_DATA_DIR": str(data_dir),
            "AISLE_CHROMA_URL": "",
            "AISLE_COLLECTION": settings.collection,
            "AISLE_LLM__BACKEND": settings.llm.backend,
            "AISLE_API__RATE_LIMIT_PER_MINUTE": "0",
            "HF_HUB_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
    )
    return env


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _unique_dir(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _print_summary(console: Console, data: dict) -> None:
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


def _print_comparison(console: Console, rows: list[dict]) -> None:
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
