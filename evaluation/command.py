"""``aisle eval``: pick the questions, find (or start) the API, ask, score, report, compare."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aisle.settings import Settings
from evaluation import report
from evaluation.datasets import DEFAULT_SEED, Dataset, DatasetError, load_dataset, subset
from evaluation.local_llm import LLM_SERVERS, LocalModelError
from evaluation.private_api import EvalError, private_api, private_llm_server
from evaluation.runner import ApiUnavailableError, EvalClient, Judge, run_questions
from evaluation.summary import print_comparison, print_summary

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2

__all__ = [
    "EXIT_OK",
    "EXIT_REGRESSION",
    "EXIT_USAGE",
    "EvalError",
    "run_eval",
]


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
            private_llm_server(llm_server, console) as llm_env,
            private_api(settings, api_url, catalog or data.catalog, console, llm_env) as url,
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
    print_summary(console, metrics_data)
    console.print(f"Report: {files[0]}", markup=False, highlight=False)
    if comparison is None or baseline is None:
        return EXIT_OK
    print_comparison(console, comparison)
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


def _unique_dir(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate
