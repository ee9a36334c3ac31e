"""Small JSON records kept beside a collection, in the same Chroma (embedded or server).

Whatever every API process must agree on lives here rather than on a local disk: the catalog
profile, the collection's generation, which embedding backend wrote its vectors, ingest job
records and the ingest lock. They sit in a side collection ``<collection>.meta`` (one document
per record, a dummy one-dimensional vector each), so two replicas that share only Chroma see
the same records.
"""

from __future__ import annotations

import json
from typing import Any

from catalog.errors import StoreError

META_SUFFIX = ".meta"
_DUMMY_VECTOR = [1.0]
_PAGE = 1000


class MetaError(StoreError):
    """The side collection cannot be read or written."""


def meta_collection_name(collection: str) -> str:
    return collection + META_SUFFIX


class StoreMeta:
    """Key -> JSON object records of one collection. Keys look like ``profile`` or ``job:<id>``;
    the part before ``:`` is the record's kind, so all records of a kind can be listed."""

    def __init__(self, client: Any, collection: str) -> None:
        self._client = client
        self.collection_name = meta_collection_name(collection)
        try:
            self._collection = client.get_or_create_collection(
                name=self.collection_name, embedding_function=None
            )
        except Exception as exc:
            raise MetaError(f"cannot open {self.collection_name}: {exc}") from exc

    def get(self, key: str) -> dict[str, Any] | None:
        found = self.get_many([key])
        return found.get(key)

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        if not keys:
            return {}
        page = self._call(self._collection.get, ids=list(keys), include=["documents"])
        return _decode(page)

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Write (or overwrite) one record."""
        self._call(self._collection.upsert, **self._row(key, value))

    def add_if_absent(self, key: str, value: dict[str, Any]) -> dict[str, Any]:
        """Write ``value`` unless ``key`` exists; return the record now stored under ``key``.

        Chroma ignores an ``add`` of an existing id, so of two racing writers exactly one
        record survives, and both read back the same winner: compare it with what you wrote.
        """
        self._call(self._collection.add, **self._row(key, value))
        stored = self.get(key)
        if stored is None:  # deleted between our add and read: report ours as not stored
            return {}
        return stored

    def delete(self, key: str) -> None:
        self._call(self._collection.delete, ids=[key])

    def list(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every record whose key starts with ``<kind>:``."""
        found: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            page = self._call(
                self._collection.get,
                where={"kind": {"$eq": kind}},
                include=["documents"],
                limit=_PAGE,
                offset=offset,
            )
            found.update(_decode(page))
            if len(page["ids"]) < _PAGE:
                return found
            offset += _PAGE

    def drop(self) -> None:
        """Remove the side collection (with the collection it describes)."""
        self._call(self._client.delete_collection, self.collection_name)

    # -- internals --------------------------------------------------------------------------
    @staticmethod
    def _row(key: str, value: dict[str, Any]) -> dict[str, Any]:
        kind = key.split(":", 1)[0]
        return {
            "ids": [key],
            "documents": [json.dumps(value, ensure_ascii=False, sort_keys=True)],
            "embeddings": [_DUMMY_VECTOR],
            "metadatas": [{"kind": kind}],
        }

    @staticmethod
    def _call(call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except Exception as exc:  # connection refused, server gone, ...
            raise MetaError(f"store metadata operation failed: {exc}") from exc


def _decode(page: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for key, document in zip(page["ids"], page.get("documents") or [], strict=False):
        try:
            value = json.loads(document or "")
        except ValueError:
            continue
        if isinstance(value, dict):
            found[key] = value
    return found
