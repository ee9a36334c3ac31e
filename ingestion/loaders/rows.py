"""Product rows from JSON arrays, JSON Lines and CSV, normalised into :class:`Product`.

Each file's schema is learned from its own rows (``ingestion/fields.py``): which field is the
id, the title, the price, the brand, the category (a name, a list broad to narrow, a path such
as "Home > Kitchen", or main and sub category columns), the stock, the availability and the
rating. So the demo catalog (DummyJSON), ePQA (``asin``, ``title``, ``snippets``), Best Buy
(``name``, ``categories`` lists, no id) and shop exports with columns such as "Product Name",
"MRP" ("₹1,299.00") or "Quantity" ("1 kg", a measure, never stock) load as they are. A
:class:`FieldMapping` file still names fields outright::

    {"id": "sku", "title": "name", "price": "pricing.amount", "brand": "maker",
     "category": "department", "stock": "qty", "availability": "status",
     "rating": "stars", "description": "blurb", "extra": ["color", "specs"],
     "text_exclude": ["internal_notes"]}

Dotted names reach into nested objects. ``extra`` lists the other fields to keep (default:
all of them); ``text_exclude`` lists fields kept in the record but never embedded. Every other
field is kept as given in ``Product.attributes`` (HTML character references decoded). Rows
without an id get a stable derived one (``ingestion/loaders/identity.py``).
"""

from __future__ import annotations

from collections.abc import Set
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.models import Product
from catalog.profile import FieldRole
from ingestion.fields import PRODUCT_ROLES, FieldNamer, RowSchema, infer_schema
from ingestion.loaders.base import LoadedProduct, LoaderError, LoadError, LoadResult
from ingestion.loaders.formats import RowError, csv_rows, json_rows, jsonl_rows
from ingestion.loaders.identity import Draft, assign_ids
from ingestion.loaders.reader import RowReader

ROW_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".csv"})

# Mapping fields and the roles they name.
_MAPPED_ROLES = {
    "id": FieldRole.IDENTIFIER,
    "title": FieldRole.TITLE,
    "description": FieldRole.DESCRIPTION,
    "price": FieldRole.PRICE,
    "brand": FieldRole.BRAND,
    "category": FieldRole.CATEGORY,
    "stock": FieldRole.STOCK,
    "availability": FieldRole.AVAILABILITY,
    "rating": FieldRole.RATING,
}
# Roles whose field becomes a Product field and leaves the attributes. Availability, tags,
# reviews and snippets fields stay in the attributes (the record keeps them verbatim).
_CONSUMED = frozenset(PRODUCT_ROLES) - {
    FieldRole.AVAILABILITY,
    FieldRole.TAGS,
    FieldRole.REVIEWS,
    FieldRole.SNIPPETS,
}


class FieldMapping(BaseModel):
    """Which source field feeds which product field (dotted names reach into objects)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, description="Product id field.")
    title: str | None = Field(default=None, description="Title field (required in every row).")
    description: str | None = None
    price: str | None = None
    brand: str | None = None
    category: str | None = None
    stock: str | None = Field(default=None, description="Units in stock (integer).")
    availability: str | None = Field(
        default=None, description="Text such as 'In Stock' / 'Out of Stock', or a boolean."
    )
    rating: str | None = None
    extra: list[str] | None = Field(
        default=None, description="Other fields to keep in the record; default: every other field."
    )
    text_exclude: list[str] = Field(
        default_factory=list, description="Fields kept in the record but never embedded."
    )

    @classmethod
    def load(cls, path: Path) -> FieldMapping:
        try:
            return cls.model_validate_json(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise LoaderError(f"cannot read mapping {path}: {exc.strerror or exc}") from None
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'mapping'}: {err['msg']}"
                for err in exc.errors()
            )
            raise LoaderError(f"invalid mapping {path}: {problems}") from None

    def roles(self) -> dict[FieldRole, str]:
        return {role: name for key, role in _MAPPED_ROLES.items() if (name := getattr(self, key))}


def load_rows(
    path: Path,
    mapping: FieldMapping | None = None,
    namer: FieldNamer | None = None,
    known_rows: Set[str] | None = None,
) -> LoadResult:
    """Read every row of a JSON, JSONL or CSV file; bad rows become errors, the rest products.

    ``known_rows``: row keys the store holds (products it took from exactly such rows). Those
    rows loaded cleanly then and do now; their products are built only when asked for. Given
    (even empty), every product carries its row's key.
    """
    mapping = mapping or FieldMapping()
    source = str(path)
    result = LoadResult(source=source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoaderError(f"cannot read {path}: {_reason(exc)}") from None
    suffix = path.suffix.lower()
    reader = (
        csv_rows
        if suffix == ".csv"
        else jsonl_rows
        if suffix in {".jsonl", ".ndjson"}
        else json_rows
    )
    rows = list(reader(text))
    objects = [row for _, row in rows if isinstance(row, dict)]
    schema = infer_schema(objects, namer, fixed=mapping.roles())
    reading = RowReader(schema, mapping, source, _CONSUMED)
    keyed, known = known_rows is not None, known_rows or frozenset()
    drafts: list[tuple[Draft, dict[str, Any], str | None]] = []
    for line, row in rows:
        try:
            if isinstance(row, RowError):
                raise row
            key = reading.row_key(row) if keyed and isinstance(row, dict) else None
            if key is not None and key in known:
                drafts.append((reading.head(row, line), row, key))
            else:
                drafts.append((reading.draft(row, line), row, key))
        except RowError as exc:
            result.errors.append(LoadError(source, line, str(exc)))
    for duplicate in assign_ids([draft for draft, _, _ in drafts]):
        result.errors.append(
            LoadError(
                source,
                duplicate.line,
                f"duplicate of the row at line {duplicate.first_line}: same title, brand and "
                "details and no id (give the rows an id column to keep both)",
            )
        )
    exclude = frozenset(mapping.text_exclude)
    for draft, row, key in drafts:
        product_id = draft.fields.get("product_id")
        if not product_id:
            continue
        if key is not None and key in known:
            build = partial(reading.rebuild, row, draft.line, product_id)
            result.products.append(
                LoadedProduct(
                    line=draft.line,
                    text_exclude=exclude,
                    schema=schema,
                    row_key=key,
                    deferred=(product_id, source, build),
                )
            )
            continue
        product = reading.product(draft.fields, draft.line, result)
        if product is not None:
            loaded = LoadedProduct(
                product, line=draft.line, text_exclude=exclude, schema=schema, row_key=key
            )
            result.products.append(loaded)
    result.errors.sort(key=lambda error: error.line or 0)
    if result.errors:
        result.complete = False  # a bad row may hide a product: delete nothing for this file
    return result


def row_to_product(
    row: Any, mapping: FieldMapping, *, source: str = "", schema: RowSchema | None = None
) -> Product:
    """Normalise one row on its own (its schema inferred from it unless given); raise
    :class:`RowError` naming what is wrong."""
    if not isinstance(row, dict):
        raise RowError(f"expected an object, got {type(row).__name__}")
    schema = schema or infer_schema([row], fixed=mapping.roles())
    reading = RowReader(schema, mapping, source, _CONSUMED)
    draft = reading.draft(row, None)
    assign_ids([draft])
    failures = LoadResult(source=source)
    product = reading.product(draft.fields, None, failures)
    if product is None:
        raise RowError(failures.errors[0].reason)
    return product


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
