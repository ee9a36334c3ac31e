"""Loaders turn files into products: rows (JSON, JSONL, CSV) and documents (MD, HTML, TXT, PDF).

:func:`discover` expands folders into supported files; :func:`load_path` picks the loader by
extension. A file that cannot be read at all is a :class:`LoaderError`; bad rows inside a
readable file are reported in ``LoadResult.errors`` and the good rows still load.
"""

from __future__ import annotations

from collections.abc import Set
from pathlib import Path

from ingestion.loaders.base import (
    DocumentText,
    LoadedProduct,
    LoaderError,
    LoadError,
    LoadResult,
)
from ingestion.loaders.documents import DOCUMENT_SUFFIXES, load_document
from ingestion.loaders.rows import ROW_SUFFIXES, FieldMapping, load_rows

SUPPORTED_SUFFIXES = ROW_SUFFIXES | DOCUMENT_SUFFIXES

__all__ = [
    "SUPPORTED_SUFFIXES",
    "DocumentText",
    "FieldMapping",
    "LoadError",
    "LoadResult",
    "LoadedProduct",
    "LoaderError",
    "discover",
    "load_path",
]


def discover(paths: list[Path]) -> tuple[list[Path], list[LoadError]]:
    """Files to load (folders walked for supported files, hidden ones skipped), and errors for
    paths that do not exist or are of an unsupported kind."""
    files: list[Path] = []
    errors: list[LoadError] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                child
                for child in path.rglob("*")
                if child.is_file()
                and child.suffix.lower() in SUPPORTED_SUFFIXES
                and not any(part.startswith(".") for part in child.relative_to(path).parts)
            )
            if not found:
                errors.append(LoadError(str(path), None, "folder holds no supported files"))
            files.extend(found)
        elif not path.exists():
            errors.append(LoadError(str(path), None, "no such file or folder"))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
            errors.append(
                LoadError(str(path), None, f"unsupported file type (supported: {supported})")
            )
        else:
            files.append(path)
    unique = list(dict.fromkeys(file.resolve() for file in files))
    return unique, errors


def load_path(
    path: Path, mapping: FieldMapping | None = None, known_rows: Set[str] | None = None
) -> LoadResult:
    """Load one supported file; raise :class:`LoaderError` when it cannot be read at all.
    ``known_rows``: see :func:`ingestion.loaders.rows.load_rows`."""
    suffix = path.suffix.lower()
    if suffix in ROW_SUFFIXES:
        return load_rows(path, mapping, known_rows=known_rows)
    if suffix in DOCUMENT_SUFFIXES:
        return load_document(path)
    raise LoaderError(f"unsupported file type {suffix or '(none)'}: {path}")


def is_document(path: Path) -> bool:
    return path.suffix.lower() in DOCUMENT_SUFFIXES
