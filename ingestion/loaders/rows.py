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
field is kept verbatim in ``Product.attributes``. Rows without an id get a stable derived one
(``ingestion/loaders/identity.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.models import Product, lookup
from catalog.money import is_currency, parse_price
from catalog.profile import FieldRole
from ingestion.fields import PRODUCT_ROLES, FieldNamer, RowSchema, infer_schema
from ingestion.loaders import cells
from ingestion.loaders.base import LoadedProduct, LoaderError, LoadError, LoadResult
from ingestion.loaders.formats import RowError, csv_rows, json_rows, jsonl_rows
from ingestion.loaders.identity import IDENTITY_ROLES, Draft, assign_ids

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
    path: Path, mapping: FieldMapping | None = None, namer: FieldNamer | None = None
) -> LoadResult:
    """Read every row of a JSON, JSONL or CSV file; bad rows become errors, the rest products."""
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
    reading = _RowReader(schema, mapping, source, objects)
    drafts: list[Draft] = []
    for line, row in rows:
        try:
            if isinstance(row, RowError):
                raise row
            drafts.append(reading.draft(row, line))
        except RowError as exc:
            result.errors.append(LoadError(source, line, str(exc)))
    for duplicate in assign_ids(drafts):
        result.errors.append(
            LoadError(
                source,
                duplicate.line,
                f"duplicate of the row at line {duplicate.first_line}: same title, brand and "
                "details and no id (give the rows an id column to keep both)",
            )
        )
    exclude = frozenset(mapping.text_exclude)
    for draft in drafts:
        if not draft.fields.get("product_id"):
            continue
        product = reading.product(draft.fields, draft.line, result)
        if product is not None:
            result.products.append(
                LoadedProduct(product, line=draft.line, text_exclude=exclude, schema=schema)
            )
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
    reading = _RowReader(schema, mapping, source, [row])
    draft = reading.draft(row, None)
    assign_ids([draft])
    failures = LoadResult(source=source)
    product = reading.product(draft.fields, None, failures)
    if product is None:
        raise RowError(failures.errors[0].reason)
    return product


class _RowReader:
    """Turns rows of one schema into Product fields."""

    def __init__(
        self, schema: RowSchema, mapping: FieldMapping, source: str, rows: list[dict[str, Any]]
    ) -> None:
        self.schema = schema
        self.mapping = mapping
        self.source = source
        self.decimal = schema.price_decimal
        self.consumed = {
            name for role, name in schema.roles.items() if role in _CONSUMED and "." not in name
        } | set(schema.categories)
        self.identity_fields = [
            name for name, item in schema.fields.items() if item.role in IDENTITY_ROLES
        ]

    def value(self, row: dict[str, Any], role: FieldRole) -> Any:
        name = self.schema.field_for(role)
        return None if name is None else lookup(row, name)

    def draft(self, row: Any, line: int | None) -> Draft:
        if not isinstance(row, dict):
            raise RowError(f"expected an object, got {type(row).__name__}")
        title = cells.text(self.value(row, FieldRole.TITLE))
        product_id = cells.text(self.value(row, FieldRole.IDENTIFIER))
        if not title:
            named = self.schema.field_for(FieldRole.TITLE) or "no title-like field"
            who = f"product {product_id}: " if product_id else ""
            raise RowError(f"{who}missing title (field {named!r})")
        keep = self.mapping.extra
        attributes = {
            key: raw
            for key, raw in row.items()
            if key not in self.consumed and (keep is None or key in keep) and raw not in (None, "")
        }
        try:
            price, currency = self._price(self.value(row, FieldRole.PRICE))
            fields = {
                "product_id": product_id,
                "title": title,
                "description": cells.text(self.value(row, FieldRole.DESCRIPTION)) or "",
                "price": price,
                "currency": self._currency(row) or currency,
                "brand": cells.text(self.value(row, FieldRole.BRAND)),
                "category_path": self._path(row),
                "stock": cells.integer(self.value(row, FieldRole.STOCK), "stock"),
                "availability": cells.availability(self.value(row, FieldRole.AVAILABILITY)),
                "rating": cells.number(self.value(row, FieldRole.RATING), "rating", minimum=0.0),
                "attributes": attributes,
                "source": self.source,
            }
        except RowError as exc:
            raise RowError(f"product {product_id or title}: {exc}") from None
        identity = {name: row.get(name) for name in self.identity_fields if row.get(name)}
        return Draft(line=line, fields=fields, identity=identity)

    def product(
        self, fields: dict[str, Any], line: int | None, result: LoadResult
    ) -> Product | None:
        try:
            return Product(**fields)
        except ValidationError as exc:
            reason = f"product {fields.get('product_id')}: {exc.errors()[0]['msg']}"
            result.errors.append(LoadError(self.source, line, reason))
            return None

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


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
