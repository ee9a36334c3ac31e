"""Rows of JSON arrays, JSON Lines and CSV files, each with the line it starts on.

A row that cannot be read is yielded as a :class:`RowError` in its place, so the good rows
around it still load and the bad one is reported with its line.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from typing import Any

_WRAPPER_KEYS = ("products", "items", "data", "rows")


class RowError(ValueError):
    """One row cannot become a product; the message says why."""


Rows = Iterator[tuple[int | None, Any]]


def json_rows(text: str) -> Rows:
    """Elements of a JSON array, or of the list in ``{"products": [...]}``, with the line each
    starts on. A syntax error stops the file there, after the rows before it."""
    position = _skip_space(text, 0)
    if text.startswith("{", position):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            yield exc.lineno, RowError(f"invalid JSON in file: {exc.msg}")
            return
        key = _array_key(document)
        if key is None:
            yield 1, RowError("file holds a JSON object without a list of products")
            return
        start = _array_start(text, key)
        if start is None:  # the key is written in some escaped form: rows without lines
            yield from ((None, item) for item in document[key])
            return
        yield from _array_rows(text, start)
        return
    if not text.startswith("[", position):
        yield _line_at(text, position), RowError("file is not a JSON array of products")
        return
    yield from _array_rows(text, position)


def _array_rows(text: str, position: int) -> Rows:
    """The elements of the array whose ``[`` is at ``position``."""
    decoder = json.JSONDecoder()
    position = _skip_space(text, position + 1)
    if text.startswith("]", position):
        return
    counted = (0, 1)  # (position, line): lines are counted on from the last row, not from 0
    while True:
        line = counted[1] + text.count("\n", counted[0], position)
        counted = (position, line)
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


def jsonl_rows(text: str) -> Rows:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, RowError(f"invalid JSON: {exc.msg} (column {exc.colno})")


def csv_rows(text: str) -> Rows:
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


def _array_key(document: Any) -> str | None:
    if not isinstance(document, dict):
        return None
    for key in _WRAPPER_KEYS:
        if isinstance(document.get(key), list):
            return key
    lists = [key for key, value in document.items() if isinstance(value, list)]
    return lists[0] if len(lists) == 1 else None


def _array_start(text: str, key: str) -> int | None:
    """Where the wrapped array starts: after its key at the top level of the object."""
    depth = 0
    pattern = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*\[|[{}\[\]]|"(?:[^"\\]|\\.)*"')
    for match in pattern.finditer(text):
        token = match.group(0)
        if match.group(1) is not None:
            if depth == 1 and json.loads(f'"{match.group(1)}"') == key:
                return match.end() - 1
            depth += 1  # the array just opened
        elif token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
    return None


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _line_at(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1
