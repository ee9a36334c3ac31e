"""One file's rows as Product fields, by the schema learned from the file; and the row key
that says a row reads exactly as it did when the store last took it.

A row's key hashes the raw row, how this file is read (roles, category separators, price
decimal, the mapping, the source) and the code that reads rows. Equal keys give equal
products, so a row whose key the store holds needs no Product until something asks for it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from catalog.models import Product, lookup
from catalog.money import is_currency, parse_price
from catalog.profile import FieldRole
from ingestion.fields import RowSchema
from ingestion.loaders import cells
from ingestion.loaders.base import LoadError, LoadResult
from ingestion.loaders.formats import RowError
from ingestion.loaders.identity import IDENTITY_ROLES, Draft

if TYPE_CHECKING:
    from ingestion.loaders.rows import FieldMapping

# Modules whose code decides what a row becomes: a change to any of them changes every key.
_READING_CODE = (
    "ingestion.loaders.reader",
    "ingestion.loaders.rows",
    "ingestion.loaders.cells",
    "ingestion.loaders.identity",
    "ingestion.fields",
    "ingestion.role_rules",
    "ingestion.values",
    "catalog.models",
    "catalog.money",
    "catalog.money_text",
    "catalog.currencies",
)


class RowReader:
    """Turns rows of one schema into Product fields."""

    def __init__(
        self, schema: RowSchema, mapping: FieldMapping, source: str, consumed: frozenset[FieldRole]
    ) -> None:
        self.schema = schema
        self.mapping = mapping
        self.source = source
        self.decimal = schema.price_decimal
        self.consumed = {
            name for role, name in schema.roles.items() if role in consumed and "." not in name
        } | set(schema.categories)
        self.identity_fields = [
            name for name, item in schema.fields.items() if item.role in IDENTITY_ROLES
        ]
        # The reading's fingerprint hashed once; each row key continues a copy of it.
        self._keyed = hashlib.blake2b(_reading_fingerprint(self).encode("utf-8"), digest_size=16)
        self._title = schema.field_for(FieldRole.TITLE)
        self._id = schema.field_for(FieldRole.IDENTIFIER)
        self._brand = schema.field_for(FieldRole.BRAND)

    def row_key(self, row: dict[str, Any]) -> str:
        # repr of the parsed row: exact for equal JSON/CSV values read in the same order.
        hasher = self._keyed.copy()
        hasher.update(repr(row).encode("utf-8", "surrogatepass"))
        return hasher.hexdigest()

    def value(self, row: dict[str, Any], role: FieldRole) -> Any:
        name = self.schema.field_for(role)
        return None if name is None else lookup(row, name)

    def head(self, row: Any, line: int | None) -> Draft:
        """Only what the id needs (id, title, brand, identifying details)."""
        if not isinstance(row, dict):
            raise RowError(f"expected an object, got {type(row).__name__}")
        title = cells.text(None if self._title is None else lookup(row, self._title))
        product_id = cells.text(None if self._id is None else lookup(row, self._id))
        if not title:
            named = self.schema.field_for(FieldRole.TITLE) or "no title-like field"
            who = f"product {product_id}: " if product_id else ""
            raise RowError(f"{who}missing title (field {named!r})")
        brand = cells.text(None if self._brand is None else lookup(row, self._brand))
        identity = {name: value for name in self.identity_fields if (value := row.get(name))}
        fields = {"product_id": product_id, "title": title, "brand": brand}
        return Draft(line=line, fields=fields, identity=identity)

    def draft(self, row: Any, line: int | None) -> Draft:
        head = self.head(row, line)
        product_id, title = head.fields["product_id"], head.fields["title"]
        keep = self.mapping.extra
        attributes = {
            key: cells.decoded(raw)
            for key, raw in row.items()
            if key not in self.consumed and (keep is None or key in keep) and raw not in (None, "")
        }
        try:
            price, currency = self._price(self.value(row, FieldRole.PRICE))
            head.fields.update(
                {
                    "description": cells.text(self.value(row, FieldRole.DESCRIPTION)) or "",
                    "price": price,
                    "currency": self._currency(row) or currency,
                    "category_path": self._path(row),
                    "stock": cells.integer(self.value(row, FieldRole.STOCK), "stock"),
                    "availability": cells.availability(self.value(row, FieldRole.AVAILABILITY)),
                    "rating": cells.number(
                        self.value(row, FieldRole.RATING), "rating", minimum=0.0
                    ),
                    "attributes": attributes,
                    "source": self.source,
                }
            )
        except RowError as exc:
            raise RowError(f"product {product_id or title}: {exc}") from None
        return head

    def product(
        self, fields: dict[str, Any], line: int | None, result: LoadResult
    ) -> Product | None:
        try:
            return Product(**fields)
        except ValidationError as exc:
            reason = f"product {fields.get('product_id')}: {exc.errors()[0]['msg']}"
            result.errors.append(LoadError(self.source, line, reason))
            return None

    def rebuild(self, row: dict[str, Any], line: int | None, product_id: str) -> Product:
        """The product of a row that loaded cleanly before with the same key (so it does now)."""
        draft = self.draft(row, line)
        draft.fields["product_id"] = product_id
        failures = LoadResult(source=self.source)
        product = self.product(draft.fields, line, failures)
        if product is None:
            raise RowError(failures.errors[0].reason)
        return product

    def _price(self, value: Any) -> tuple[float | None, str | None]:
        if value is None or value == "" or isinstance(value, int | float | bool):
            return cells.number(value, "price", minimum=0.0), None
        text = str(value).strip()
        try:
            plain: float | None = float(text)
        except ValueError:
            plain = None
        if plain is not None:  # a plain number keeps its messages ("negative", "not finite")
            return cells.number(plain, "price", minimum=0.0, shown=value), None
        try:
            parsed = parse_price(text, decimal_separator=self.decimal)
        except ValueError:
            raise RowError(f"price {value!r} is not a number") from None
        return (parsed.amount, parsed.currency) if parsed else (None, None)

    def _currency(self, row: dict[str, Any]) -> str | None:
        code = cells.text(self.value(row, FieldRole.CURRENCY))
        return code.upper() if code and is_currency(code) else None

    def _path(self, row: dict[str, Any]) -> list[str]:
        path: list[str] = []
        for name in self.schema.categories:
            known = self.schema.fields.get(name)
            separator = known.stats.separator if known else None
            path.extend(cells.category_levels(lookup(row, name), separator))
        return [level for i, level in enumerate(path) if level not in path[:i]]


def _reading_fingerprint(reader: RowReader) -> str:
    schema = reader.schema
    described = {
        "code": _code_fingerprint(),
        "source": reader.source,
        "mapping": reader.mapping.model_dump_json(),
        "roles": sorted((role.value, name) for role, name in schema.roles.items()),
        "categories": schema.categories,
        "fields": sorted(
            (name, item.role.value, str(item.type), item.stats.separator)
            for name, item in schema.fields.items()
        ),
        "decimal": schema.price_decimal,
        "lakh": schema.price_lakh,
    }
    return json.dumps(described, sort_keys=True, default=str) + "\x1e"


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    hasher = hashlib.sha256()
    for name in _READING_CODE:
        hasher.update(Path(str(importlib.import_module(name).__file__)).read_bytes())
    return hasher.hexdigest()[:16]
