"""The outermost ASGI layer: request id, access log, request counts and latency."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics import Metrics
from service.request_ids import request_id_for, request_id_var

access_log = logging.getLogger("aisle.access")


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
        request_id = request_id_for(scope)
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
