"""Ingest jobs: one at a time per collection, run in a worker thread, recorded on disk.

The per-collection lock is an ``flock`` on a file under ``data_dir/jobs``: it holds across
threads and across API processes sharing the data dir, and the kernel drops it when a process
dies. Job records are JSON files there too, so any replica can answer ``GET /v1/ingest/{id}``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from service.errors import AppError

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

# progress(stage, done, total), as the pipeline reports it.
Progress = Callable[[str, int, int], None]
# (files, delete_missing, progress) -> the pipeline's IngestSummary (anything with to_dict()).
IngestRunner = Callable[[list[Path], bool, Progress], Any]


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _CollectionLock:
    """An exclusive, non-blocking ``flock``; the file names the job holding it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def write_holder(self, job_id: str) -> None:
        assert self._fd is not None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, job_id.encode(), 0)

    def holder(self) -> str | None:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return text if _JOB_ID.match(text) else None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class IngestJobs:
    """Submits ingest jobs for one collection and answers what became of them."""

    def __init__(
        self,
        jobs_dir: Path,
        collection: str,
        run: IngestRunner,
        on_finish: Callable[[IngestJob], None] | None = None,
    ) -> None:
        self.jobs_dir = Path(jobs_dir)
        self.collection = collection
        self._run = run
        self._on_finish = on_finish
        self._jobs: dict[str, IngestJob] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._guard = threading.Lock()

    @property
    def lock_path(self) -> Path:
        return self.jobs_dir / f"{self.collection}.lock"

    @contextlib.contextmanager
    def reserve(self) -> Iterator[JobSlot]:
        """Hold the collection's lock while the request prepares its files (409 if taken).

        The lock passes to the worker when :meth:`JobSlot.start` is called; otherwise it is
        released when the block ends (a refused upload leaves no job behind).
        """
        lock = _CollectionLock(self.lock_path)
        if not lock.try_acquire():
            holder = lock.holder()
            running = f" (job {holder})" if holder else ""
            raise JobConflict(
                f"an ingest job is already running for collection {self.collection!r}{running}; "
                "wait for it to finish"
            )
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
        return self._load(job_id)

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
        lock: _CollectionLock,
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
        )
        lock.write_holder(job.job_id)
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
        self, job: IngestJob, lock: _CollectionLock, files: list[Path], display: dict[str, str]
    ) -> None:
        try:
            job.status = "running"
            job.started_at = _now()
            self._save(job)
            log.info(
                "ingest job %s started",
                job.job_id,
                extra={"job_id": job.job_id, "files": job.files},
            )
            try:
                summary = self._run(files, job.delete_missing, self._progress(job))
                report = summary.to_dict() if hasattr(summary, "to_dict") else dict(summary)
                job.counts = {name: int(report.get(name) or 0) for name in COUNT_FIELDS}
                job.errors = [_displayed(error, display) for error in report.get("errors", [])]
                job.status = "succeeded"
            except Exception as exc:  # the job fails; the service keeps serving
                log.exception("ingest job %s failed", job.job_id, extra={"job_id": job.job_id})
                job.status = "failed"
                job.message = _hide_paths(f"{type(exc).__name__}: {exc}", display)
            job.finished_at = _now()
            self._save(job)
            log.info(
                "ingest job %s %s",
                job.job_id,
                job.status,
                extra={"job_id": job.job_id, "counts": job.counts},
            )
            if self._on_finish is not None:
                try:
                    self._on_finish(job)
                except Exception:
                    log.exception("ingest job %s: after-job hook failed", job.job_id)
        finally:
            lock.release()

    def _progress(self, job: IngestJob) -> Progress:
        def report(stage: str, done: int, total: int) -> None:
            stage_changed = job.progress is None or job.progress.get("stage") != stage
            job.progress = {"stage": stage, "done": done, "total": total}
            if stage_changed:  # other replicas read the file; a write per stage is enough
                self._save(job)

        return report

    def _path(self, job_id: str) -> Path:
        return self.jobs_dir / f"{job_id}.json"

    def _save(self, job: IngestJob) -> None:
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        staging = self._path(job.job_id).with_suffix(".tmp")
        staging.write_text(json.dumps(job.to_dict()), encoding="utf-8")
        os.replace(staging, self._path(job.job_id))

    def _load(self, job_id: str) -> IngestJob | None:
        try:
            data = json.loads(self._path(job_id).read_text(encoding="utf-8"))
            job = IngestJob(**data)
        except (OSError, ValueError, TypeError):
            return None
        if job.collection != self.collection:
            return None
        if job.status in {"queued", "running"}:
            # Another replica may be running it; if nobody holds the lock, its process died.
            probe = _CollectionLock(self.lock_path)
            if probe.try_acquire():
                probe.release()
                job.status = "failed"
                job.message = "interrupted: the server running the job stopped"
        return job


class JobSlot:
    """The reserved right to start one job (see :meth:`IngestJobs.reserve`)."""

    def __init__(self, jobs: IngestJobs, lock: _CollectionLock) -> None:
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
