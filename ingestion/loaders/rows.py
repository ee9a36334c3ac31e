"""Product rows from JSON arrays, JSON Lines and CSV, normalised into :class:`Product`.

The demo catalog (DummyJSON: ``id``, ``title``, ``price``...) and ePQA (``asin``, ``title``,
``snippets``) load as they are: each product field is looked up under the usual names. Other
schemas name their columns in a :class:`FieldMapping`, a JSON file such as::

    {"id": "sku", "title": "name", "price": "pricing.amount", "brand": "maker",
     "category": "department", "stock": "qty", "availability": "status",
     "rating": "stars", "description": "blurb", "extra": ["color", "specs"],
     "text_exclude": ["internal_notes"]}

Dotted names reach into nested objects. ``extra`` lists the other fields to keep (default:
all of them); ``text_exclude`` lists fields kept in the record but never embedded.
Every other field is kept verbatim in ``Product.attributes``.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from catalog.models import Product
from ingestion.loaders.base import LoadedProduct, LoaderError, LoadError, LoadResult

ROW_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".csv"})

# Where each product field is looked for when the mapping does not name it (first match wins).
_DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "product_id", "productId", "asin", "sku", "uniq_id"),
    "title": ("title", "name", "product_name", "productName", "product_title"),
    "description": ("description", "desc", "product_description", "summary"),
    "price": ("price", "sale_price", "list_price", "final_price"),
    "brand": ("brand", "manufacturer", "brand_name", "vendor"),
    "category": ("category", "product_category", "main_category", "department"),
    "stock": ("stock", "quantity", "inventory", "stock_quantity"),
    "availability": ("availabilityStatus", "availability", "in_stock", "availability_status"),
    "rating": ("rating", "average_rating", "stars", "rating_average"),
}
# Fields that become Product fields; the availability field also stays in the attributes
# (the contract keeps e.g. ``availabilityStatus`` in the record verbatim).
_CONSUMED = ("id", "title", "description", "price", "brand", "category", "stock", "rating")


class FieldMapping(BaseModel):
    """Which source field feeds which product field (dotted names reach into objects)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, description="Product id field (required in every row).")
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


class RowError(ValueError):
    """One row cannot become a product; the message says why."""


def load_rows(path: Path, mapping: FieldMapping | None = None) -> LoadResult:
    """Read every row of a JSON, JSONL or CSV file; bad rows become errors, the rest products."""
    mapping = mapping or FieldMapping()
    source = str(path)
    result = LoadResult(source=source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoaderError(f"cannot read {path}: {_reason(exc)}") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(text)
    elif suffix in {".jsonl", ".ndjson"}:
        rows = _jsonl_rows(text)
    else:
        rows = _json_rows(text)
    exclude = frozenset(mapping.text_exclude)
    for line, row in rows:
        if isinstance(row, RowError):
            result.errors.append(LoadError(source, line, str(row)))
            continue
        try:
            product = row_to_product(row, mapping, source=source)
        except RowError as exc:
            result.errors.append(LoadError(source, line, str(exc)))
            continue
        result.products.append(LoadedProduct(product=product, line=line, text_exclude=exclude))
    if result.errors:
        result.complete = False  # a bad row may hide a product: delete nothing for this file
    return result


def row_to_product(row: Any, mapping: FieldMapping, *, source: str = "") -> Product:
    """Normalise one source row; raise :class:`RowError` naming what is wrong."""
    if not isinstance(row, dict):
        raise RowError(f"expected an object, got {type(row).__name__}")
    names = {field: _field_name(row, field, mapping) for field in _DEFAULT_NAMES}

    def value(field: str) -> Any:
        name = names[field]
        return None if name is None else _lookup(row, name)

    product_id = _text(value("id"))
    if not product_id:
        raise RowError(f"missing product id (field {names['id'] or _expected('id', mapping)!r})")
    title = _text(value("title"))
    if not title:
        raise RowError(
            f"product {product_id}: missing title "
            f"(field {names['title'] or _expected('title', mapping)!r})"
        )
    consumed = {name for field in _CONSUMED if (name := names[field]) and "." not in name}
    keep = mapping.extra
    attributes = {
        key: raw
        for key, raw in row.items()
        if key not in consumed and (keep is None or key in keep) and raw not in (None, "")
    }
    try:
        return Product(
            product_id=product_id,
            title=title,
            description=_text(value("description")) or "",
            price=_number(value("price"), "price", minimum=0.0),
            brand=_text(value("brand")),
            category=_text(value("category")),
            stock=_integer(value("stock"), "stock"),
            availability=_availability(value("availability")),
            rating=_number(value("rating"), "rating", minimum=0.0),
            attributes=attributes,
            source=source,
        )
    except RowError as exc:
        raise RowError(f"product {product_id}: {exc}") from None
    except ValidationError as exc:  # pragma: no cover - guarded above, kept for safety
        raise RowError(f"product {product_id}: {exc.errors()[0]['msg']}") from None


# -- file formats ------------------------------------------------------------------------------
def _json_rows(text: str) -> Iterator[tuple[int | None, Any]]:
    """Elements of a JSON array (or of the first array in ``{"products": [...]}``) with the line
    each starts on. A syntax error stops the file there, after the rows before it."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, 0)
    if text.startswith("{", position):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            yield exc.lineno, RowError(f"invalid JSON in file: {exc.msg}")
            return
        items = _array_in(document)
        if items is None:
            yield 1, RowError("file holds a JSON object without a list of products")
            return
        # Lines inside a wrapped array are not tracked; errors name the product instead.
        for item in items:
            yield None, item
        return
    if not text.startswith("[", position):
        yield _line_at(text, position), RowError("file is not a JSON array of products")
        return
    position = _skip_space(text, position + 1)
    if text.startswith("]", position):
        return
    while True:
        line = _line_at(text, position)
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            yield exc.lineno, RowError(f"invalid JSON in file: {exc.msg}")
            return
        yield line, item
        position = _skip_space(text, position)
        if text.startswith(",", position):
            position = _skip_space(text, position + 1)
        elif text.startswith("]", position):
            return
        else:
            yield _line_at(text, position), RowError("invalid JSON in file: expected ',' or ']'")
            return


def _jsonl_rows(text: str) -> Iterator[tuple[int | None, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, RowError(f"invalid JSON: {exc.msg} (column {exc.colno})")


def _csv_rows(text: str) -> Iterator[tuple[int | None, Any]]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    start = 2  # line 1 is the header
    try:
        for record in reader:
            row: dict[str, Any] = {}
            for key, cell in record.items():
                if key is None:  # more cells than header columns
                    continue
                row[key.strip()] = _csv_cell(cell)
            extra = record.get(None)
            if extra:
                yield start, RowError(f"{len(extra)} more cells than header columns")
            else:
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        yield reader.line_num, RowError(f"invalid CSV in file: {exc}")


def _csv_cell(cell: str | None) -> Any:
    """Empty cells are missing; cells holding JSON objects or lists are parsed (nested data)."""
    if cell is None:
        return None
    cell = cell.strip()
    if not cell:
        return None
    if cell[0] in "[{":
        try:
            return json.loads(cell)
        except json.JSONDecodeError:
            return cell
    return cell


# -- field values ------------------------------------------------------------------------------
def _field_name(row: dict[str, Any], field: str, mapping: FieldMapping) -> str | None:
    named = getattr(mapping, field)
    if named:
        return str(named)
    return next((name for name in _DEFAULT_NAMES[field] if name in row), None)


def _expected(field: str, mapping: FieldMapping) -> str:
    return getattr(mapping, field) or " or ".join(_DEFAULT_NAMES[field][:3])


def _lookup(row: dict[str, Any], name: str) -> Any:
    if name in row:
        return row[name]
    current: Any = row
    for part in name.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any, field: str, *, minimum: float) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError(f"{field} {value!r} is not a number")
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise RowError(f"{field} {value!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise RowError(f"{field} {value!r} is not a finite number")
    if number < minimum:
        raise RowError(f"{field} {value!r} is negative")
    return number


def _integer(value: Any, field: str) -> int | None:
    number = _number(value, field, minimum=-math.inf)
    if number is None:
        return None
    if not number.is_integer():
        raise RowError(f"{field} {value!r} is not a whole number")
    return int(number)


def _availability(value: Any) -> str | None:
    if isinstance(value, bool):
        return "In Stock" if value else "Out of Stock"
    if isinstance(value, str) and value.strip().lower() in {"true", "false", "yes", "no"}:
        return "In Stock" if value.strip().lower() in {"true", "yes"} else "Out of Stock"
    return _text(value)


def _array_in(document: Any) -> list[Any] | None:
    if isinstance(document, dict):
        for key in ("products", "items", "data", "rows"):
            if isinstance(document.get(key), list):
                return list(document[key])
        lists = [value for value in document.values() if isinstance(value, list)]
        if len(lists) == 1:
            return list(lists[0])
    return None


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
