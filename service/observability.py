"""Prometheus metrics, JSON logs and request ids.

Each app owns one :class:`Metrics` (its own ``CollectorRegistry``, so several apps in one
process never clash); the chat path records its events through that object's small methods.
Logs are one JSON object per line; they carry the request id and never a secret or a body.

The pieces live in their own modules; this one keeps the names the rest of the service
imports, so callers need not know the split:

- :mod:`service.metrics`: :class:`Metrics` and the ``/metrics`` content type;
- :mod:`service.json_logs`: :class:`JsonFormatter` and :func:`configure_logging`;
- :mod:`service.request_ids`: the request id of the request being served;
- :mod:`service.observability_middleware`: the outermost layer (id, access log, counts).
"""

from __future__ import annotations

from service.json_logs import JsonFormatter, configure_logging
from service.metrics import METRICS_CONTENT_TYPE, Metrics
from service.observability_middleware import ObservabilityMiddleware, access_log, route_template
from service.request_ids import REQUEST_ID_HEADER, current_request_id, request_id_var

__all__ = [
    "METRICS_CONTENT_TYPE",
    "REQUEST_ID_HEADER",
    "JsonFormatter",
    "Metrics",
    "ObservabilityMiddleware",
    "access_log",
    "configure_logging",
    "current_request_id",
    "request_id_var",
    "route_template",
]
