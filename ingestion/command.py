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
from catalog.profile import CatalogProfile
from catalog.store import ProductStore, StoreError
from ingestion.loaders import FieldMapping, LoaderError
from ingestion.profile_view import profile_json, profile_lines

_STAGES = {
    "loading": "Loading files",
    "diffing": "Comparing changed products",
    "writing": "Embedding and writing",
    "publishing": "Publishing the new generation",
}
_UNITS = {"loading": "files", "diffing": "products", "writing": "chunks", "publishing": "steps"}


def run_ingest(
    settings: Settings,
    paths: list[Path],
    *,
    delete_missing: bool = True,
    changed_only: bool = False,
    mapping: Path | None = None,
    as_json: bool = False,
) -> int:
    """Ingest ``paths`` under the collection's ingest lock (the one API jobs take too); exit
    code 2 when any file or row failed or another ingest holds the lock, else 0."""
    from catalog.embeddings import build_embeddings
    from catalog.lease import IngestLock, LockHeld
    from ingestion.pipeline import ingest_files

    out = Console(soft_wrap=True)
    err = Console(stderr=True)
    try:
        field_mapping = FieldMapping.load(mapping) if mapping is not None else None
        store = _open_store(settings)
        embeddings = build_embeddings(settings.embedding, settings.data_dir)
        lock = IngestLock(
            store.meta,
            ttl_s=settings.ingest.lease_s,
            lock_file=settings.ingest_lock_file,
            kind="aisle ingest",
        )
        lock.acquire()
        with lock, _ProgressReporter(err) as progress:
            summary = ingest_files(
                list(paths),
                store=store,
                embeddings=embeddings,
                delete_missing=delete_missing,
                changed_only=changed_only,
                mapping=field_mapping,
                progress=progress,
                lock=lock,
                embed_slice=settings.ingest.embed_slice,
                catalog=settings.catalog,
            )
    except LockHeld as exc:
        return _fail(exc, as_json, code="ingest_running")
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
        profile = CatalogProfile.load(store.meta)
    except StoreError as exc:
        return _fail(exc, as_json, code="store")
    categories = Counter(str(meta.get("category") or "(none)") for meta in cores)
    by_category = dict(sorted(categories.items(), key=lambda item: (-item[1], item[0])))
    stats: dict[str, Any] = {
        "collection": settings.collection,
        "products": len(cores),
        "chunks": chunks,
        "categories": by_category,
        "profile": profile_json(profile),
    }
    if as_json:
        print(json.dumps(stats, ensure_ascii=False))
        return 0
    table = Table(title=f"Collection {settings.collection}")
    table.add_column("category")
    table.add_column("products", justify="right")
    for name, count in by_category.items():
        table.add_row(name, str(count))
    out = Console()
    out.print(f"products: {stats['products']}  chunks: {stats['chunks']}")
    out.print(table)
    for line in profile_lines(profile):
        out.print(line, highlight=False)
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
