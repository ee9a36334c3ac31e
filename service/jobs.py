"""Ingest jobs: one at a time per collection, run in a worker thread, recorded in the store.

The one-at-a-time lock is the store's ingest lease (``catalog.lease``), the same one
``aisle ingest`` takes, plus an ``flock`` beside an embedded store; job records are
``job:<id>`` records of ``store.meta``. So replicas that share nothing but Chroma refuse a
second job (409) and answer ``GET /v1/ingest/{id}`` for a job any of them runs; a job whose
process died (its lease expired) is reported as failed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from catalog.errors import StoreError
from catalog.lease import IngestLock, LeaseLost, LockHeld, current_holder
from catalog.store import ProductStore
from service.errors import AppError, ServiceUnavailable

log = logging.getLogger(__name__)

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
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_PROGRESS_SAVE_S = 2.0  # other replicas read progress from the store: a write this often

# progress(stage, done, total), as the pipeline reports it.
Progress = Callable[[str, int, int], None]
# (files, delete_missing, progress, lock) -> the pipeline's IngestSummary (with to_dict()).
IngestRunner = Callable[[list[Path], bool, Progress, IngestLock], Any]


class JobConflict(AppError):
    status_code = 409
    code = "ingest_running"


def _now() -> str:
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
            return self._load(job_id)
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
            created_at=_now(),
            owner=lock.owner,
        )
        lock.update(job_id=job.job_id)
        with self._guard:
            self._jobs[job.job_id] = job
        self._save(job)
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
        try:
            job.status = "running"
            job.started_at = _now()
            self._save_quietly(job)
            log.info(
                "ingest job %s started",
                job.job_id,
                extra={"job_id": job.job_id, "files": job.files},
            )
            try:
                summary = self._run(files, job.delete_missing, self._progress(job), lock)
                report = summary.to_dict() if hasattr(summary, "to_dict") else dict(summary)
                job.counts = {name: int(report.get(name) or 0) for name in COUNT_FIELDS}
                job.errors = [_displayed(error, display) for error in report.get("errors", [])]
                job.status = "succeeded"
            except Exception as exc:  # the job fails; the service keeps serving
                log.exception("ingest job %s failed", job.job_id, extra={"job_id": job.job_id})
                job.status = "failed"
                reason = "the ingest lock was lost" if isinstance(exc, LeaseLost) else ""
                job.message = reason or _hide_paths(f"{type(exc).__name__}: {exc}", display)
            job.finished_at = _now()
            self._save_quietly(job)
            log.info(
                "ingest job %s %s",
                job.job_id,
                job.status,
                extra={"job_id": job.job_id, "counts": job.counts},
            )
        finally:
            lock.release()
        if self._on_finish is not None:
            try:
                self._on_finish(job)
            except Exception:
                log.exception("ingest job %s: after-job hook failed", job.job_id)

    def _progress(self, job: IngestJob) -> Progress:
        saved_at = [0.0]

        def report(stage: str, done: int, total: int) -> None:
            stage_changed = job.progress is None or job.progress.get("stage") != stage
            job.progress = {"stage": stage, "done": done, "total": total}
            now = time.monotonic()
            if stage_changed or now - saved_at[0] >= _PROGRESS_SAVE_S:
                saved_at[0] = now
                self._save_quietly(job)

        return report

    def _save(self, job: IngestJob) -> None:
        self._store().meta.put(f"job:{job.job_id}", job.to_dict())

    def _save_quietly(self, job: IngestJob) -> None:
        try:
            self._save(job)
        except (StoreError, AppError) as exc:  # the local record stays; GET here still works
            log.warning("cannot record ingest job %s: %s", job.job_id, exc)

    def _load(self, job_id: str) -> IngestJob | None:
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


def _displayed(error: Any, display: dict[str, str]) -> dict[str, Any]:
    """An error with the operator's name for the file, never the server's path."""
    data = error.to_dict() if hasattr(error, "to_dict") else dict(error)
    file = str(data.get("file", ""))
    data["file"] = display.get(file, _hide_paths(file, display))
    data["reason"] = _hide_paths(str(data.get("reason", "")), display)
    return {"file": data["file"], "line": data.get("line"), "reason": data["reason"]}


def _hide_paths(text: str, display: dict[str, str]) -> str:
    for server_path in sorted(display, key=len, reverse=True):
        text = text.replace(server_path, display[server_path])
    return text
