"""Prometheus metrics, JSON logs and request ids.

Each app owns one :class:`Metrics` (its own ``CollectorRegistry``, so several apps in one
process never clash); the chat path records its events through that object's small methods.
Logs are one JSON object per line; they carry the request id and never a secret or a body.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
METRICS_CONTENT_TYPE = CONTENT_TYPE_LATEST
# A client's id is echoed only when it is short and plain (it ends up in logs and headers).
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "aisle_request_id", default=None
)

access_log = logging.getLogger("aisle.access")


def current_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return request_id_var.get()


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


# -- logging ----------------------------------------------------------------------------------
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "color_message"}  # uvicorn's ANSI-coloured copy of the message
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; secrets given at construction are masked wherever they appear."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        text = json.dumps(entry, default=str, ensure_ascii=False)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    _aisle_json = True

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """JSON lines on stderr from the root logger; calling again replaces the handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        # Ours from an earlier app, or a plain stderr handler (logging.basicConfig): replaced.
        # Handlers of other kinds (files, test capture) stay.
        plain = type(handler) is logging.StreamHandler and handler.stream in (
            sys.stderr,
            sys.__stderr__,
        )
        if getattr(handler, "_aisle_json", False) or plain:
            root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter(secrets))
    root.addHandler(handler)
    root.setLevel(level)
    # The access line below replaces uvicorn's plain-text one.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("httpx", "httpx2", "httpcore", "chromadb.telemetry"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# -- middleware -------------------------------------------------------------------------------
def route_template(scope: Scope) -> str:
    """The matched route's template (``/v1/ingest/{job_id}``), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if scope.get("endpoint") is not None:
        return "other"  # served by a route outside the API schema (docs assets...)
    # Refused before routing (401, 413, 429): match the documented paths instead.
    app = scope.get("app")
    request_path = scope.get("path", "")
    for pattern, template in _documented_paths(app):
        if pattern.match(request_path):
            return template
    return "unmatched"


def _documented_paths(app: Any) -> list[tuple[re.Pattern[str], str]]:
    state = getattr(app, "state", None)
    cached = getattr(state, "aisle_route_patterns", None)
    if cached is not None:
        return list(cached)
    try:
        paths = list(app.openapi().get("paths", {}))
    except Exception:  # no schema, no templates: the label says so
        return []
    patterns = [
        (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"), path)
        for path in paths
    ]
    if state is not None:
        state.aisle_route_patterns = patterns
    return patterns


class ObservabilityMiddleware:
    """Outermost layer: request id, access log, request counts and latency."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()
        self.metrics.in_flight.inc()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.in_flight.dec()
            route = route_template(scope)
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.request_latency.labels(method, route).observe(elapsed)
            client = scope.get("client")
            access_log.info(
                "%s %s %s",
                method,
                route,
                status,
                extra={
                    "event": "request",
                    "method": method,
                    "path": scope.get("path", ""),
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    "client": client[0] if client else None,
                    "request_id": request_id,
                },
            )
            request_id_var.reset(token)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _CLIENT_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex
