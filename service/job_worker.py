"""The body of an ingest job's worker thread: run the pipeline, record the outcome.

Whatever happens, the worker releases the job's ingest lock before the after-job hook runs,
so a hook that fails (or is slow) never keeps the collection locked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalog.lease import IngestLock, LeaseLost
from service.job_records import COUNT_FIELDS, IngestJob, JobRecords, utc_timestamp

# The logger of service.jobs, as before the split: log records keep their logger name.
log = logging.getLogger("service.jobs")

_PROGRESS_SAVE_S = 2.0  # other replicas read progress from the store: a write this often

# progress(stage, done, total), as the pipeline reports it.
Progress = Callable[[str, int, int], None]
# (files, delete_missing, progress, lock) -> the pipeline's IngestSummary (with to_dict()).
IngestRunner = Callable[[list[Path], bool, Progress, IngestLock], Any]


def run_job(
    job: IngestJob,
    lock: IngestLock,
    files: list[Path],
    display: dict[str, str],
    *,
    run: IngestRunner,
    records: JobRecords,
    on_finish: Callable[[IngestJob], None] | None,
) -> None:
    """Run ``job`` to its end in this thread; ``lock`` is released when it ends."""
    try:
        job.status = "running"
        job.started_at = utc_timestamp()
        records.save_quietly(job)
        log.info(
            "ingest job %s started",
            job.job_id,
            extra={"job_id": job.job_id, "files": job.files},
        )
        try:
            summary = run(files, job.delete_missing, _progress(job, records), lock)
            report = summary.to_dict() if hasattr(summary, "to_dict") else dict(summary)
            job.counts = {name: int(report.get(name) or 0) for name in COUNT_FIELDS}
            job.errors = [_displayed(error, display) for error in report.get("errors", [])]
            job.status = "succeeded"
        except Exception as exc:  # the job fails; the service keeps serving
            log.exception("ingest job %s failed", job.job_id, extra={"job_id": job.job_id})
            job.status = "failed"
            reason = "the ingest lock was lost" if isinstance(exc, LeaseLost) else ""
            job.message = reason or _hide_paths(f"{type(exc).__name__}: {exc}", display)
        job.finished_at = utc_timestamp()
        records.save_quietly(job)
        log.info(
            "ingest job %s %s",
            job.job_id,
            job.status,
            extra={"job_id": job.job_id, "counts": job.counts},
        )
    finally:
        lock.release()
    if on_finish is not None:
        try:
            on_finish(job)
        except Exception:
            log.exception("ingest job %s: after-job hook failed", job.job_id)


def _progress(job: IngestJob, records: JobRecords) -> Progress:
    saved_at = [0.0]

    def report(stage: str, done: int, total: int) -> None:
        stage_changed = job.progress is None or job.progress.get("stage") != stage
        job.progress = {"stage": stage, "done": done, "total": total}
        now = time.monotonic()
        if stage_changed or now - saved_at[0] >= _PROGRESS_SAVE_S:
            saved_at[0] = now
            records.save_quietly(job)

    return report


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
