"""Operations building blocks without the app: rate limiter, JSON logs, job bookkeeping."""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from catalog.lease import IngestLock, LockHeld
from catalog.store import ProductStore
from service.jobs import IngestJobs, JobConflict
from service.observability import JsonFormatter, Metrics, request_id_var
from service.security import RateLimiter, client_address, key_id, presented_credential


def test_rate_limiter_allows_per_minute_requests_then_says_when_to_retry() -> None:
    limiter = RateLimiter(per_minute=3)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("a")
    assert 1.0 <= wait <= 60.0
    assert limiter.acquire("b") == 0.0  # another client has its own window


def test_client_address_comes_from_forwarded_for_only_behind_a_trusted_proxy() -> None:
    proxies = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.168.1.5/32")]
    # A direct client cannot choose its bucket by sending the header.
    assert client_address("203.0.113.9", "198.51.100.1", proxies) == "203.0.113.9"
    assert client_address("203.0.113.9", "198.51.100.1", []) == "203.0.113.9"
    # Behind the proxy: the right-most hop that is not a proxy (a forged left part is ignored).
    assert client_address("10.1.2.3", "6.6.6.6, 198.51.100.1", proxies) == "198.51.100.1"
    assert client_address("10.1.2.3", "198.51.100.1, 192.168.1.5", proxies) == "198.51.100.1"
    assert client_address("10.1.2.3", None, proxies) == "10.1.2.3"
    assert client_address("10.1.2.3", "not-an-ip", proxies) == "10.1.2.3"


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


@pytest.fixture
def store(tmp_path: Path) -> ProductStore:
    """A real embedded Chroma: job records and the lock live in its metadata records."""
    return ProductStore.open(chroma_url="", data_dir=tmp_path, collection="products")


def _jobs(store: ProductStore, run: Any, tmp_path: Path) -> IngestJobs:
    return IngestJobs(lambda: store, "products", run, lock_file=tmp_path / "jobs" / "p.lock")


def test_jobs_run_one_at_a_time_and_report_errors_by_display_name(
    store: ProductStore, tmp_path: Path
) -> None:
    gate = threading.Event()

    def run(files: list[Path], delete_missing: bool, progress: Any, lock: Any) -> Summary:
        progress("writing", 1, 2)
        lock.check()
        gate.wait(10)
        return Summary(added=1, failed=1)

    jobs = _jobs(store, run, tmp_path)
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
    # A process with its own data dir (no shared flock) is refused by the store's lease.
    other = IngestJobs(lambda: store, "products", run)
    with pytest.raises(JobConflict, match=job.job_id), other.reserve():
        pass
    gate.set()
    jobs.wait(job.job_id, 10)
    done = jobs.get(job.job_id)
    assert done is not None and done.status == "succeeded"
    assert jobs.running() == []
    assert done.counts is not None and done.counts["added"] == 1
    assert done.errors == [{"file": "a.json", "line": 3, "reason": "bad"}]
    # The record in the store is what another replica reads.
    assert other.get(job.job_id).status == "succeeded"  # type: ignore[union-attr]
    with jobs.reserve():  # the lock is free again
        pass


def test_a_refused_request_releases_the_lock_and_a_dead_job_reads_as_interrupted(
    store: ProductStore, tmp_path: Path
) -> None:
    jobs = _jobs(store, lambda *a: Summary(), tmp_path)
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
        "owner": "d" * 32,  # a lease nobody holds any more
    }
    store.meta.put(f"job:{'c' * 32}", stale)
    job = jobs.get("c" * 32)
    assert job is not None and job.status == "failed" and "interrupted" in (job.message or "")
    assert jobs.get("../../etc/passwd") is None


def test_a_failing_pipeline_fails_the_job_without_leaking_server_paths(
    store: ProductStore, tmp_path: Path
) -> None:
    def run(files: list[Path], delete_missing: bool, progress: Any, lock: Any) -> Summary:
        raise RuntimeError(f"cannot read {files[0]}")

    jobs = _jobs(store, run, tmp_path)
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


def test_an_expired_lease_is_taken_over_once_and_a_live_one_is_not(
    store: ProductStore,
) -> None:
    now = [1000.0]
    first = IngestLock(store.meta, ttl_s=30, clock=lambda: now[0])
    first.acquire(job_id="a" * 32)
    with pytest.raises(LockHeld) as held:
        IngestLock(store.meta, ttl_s=30, clock=lambda: now[0]).acquire()
    assert held.value.holder["job_id"] == "a" * 32
    first._stop.set()  # the holder "dies": no more renewals
    now[0] += 31
    second = IngestLock(store.meta, ttl_s=30, clock=lambda: now[0])
    second.acquire()
    assert store.meta.get("lock")["owner"] == second.owner  # type: ignore[index]
    # A third process that also saw the expired lease cannot take it from the new holder.
    third = IngestLock(store.meta, ttl_s=30, clock=lambda: now[0])
    with pytest.raises(LockHeld):
        third.acquire()
    second.release()
    assert store.meta.get("lock") is None
