"""Prometheus-style metrics of the service, on a registry each app owns.

Each app owns one :class:`Metrics` (its own ``CollectorRegistry``, so several apps in one
process never clash); the chat path records its events through that object's small methods.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest

METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """The service's Prometheus metrics on a registry of its own.

    Chat orchestration calls :meth:`observe_retrieval`, :meth:`observe_backend`,
    :meth:`record_refusal`, :meth:`record_guard_replacement`, :meth:`record_fallback` and
    :meth:`record_busy`; the ingest jobs call :meth:`record_ingest`; the middleware counts
    requests.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.requests = Counter(
            "aisle_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_latency = Histogram(
            "aisle_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "aisle_http_requests_in_flight", "Requests being served.", registry=registry
        )
        self.rejections = Counter(
            "aisle_http_rejections",
            "Requests refused before reaching an endpoint, by reason.",
            ["reason"],
            registry=registry,
        )
        self.retrieval_latency = Histogram(
            "aisle_retrieval_duration_seconds",
            "Hybrid retrieval time per chat or search request.",
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.backend_latency = Histogram(
            "aisle_backend_duration_seconds",
            "Answer generation time by backend and outcome (ok or error).",
            ["backend", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.refusals = Counter(
            "aisle_refusals",
            "Answers that refused (unsupported by the catalog).",
            ["backend"],
            registry=registry,
        )
        self.guard_replacements = Counter(
            "aisle_guard_replacements",
            "LLM answers the grounding guard replaced.",
            ["backend"],
            registry=registry,
        )
        self.fallbacks = Counter(
            "aisle_fallbacks",
            "Requests answered by the fallback because a backend failed, by backend and reason.",
            ["backend", "reason"],
            registry=registry,
        )
        self.busy = Counter(
            "aisle_backend_busy",
            "Generations refused at once because the concurrency limit was reached.",
            ["backend"],
            registry=registry,
        )
        self.ingest_jobs = Counter(
            "aisle_ingest_jobs", "Finished ingest jobs by status.", ["status"], registry=registry
        )
        self.ingest_products = Counter(
            "aisle_ingest_products",
            "Products handled by ingest jobs, by outcome (added, updated, ...).",
            ["outcome"],
            registry=registry,
        )
        self.ingest_chunks_embedded = Counter(
            "aisle_ingest_chunks_embedded", "Chunks embedded by ingest jobs.", registry=registry
        )
        self.ingest_running = Gauge(
            "aisle_ingest_jobs_running", "Ingest jobs running in this process.", registry=registry
        )

    # -- what the chat path records ---------------------------------------------------------
    def observe_retrieval(self, seconds: float) -> None:
        self.retrieval_latency.observe(max(seconds, 0.0))

    def observe_backend(self, backend: str, seconds: float, *, ok: bool = True) -> None:
        self.backend_latency.labels(backend, "ok" if ok else "error").observe(max(seconds, 0.0))

    def record_refusal(self, backend: str) -> None:
        self.refusals.labels(backend).inc()

    def record_guard_replacement(self, backend: str) -> None:
        self.guard_replacements.labels(backend).inc()

    def record_fallback(self, backend: str, reason: str) -> None:
        """``backend`` failed (``reason``: a short code such as timeout, unavailable, error)."""
        self.fallbacks.labels(backend, reason).inc()

    def record_busy(self, backend: str) -> None:
        self.busy.labels(backend).inc()

    # -- what the operations side records ---------------------------------------------------
    def record_rejection(self, reason: str) -> None:
        self.rejections.labels(reason).inc()

    def record_ingest(self, status: str, counts: dict[str, Any] | None) -> None:
        self.ingest_jobs.labels(status).inc()
        for outcome in ("added", "updated", "metadata_only", "unchanged", "deleted", "failed"):
            value = (counts or {}).get(outcome) or 0
            if value:
                self.ingest_products.labels(outcome).inc(value)
        embedded = (counts or {}).get("chunks_embedded") or 0
        if embedded:
            self.ingest_chunks_embedded.inc(embedded)

    def render(self) -> bytes:
        """The exposition text for ``GET /metrics``."""
        return bytes(_generate_latest(self.registry))
