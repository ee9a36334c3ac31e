"""``aisle ingest`` and ``aisle stats``: progress on stderr, a summary (table or JSON) on stdout."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from aisle.settings import Settings
from catalog.store import ProductStore, StoreError
from ingestion.loaders import FieldMapping, LoaderError

_STAGES = {"loading": "Loading files", "writing": "Embedding and writing", "indexing": "Indexing"}
_UNITS = {"loading": "files", "writing": "chunks", "indexing": "steps"}


def run_ingest(
    settings: Settings,
    paths: list[Path],
    *,
    delete_missing: bool = True,
    mapping: Path | None = None,
    as_json: bool = False,
) -> int:
    """Ingest ``paths``; exit code 2 when any file or row failed, else 0."""
    from catalog.embeddings import LocalEmbeddings
    from ingestion.pipeline import ingest_files

    out = Console(soft_wrap=True)
    err = Console(stderr=True)
    try:
        field_mapping = FieldMapping.load(mapping) if mapping is not None else None
        store = _open_store(settings)
        embeddings = LocalEmbeddings(batch_size=settings.embedding.batch_size)
        with _ProgressReporter(err) as progress:
            summary = ingest_files(
                list(paths),
                store=store,
                embeddings=embeddings,
                keyword_dir=settings.keyword_dir,
                delete_missing=delete_missing,
                mapping=field_mapping,
                progress=progress,
            )
    except (LoaderError, StoreError) as exc:
        return _fail(exc, as_json, code="mapping" if isinstance(exc, LoaderError) else "store")
    result = summary.to_dict()
    if as_json:
        print(json.dumps(result))
    else:
        out.print(_summary_table(result))
        for error in summary.errors:
            out.print(f"[red]error[/red] {error}", highlight=False, markup=True)
    return 2 if summary.failed else 0


def run_stats(settings: Settings, *, as_json: bool = False) -> int:
    """Products, chunks and products per category in the configured collection."""
    try:
        store = _open_store(settings)
        cores = store.core_metadatas()
        chunks = store.count()
    except StoreError as exc:
        return _fail(exc, as_json, code="store")
    categories = Counter(str(meta.get("category") or "(none)") for meta in cores)
    by_category = dict(sorted(categories.items(), key=lambda item: (-item[1], item[0])))
    stats: dict[str, Any] = {
        "collection": settings.collection,
        "products": len(cores),
        "chunks": chunks,
        "categories": by_category,
    }
    if as_json:
        print(json.dumps(stats))
        return 0
    table = Table(title=f"Collection {settings.collection}")
    table.add_column("category")
    table.add_column("products", justify="right")
    for name, count in by_category.items():
        table.add_row(name, str(count))
    out = Console()
    out.print(f"products: {stats['products']}  chunks: {stats['chunks']}")
    out.print(table)
    return 0


def _open_store(settings: Settings) -> ProductStore:
    return ProductStore.open(
        chroma_url=settings.chroma_url, data_dir=settings.data_dir, collection=settings.collection
    )


def _fail(exc: Exception, as_json: bool, *, code: str) -> int:
    if as_json:
        print(json.dumps({"error": {"code": code, "message": str(exc)}}))
    print(f"aisle: {exc}", file=sys.stderr)
    return 2


def _summary_table(result: dict[str, Any]) -> Table:
    table = Table(title="Ingest summary")
    table.add_column("products")
    table.add_column("count", justify="right")
    for key in ("added", "updated", "metadata_only", "unchanged", "deleted", "failed"):
        table.add_row(key, str(result[key]))
    table.add_section()
    table.add_row("chunks_embedded", str(result["chunks_embedded"]))
    return table


class _ProgressReporter:
    """A Rich progress bar on a terminal; plain ``ingest: stage done/total`` lines otherwise
    (logs and pipes keep a readable trace of how far an ingest got)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = console.is_terminal
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _ProgressReporter:
        if self._live:
            self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live:
            self._progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self._live:
            unit = _UNITS.get(stage, "")
            print(f"ingest: {stage} {done}/{total} {unit}".rstrip(), file=sys.stderr, flush=True)
            return
        task = self._tasks.get(stage)
        if task is None:
            task = self._progress.add_task(_STAGES.get(stage, stage), total=total)
            self._tasks[stage] = task
        self._progress.update(task, completed=done, total=total)
