"""Ingest jobs: one at a time per collection, run in a worker thread, recorded in the store.

The one-at-a-time lock is the store's ingest lease (``catalog.lease``), the same one
``aisle ingest`` takes, plus an ``flock`` beside an embedded store; job records are
``job:<id>`` records of ``store.meta``. So replicas that share nothing but Chroma refuse a
second job (409) and answer ``GET /v1/ingest/{id}`` for a job any of them runs; a job whose
process died (its lease expired) is reported as failed.
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from catalog.errors import StoreError
from catalog.lease import IngestLock, LockHeld
from catalog.store import ProductStore
from service.errors import AppError, ServiceUnavailable
from service.job_records import COUNT_FIELDS, IngestJob, JobRecords, JobStatus, utc_timestamp
from service.job_worker import IngestRunner, Progress, run_job

# The record model and the worker live in their own modules; importers keep these names here.
__all__ = [
    "COUNT_FIELDS",
    "IngestJob",
    "IngestJobs",
    "IngestRunner",
    "JobConflict",
    "JobSlot",
    "JobStatus",
    "Progress",
]

_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


class JobConflict(AppError):
    status_code = 409
    code = "ingest_running"


class IngestJobs:
    """Submits ingest jobs for one collection and answers what became of them."""

    def __init__(
        self,
        store: Callable[[], ProductStore],
        collection: str,
        run: IngestRunner,
        *,
        lock_file: Path | None = None,
        lease_s: float = 30.0,
        on_finish: Callable[[IngestJob], None] | None = None,
    ) -> None:
        self._store = store
        self.collection = collection
        self.lock_path = lock_file
        self.lease_s = lease_s
        self._run = run
        self._on_finish = on_finish
        self._jobs: dict[str, IngestJob] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._guard = threading.Lock()
        self._records = JobRecords(store, collection)

    @contextlib.contextmanager
    def reserve(self) -> Iterator[JobSlot]:
        """Hold the collection's lock while the request prepares its files (409 if taken).

        The lock passes to the worker when :meth:`JobSlot.start` is called; otherwise it is
        released when the block ends (a refused upload leaves no job behind).
        """
        store = self._store()
        lock = IngestLock(store.meta, ttl_s=self.lease_s, lock_file=self.lock_path, kind="api")
        try:
            lock.acquire()
        except LockHeld as exc:
            job = exc.holder.get("job_id")
            running = f" (job {job})" if job else f" ({exc.holder.get('kind', 'aisle ingest')})"
            raise JobConflict(
                f"an ingest job is already running for collection {self.collection!r}{running}; "
                "wait for it to finish"
            ) from None
        except StoreError as exc:
            raise ServiceUnavailable(str(exc), code="store_unavailable") from exc
        slot = JobSlot(self, lock)
        try:
            yield slot
        finally:
            if not slot.started:
                lock.release()

    def get(self, job_id: str) -> IngestJob | None:
        if not _JOB_ID.match(job_id):
            return None
        with self._guard:
            job = self._jobs.get(job_id)
        if job is not None:
            return job
        try:
            return self._records.load(job_id)
        except StoreError as exc:
            raise ServiceUnavailable(str(exc), code="store_unavailable") from exc

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until the job's worker thread ends (for shutdown and tests)."""
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)

    def running(self) -> list[str]:
        with self._guard:
            return [jid for jid, job in self._jobs.items() if job.status in {"queued", "running"}]

    # -- internals ------------------------------------------------------------------------------
    def _start(
        self,
        lock: IngestLock,
        files: list[Path],
        *,
        display: dict[str, str],
        source: Literal["upload", "paths"],
        delete_missing: bool,
    ) -> IngestJob:
        job = IngestJob(
            job_id=uuid.uuid4().hex,
            collection=self.collection,
            status="queued",
            source=source,
            files=[display.get(str(path), path.name) for path in files],
            delete_missing=delete_missing,
            created_at=utc_timestamp(),
            owner=lock.owner,
        )
        lock.update(job_id=job.job_id)
        with self._guard:
            self._jobs[job.job_id] = job
        self._records.save(job)
        thread = threading.Thread(
            target=self._work,
            args=(job, lock, files, display),
            name=f"ingest-{job.job_id[:8]}",
            daemon=True,
        )
        self._threads[job.job_id] = thread
        thread.start()
        return job

    def _work(
        self, job: IngestJob, lock: IngestLock, files: list[Path], display: dict[str, str]
    ) -> None:
        run_job(
            job,
            lock,
            files,
            display,
            run=self._run,
            records=self._records,
            on_finish=self._on_finish,
        )


class JobSlot:
    """The reserved right to start one job (see :meth:`IngestJobs.reserve`)."""

    def __init__(self, jobs: IngestJobs, lock: IngestLock) -> None:
        self._jobs = jobs
        self._lock = lock
        self.started = False

    def start(
        self,
        files: list[Path],
        *,
        display: dict[str, str],
        source: Literal["upload", "paths"],
        delete_missing: bool,
    ) -> IngestJob:
        if self.started:
            raise RuntimeError("this slot already started a job")
        self.started = True
        try:
            return self._jobs._start(
                self._lock, files, display=display, source=source, delete_missing=delete_missing
            )
        except StoreError as exc:
            self._lock.release()
            raise ServiceUnavailable(str(exc), code="store_unavailable") from exc
        except BaseException:
            self._lock.release()
            raise
