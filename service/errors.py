"""One error base for the service; every error leaves as ``{"error": {"code", "message"}}``.

Code below the HTTP edge raises :class:`AppError` subclasses; only the handlers installed by
:func:`install_error_handlers` know about status codes and JSON.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog.errors import StoreError
from catalog.where import FilterError

log = logging.getLogger(__name__)


class AppError(Exception):
    """An error a client may see: a stable ``code``, a message and an HTTP status."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers = headers or {}


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class UnsupportedFile(AppError):
    status_code = 415
    code = "unsupported_file"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class InvalidRequest(AppError):
    status_code = 422
    code = "invalid_request"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Busy(AppError):
    """Too many generations under way; the client should retry after a moment."""

    status_code = 429
    code = "busy"


class ServiceUnavailable(AppError):
    """A part the request needs (store, model server) is down."""

    status_code = 503
    code = "unavailable"


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _json(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def _describe_validation(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return 400, "malformed_json", "the request body is not valid JSON"
    parts = []
    for err in errors[:5]:
        # Drop the "body" prefix: clients know where their fields are.
        loc = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
        parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return 422, "invalid_request", "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure to the JSON error shape; never a traceback to the client."""

    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return _json(exc.status_code, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _describe_validation(exc)
        return _json(status, code, message)

    @app.exception_handler(ValidationError)
    async def _invalid_value(_: Request, exc: ValidationError) -> JSONResponse:
        # A value read from the request's words that no model accepts (a 400-digit price):
        # the request is what is wrong, not the service.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ())) or 'value'}: {err.get('msg')}"
            for err in exc.errors()[:3]
        )
        return _json(422, "invalid_value", f"the request holds a value out of range ({problems})")

    @app.exception_handler(FilterError)
    async def _invalid_filter(_: Request, exc: FilterError) -> JSONResponse:
        return _json(422, "invalid_value", str(exc))

    @app.exception_handler(StoreError)
    async def _store_down(_: Request, exc: StoreError) -> JSONResponse:
        return _json(503, "store_unavailable", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error" if exc.status_code < 500 else "internal")
        message = str(exc.detail) if exc.detail else code.replace("_", " ")
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint"
        return _json(exc.status_code, code, message, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return _json(500, "internal_error", "an internal error occurred; it has been logged")
