"""The ``aisle`` command: thin wrappers that parse arguments and call the packages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aisle.settings import Settings, SettingsError, load_settings

app = typer.Typer(
    name="aisle",
    help="Aisle: a retrieval-augmented shopping assistant over your product catalog.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        typer.echo(f"aisle: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Catalog files or folders.")],
    collection: Annotated[str | None, typer.Option(help="Chroma collection.")] = None,
    no_delete: Annotated[
        bool, typer.Option("--no-delete", help="Keep products missing from these files.")
    ] = False,
    changed_only: Annotated[
        bool,
        typer.Option("--changed-only", help="A feed of changed products only: nothing is deleted."),
    ] = False,
    mapping: Annotated[
        Path | None, typer.Option(help="JSON field mapping for other row schemas.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load catalog files into the store; only what changed is touched."""
    from ingestion.command import run_ingest

    overrides = {"collection": collection} if collection else {}
    settings = _settings(**overrides)
    raise typer.Exit(
        run_ingest(
            settings,
            paths,
            delete_missing=not no_delete,
            changed_only=changed_only,
            mapping=mapping,
            as_json=as_json,
        )
    )


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Products, chunks and counts by category in the store."""
    from ingestion.command import run_stats

    raise typer.Exit(run_stats(_settings(), as_json=as_json))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the REST API."""
    from service.server import run_server

    run_server(_settings(), host=host, port=port)


@app.command()
def ui(
    api_url: Annotated[str, typer.Option(help="Aisle API base URL.")] = "http://127.0.0.1:8000",
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 7860,
) -> None:
    """Run the shopper chat UI (a client of the REST API)."""
    from ui.app import launch

    launch(api_url=api_url, host=host, port=port)


@app.command("eval")
def evaluate(
    dataset: Annotated[str, typer.Option(help="field, epqa, or a JSONL path.")] = "field",
    api_url: Annotated[
        str | None, typer.Option(help="A running API; without it one is started.")
    ] = None,
    backend: Annotated[str | None, typer.Option(help="Answering backend to ask.")] = None,
    limit: Annotated[int | None, typer.Option(help="Ask at most this many questions.")] = None,
    out: Annotated[Path, typer.Option(help="Where results/<timestamp>/ goes.")] = Path("results"),
    compare: Annotated[
        Path | None, typer.Option(help="A previous run (or baseline) to gate against.")
    ] = None,
    judge: Annotated[
        bool, typer.Option(help="Also score faithfulness with the configured OpenAI LLM.")
    ] = False,
    llm_server: Annotated[
        str | None,
        typer.Option(help="Host a local model (qwen) as the self-started API's openai backend."),
    ] = None,
) -> None:
    """Score retrieval, grounding, correctness, refusals and latency against the API."""
    from evaluation.command import run_eval

    raise typer.Exit(
        run_eval(
            _settings(),
            dataset=dataset,
            api_url=api_url,
            backend=backend,
            limit=limit,
            out=out,
            compare=compare,
            judge=judge,
            llm_server=llm_server,
        )
    )


@app.command("train-scorer")
def train_scorer(
    data: Annotated[Path, typer.Option(help="The PQA training files.")] = Path("data/pqa_train"),
    out: Annotated[Path, typer.Option(help="Where the JSON artefact goes.")] = Path(
        "catalog/evidence/scorer-v1.json"
    ),
    cache: Annotated[
        Path | None, typer.Option(help="An .npz keeping the MiniLM vectors between runs.")
    ] = None,
) -> None:
    """Train the evidence scorer on the PQA labels; print its held-out metrics."""
    from catalog.evidence.command import run_train

    raise typer.Exit(run_train(_settings(), data=data, out=out, cache=cache))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
