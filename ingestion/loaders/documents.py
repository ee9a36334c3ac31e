"""Product documents: Markdown, HTML and plain text through unstructured; PDF through pypdf.

A document describes one product. Its id comes from the front matter (Markdown/TXT
``---`` YAML block), ``<meta name="product_id">`` (HTML) or the PDF's ``/ProductId``
metadata, else from the file name. Front matter / meta fields such as ``title``, ``price``,
``brand`` or ``category`` fill the product like a catalog row would.

Working offline: unstructured's default HTML parser classifies each paragraph with spaCy
heuristics and downloads ``en_core_web_sm`` on first use. Its ontology ("v2") parser maps
HTML tags to elements without any NLP, so every format goes through it: Markdown is turned
into HTML first (as ``partition_md`` itself does) and plain-text paragraphs become ``<p>``.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any

from ingestion.loaders.base import DocumentText, LoadedProduct, LoaderError, LoadError, LoadResult
from ingestion.loaders.rows import FieldMapping, RowError, row_to_product

DOCUMENT_SUFFIXES = frozenset({".md", ".markdown", ".html", ".htm", ".txt", ".pdf"})

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING = "\x00"  # marks heading paragraphs between partitioning and the title fallback
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_ID_KEYS = ("product_id", "productId", "id", "sku", "asin")
_PRODUCT_FIELDS = (
    "title",
    "description",
    "price",
    "brand",
    "category",
    "stock",
    "availability",
    "rating",
)
# HTML meta tags read as product fields (others, like viewport, are page plumbing).
_META_FIELDS = frozenset({*_ID_KEYS, *_PRODUCT_FIELDS})


def load_document(path: Path) -> LoadResult:
    """One document as one product (or as extra text for a catalog product of the same id)."""
    source = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            fields, text = _read_pdf(path)
        else:
            raw = path.read_text(encoding="utf-8-sig")
            if suffix in {".html", ".htm"}:
                fields, text = _read_html(raw)
            else:
                fields, body = _split_front_matter(raw)
                markup = _markdown_to_html(body) if suffix in {".md", ".markdown"} else None
                text = _partition(markup if markup is not None else _text_to_html(body))
    except UnicodeDecodeError:
        raise LoaderError(f"cannot read {path}: not UTF-8 text") from None
    except OSError as exc:
        raise LoaderError(f"cannot read {path}: {exc.strerror or exc}") from None
    except _DocumentError as exc:
        raise LoaderError(f"cannot read {path}: {exc}") from None

    result = LoadResult(source=source)
    if not text.strip():
        result.errors.append(LoadError(source, None, "no text found in document"))
        result.complete = False
        return result
    row: dict[str, Any] = {key: value for key, value in fields.items() if value not in (None, "")}
    if not any(key in row for key in _ID_KEYS):
        row["product_id"] = path.stem
    row.setdefault("title", _first_heading(text) or _humanise(path.stem))
    text = text.replace(_HEADING, "")
    try:
        product = row_to_product(row, _front_matter_mapping(row), source=source)
    except RowError as exc:
        result.errors.append(LoadError(source, 1, str(exc)))
        result.complete = False
        return result
    result.products.append(
        LoadedProduct(product=product, line=None, documents=[DocumentText(source, text)])
    )
    return result


class _DocumentError(ValueError):
    pass


def _front_matter_mapping(row: dict[str, Any]) -> FieldMapping:
    """Front matter and meta tags use Aisle's own field names (documented above): they name
    the product fields outright, nothing is inferred from a single document."""
    named = {key: key for key in _PRODUCT_FIELDS if key in row}
    identifier = next((key for key in _ID_KEYS if key in row), None)
    return FieldMapping(id=identifier, **named)


def _split_front_matter(raw: str) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    import yaml

    try:
        fields = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise _DocumentError(f"invalid front matter: {exc}") from None
    if not isinstance(fields, dict):
        raise _DocumentError("front matter is not a mapping of fields")
    return {str(key): value for key, value in fields.items()}, raw[match.end() :]


def _markdown_to_html(body: str) -> str:
    import markdown

    return str(markdown.markdown(body, extensions=["tables", "fenced_code"]))


def _text_to_html(body: str) -> str:
    paragraphs = [part.strip() for part in _PARAGRAPH_BREAK.split(body) if part.strip()]
    return "".join(f"<p>{html.escape(part)}</p>" for part in paragraphs)


def _read_html(raw: str) -> tuple[dict[str, Any], str]:
    """Meta tags become fields; the body goes through unstructured."""
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(raw)
    except Exception as exc:  # lxml raises several types for garbage input
        raise _DocumentError(f"invalid HTML: {exc}") from None
    fields: dict[str, Any] = {}
    for meta in tree.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip()
        content = meta.get("content")
        name = name.removeprefix("product:").replace("-", "_")
        if name in _META_FIELDS and content is not None:
            fields[name] = content.strip()
    title = tree.findtext(".//title")
    if title and title.strip():
        fields.setdefault("title", title.strip())
    for junk in tree.xpath("//script | //style | //noscript | //template"):
        junk.drop_tree()  # code, not content
    body = tree.find("body")
    inner = "" if body is None else lxml.html.tostring(body, encoding="unicode")
    inner = re.sub(r"^<body[^>]*>|</body>\s*$", "", inner.strip())
    return fields, _partition(inner)


def _partition(body_html: str) -> str:
    """Elements of ``body_html`` by unstructured's ontology parser, one paragraph each."""
    # unstructured pings an analytics endpoint and prints an advert unless told not to.
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
    os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
    from unstructured.partition.html import partition_html

    if not body_html.strip():
        return ""
    document = f'<html><body class="Document">{body_html}</body></html>'
    elements = partition_html(text=document, html_parser_version="v2", languages=[""])
    # The ontology parser joins neighbouring paragraphs; headings stay their own elements
    # and are marked so the title fallback can find the first one.
    parts = []
    for element in elements:
        text = " ".join(element.text.split())
        if text:
            parts.append(f"{_HEADING}{text}" if element.category == "Title" else text)
    return "\n\n".join(parts)


def _read_pdf(path: Path) -> tuple[dict[str, Any], str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        info: dict[str, Any] = dict(reader.metadata or {})
    except (PdfReadError, ValueError, KeyError) as exc:
        raise _DocumentError(f"invalid PDF: {exc}") from None
    fields: dict[str, Any] = {}
    for key, value in info.items():
        name = str(key).lstrip("/")
        if name in {"ProductId", "ProductID", "product_id"}:
            fields["product_id"] = str(value)
        elif name == "Title":
            fields["title"] = str(value)
        elif name in {"Price", "Brand", "Category"}:
            fields[name.lower()] = str(value)
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    return fields, text


def _first_heading(text: str) -> str | None:
    for paragraph in text.split("\n\n"):
        if paragraph.startswith(_HEADING):
            return paragraph.removeprefix(_HEADING)[:200]
    return None


def _humanise(stem: str) -> str:
    return " ".join(re.split(r"[-_\s]+", stem)).strip() or stem
