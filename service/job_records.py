"""Ingest job records: the model, and its ``job:<id>`` records in ``store.meta``.

Records are kept in the store, not only in memory, so that a replica sharing nothing but
Chroma can answer ``GET /v1/ingest/{id}`` for a job another one runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from catalog.errors import StoreError
from catalog.lease import current_holder
from catalog.store import ProductStore
from service.errors import AppError

# The logger of service.jobs, as before the split: log records keep their logger name.
log = logging.getLogger("service.jobs")

JobStatus = Literal["queued", "running", "succeeded", "failed"]
COUNT_FIELDS = (
    "added",
    "updated",
    "metadata_only",
    "unchanged",
    "deleted",
    "failed",
    "chunks_embedded",
)


def utc_timestamp() -> str:
    """Now, as a job record's ``*_at`` fields hold it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class IngestJob:
    job_id: str
    collection: str
    status: JobStatus
    source: Literal["upload", "paths"]
    files: list[str]
    delete_missing: bool
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    counts: dict[str, int] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    message: str | None = None
    progress: dict[str, Any] | None = None  # {"stage", "done", "total"} while it runs
    owner: str | None = None  # the ingest lease that runs it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IngestJob:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


class JobRecords:
    """Reads and writes the job records of one collection."""

    def __init__(self, store: Callable[[], ProductStore], collection: str) -> None:
        self._store = store
        self.collection = collection

    def save(self, job: IngestJob) -> None:
        self._store().meta.put(f"job:{job.job_id}", job.to_dict())

    def save_quietly(self, job: IngestJob) -> None:
        try:
            self.save(job)
        except (StoreError, AppError) as exc:  # the local record stays; GET here still works
            log.warning("cannot record ingest job %s: %s", job.job_id, exc)

    def load(self, job_id: str) -> IngestJob | None:
        meta = self._store().meta
        data = meta.get(f"job:{job_id}")
        if data is None:
            return None
        try:
            job = IngestJob.from_dict(data)
        except TypeError:
            return None
        if job.collection != self.collection:
            return None
        if job.status in {"queued", "running"}:
            # Another replica may be running it; if its lease is gone, its process died.
            holder = current_holder(meta)
            if holder is None or holder.get("owner") != job.owner:
                job.status = "failed"
                job.message = "interrupted: the server running the job stopped"
        return job
