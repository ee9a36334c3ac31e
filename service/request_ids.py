"""Request ids: where a request's id comes from and where it is kept while it is served.

The id lives in a context variable, so every log line written while serving a request
carries it without being handed the request (see :class:`service.json_logs.JsonFormatter`).
"""

from __future__ import annotations

import contextvars
import re
import uuid

from starlette.types import Scope

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is echoed only when it is short and plain (it ends up in logs and headers).
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "aisle_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request being served (None outside a request)."""
    return request_id_var.get()


def request_id_for(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is acceptable, else a new random id."""
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1").strip()
            if _CLIENT_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex
