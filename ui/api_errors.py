"""What a failed API call becomes: one :class:`ApiError` with a message fit for a shopper.

Shared by the HTTP calls (ui/client.py) and the chat stream's events (ui/sse.py), so a
failure reads the same whether it came as a status code or as an ``error`` event.
"""

from __future__ import annotations

from typing import Any

import httpx

# Messages a shopper sees; the technical detail stays in ``ApiError.detail`` for logs.
UNREACHABLE = "The shop assistant is not reachable right now. Please try again in a moment."
UNAVAILABLE = "The shop assistant is unavailable right now. Please try again in a moment."
TIMED_OUT = "The shop assistant took too long to answer. Please try again."
BUSY = "The shop assistant is busy right now. Please try again in a few seconds."
SERVER_FAILED = "Something went wrong on our side. Please try again in a moment."
BAD_RESPONSE = "The shop assistant sent an answer I could not read. Please try again."


class ApiError(Exception):
    """A request to the API failed; ``message`` is fit for a shopper, ``detail`` for logs."""

    def __init__(
        self, code: str, message: str, *, status: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.detail = detail or message

    def __repr__(self) -> str:
        return f"ApiError(code={self.code!r}, status={self.status!r}, detail={self.detail!r})"


def bad_response(detail: str) -> ApiError:
    return ApiError("bad_response", BAD_RESPONSE, detail=detail)


def error_from_body(body: Any, status: int | None) -> ApiError:
    """Map the contract's ``{"error": {"code", "message"}}`` (or anything else) to ApiError."""
    error = body.get("error") if isinstance(body, dict) else None
    code = str(error.get("code") or "error") if isinstance(error, dict) else "http_error"
    detail = str(error.get("message") or "") if isinstance(error, dict) else ""
    detail = detail or (f"HTTP {status}" if status else "error event without a message")
    if status == 429 or code in {"busy", "too_many_requests", "rate_limited"}:
        message = BUSY
    elif status == 503 or code == "unavailable":
        message = UNAVAILABLE
    elif status is not None and 400 <= status < 500 and isinstance(error, dict) and detail:
        # 4xx messages say what was wrong with the request (e.g. a too-long question).
        message = f"That request was not accepted: {detail}"
    else:
        # 5xx and mid-stream failures: their detail is for the logs, not for shoppers.
        message = SERVER_FAILED
    return ApiError(code, message, status=status, detail=detail)


def error_from_response(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return error_from_body(body, status=response.status_code)


def transport_error(exc: httpx.HTTPError, url: str) -> ApiError:
    if isinstance(exc, httpx.TimeoutException):
        return ApiError("timeout", TIMED_OUT, detail=f"{url}: {type(exc).__name__}")
    return ApiError("unreachable", UNREACHABLE, detail=f"{url}: {type(exc).__name__}: {exc}")
