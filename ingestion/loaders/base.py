"""What every loader returns: products with their line, and row errors with file and line."""

from __future__ import annotations

from collections.abc import Callable
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


class LoadedProduct:
    """A product as loaded, with where it came from and what must not be embedded.

    A catalog row the store already holds as it is now (same ``row_key``) is not turned into a
    :class:`Product` while loading: ``build`` makes it on first use, which an unchanged row
    never needs. That keeps a re-ingest of a big file where little changed cheap.
    """

    __slots__ = (
        "_build",
        "_product",
        "documents",
        "line",
        "product_id",
        "row_key",
        "schema",
        "source",
        "text_exclude",
    )

    def __init__(
        self,
        product: Product | None = None,
        line: int | None = None,
        documents: list[DocumentText] | None = None,
        text_exclude: frozenset[str] = frozenset(),
        schema: RowSchema | None = None,
        *,
        row_key: str | None = None,
        deferred: tuple[str, str, Callable[[], Product]] | None = None,
    ) -> None:
        if product is None and deferred is None:
            raise ValueError("a loaded product needs a product or a way to build one")
        self.line = line
        self.documents = documents if documents is not None else []
        # Attribute names kept in the record but never embedded (volatile or noise).
        self.text_exclude = text_exclude
        # What each source field of the product's file is for (None: rebuilt from the store).
        self.schema = schema
        # Hash of the raw row and of everything that reads it (None: not from a catalog row,
        # or changed since it was read, e.g. given another source file).
        self.row_key = row_key
        self._product = product
        self._build: Callable[[], Product] | None = None
        if product is not None:
            self.product_id, self.source = product.product_id, product.source
        else:
            assert deferred is not None
            self.product_id, self.source, self._build = deferred

    @property
    def product(self) -> Product:
        if self._product is None:
            assert self._build is not None
            self._product, self._build = self._build(), None
        return self._product

    @product.setter
    def product(self, value: Product) -> None:
        self._product, self._build = value, None
        self.product_id, self.source = value.product_id, value.source


@dataclass
class LoadResult:
    """Everything one file gave. ``complete`` is False when part of the file could not be read:
    the pipeline then deletes nothing on this file's behalf."""

    source: str
    products: list[LoadedProduct] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    complete: bool = True
