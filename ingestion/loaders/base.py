"""What every loader returns: products with their line, and row errors with file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from catalog.models import Product

if TYPE_CHECKING:
    from ingestion.fields import RowSchema


class LoaderError(ValueError):
    """A whole file cannot be read (missing, unreadable, unsupported, malformed mapping)."""


@dataclass(frozen=True)
class LoadError:
    """One problem, reported to the operator as ``file:line: reason``."""

    file: str
    line: int | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "reason": self.reason}

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class DocumentText:
    """Free text about a product from a document (manual, page, PDF), chunked as ``document``."""

    source: str
    text: str


@dataclass
class LoadedProduct:
    """A product as loaded, with where it came from and what must not be embedded."""

    product: Product
    line: int | None = None
    documents: list[DocumentText] = field(default_factory=list)
    # Attribute names kept in the record but never embedded (volatile or noise).
    text_exclude: frozenset[str] = frozenset()
    # What each source field of the product's file is for (None: rebuilt from the store).
    schema: RowSchema | None = None


@dataclass
class LoadResult:
    """Everything one file gave. ``complete`` is False when part of the file could not be read:
    the pipeline then deletes nothing on this file's behalf."""

    source: str
    products: list[LoadedProduct] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    complete: bool = True
