"""Operations building blocks without the app: rate limiter, JSON logs, job bookkeeping."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from service.jobs import IngestJobs, JobConflict
from service.observability import JsonFormatter, Metrics, request_id_var
from service.security import RateLimiter, key_id, presented_credential


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_a_burst_then_refills_per_client() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("a")
    assert wait == pytest.approx(20.0)  # one token every 60/3 s
    assert limiter.acquire("b") == 0.0  # another client has its own bucket
    clock.now += 20.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0


def test_credentials_are_read_from_either_header_and_keys_are_never_echoed() -> None:
    assert presented_credential({"x-api-key": " k1 "}) == "k1"
    assert presented_credential({"authorization": "Bearer k2"}) == "k2"
    assert presented_credential({"authorization": "Basic k3"}) is None
    assert presented_credential({}) is None
    assert len(key_id("secret")) == 12 and "secret" not in key_id("secret")


def test_json_formatter_masks_secrets_and_adds_the_request_id() -> None:
    formatter = JsonFormatter(secrets=["hunter2-admin", "abc"])  # too short to mask safely
    record = logging.LogRecord("aisle.test", logging.INFO, __file__, 1, "token %s", None, None)
    record.args = ("hunter2-admin",)
    record.route = "/v1/search"
    token = request_id_var.set("req-1")
    try:
        entry = json.loads(formatter.format(record))
    finally:
        request_id_var.reset(token)
    assert entry["message"] == "token ***"
    assert entry["request_id"] == "req-1" and entry["route"] == "/v1/search"
    assert {"ts", "level", "logger"} <= set(entry)


def test_metrics_registries_are_per_instance() -> None:
    first, second = Metrics(), Metrics()
    first.record_refusal("extractive")
    first.record_ingest("succeeded", {"added": 2, "chunks_embedded": 5})
    assert b'aisle_refusals_total{backend="extractive"} 1.0' in first.render()
    assert b'aisle_ingest_products_total{outcome="added"} 2.0' in first.render()
    assert b"aisle_refusals_total{" not in second.render()


class Summary:
    def __init__(self, **counts: Any) -> None:
        self.counts = counts

    def to_dict(self) -> dict[str, Any]:
        return {**self.counts, "errors": [{"file": "/srv/x/a.json", "line": 3, "reason": "bad"}]}


def test_jobs_run_one_at_a_time_and_report_errors_by_display_name(tmp_path: Path) -> None:
    gate = threading.Event()

    def run(files: list[Path], delete_missing: bool, progress: Any) -> Summary:
        progress("writing", 1, 2)
        gate.wait(10)
        return Summary(added=1, failed=1)

    jobs = IngestJobs(tmp_path / "jobs", "products", run)
    with jobs.reserve() as slot:
        job = slot.start(
            [Path("/srv/x/a.json")],
            display={"/srv/x/a.json": "a.json"},
            source="paths",
            delete_missing=True,
        )
    assert jobs.running() == [job.job_id]
    with pytest.raises(JobConflict, match=job.job_id), jobs.reserve():
        pass
    gate.set()
    jobs.wait(job.job_id, 10)
    done = jobs.get(job.job_id)
    assert done is not None and done.status == "succeeded"
    assert jobs.running() == []
    assert done.counts is not None and done.counts["added"] == 1
    assert done.errors == [{"file": "a.json", "line": 3, "reason": "bad"}]
    # The record on disk is what another replica reads.
    other = IngestJobs(tmp_path / "jobs", "products", run)
    assert other.get(job.job_id).status == "succeeded"  # type: ignore[union-attr]
    with jobs.reserve():  # the lock is free again
        pass


def test_a_refused_request_releases_the_lock_and_a_dead_job_reads_as_interrupted(
    tmp_path: Path,
) -> None:
    jobs = IngestJobs(tmp_path / "jobs", "products", lambda *a: Summary())
    with pytest.raises(ValueError), jobs.reserve():
        raise ValueError("upload refused")
    with jobs.reserve():
        pass
    stale = {
        "job_id": "c" * 32,
        "collection": "products",
        "status": "running",
        "source": "upload",
        "files": ["a.json"],
        "delete_missing": True,
        "created_at": "2026-01-01T00:00:00Z",
    }
    (tmp_path / "jobs" / f"{'c' * 32}.json").write_text(json.dumps(stale), encoding="utf-8")
    job = jobs.get("c" * 32)
    assert job is not None and job.status == "failed" and "interrupted" in (job.message or "")
    assert jobs.get("../../etc/passwd") is None


def test_a_failing_pipeline_fails_the_job_without_leaking_server_paths(tmp_path: Path) -> None:
    def run(files: list[Path], delete_missing: bool, progress: Any) -> Summary:
        raise RuntimeError(f"cannot read {files[0]}")

    jobs = IngestJobs(tmp_path / "jobs", "products", run)
    with jobs.reserve() as slot:
        job = slot.start(
            [Path("/srv/up/a.json")],
            display={"/srv/up/a.json": "a.json"},
            source="upload",
            delete_missing=False,
        )
    jobs.wait(job.job_id, 10)
    done = jobs.get(job.job_id)
    assert done is not None and done.status == "failed"
    assert done.message == "RuntimeError: cannot read a.json"
