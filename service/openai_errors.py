"""Errors of the OpenAI-compatible routes in OpenAI's shape:
``{"error": {"message", "type", "param", "code"}}`` with the right HTTP status.

The app's global handlers give Aisle's shape, so :class:`OpenAIRoute` renders the errors of
the OpenAI router itself (naming the parameter at fault when it is known), and
:class:`OpenAIErrorShape` rewrites the refusals that happen before any route runs (API key,
rate limit and body size in the edge middleware, unknown methods) on the OpenAI paths.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import AppError

_ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}


class OpenAIError(AppError):
    """An error naming the request parameter at fault (OpenAI's ``param``)."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status_code = status
        self.param = param


def error_type(status: int) -> str:
    """OpenAI's ``type`` for an HTTP status."""
    if status >= 500:
        return "server_error"
    return _ERROR_TYPES.get(status, "invalid_request_error")


def openai_error(
    status: int, code: str | None, message: str, param: str | None = None, headers: Any = None
) -> JSONResponse:
    detail = {"message": message, "type": error_type(status), "param": param, "code": code}
    return JSONResponse({"error": detail}, status_code=status, headers=headers)


def _loc(parts: tuple[Any, ...]) -> str:
    """("body", "messages", 0, "role") -> "messages[0].role"."""
    text = ""
    for part in parts:
        if part == "body":
            continue
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "body"


class OpenAIRoute(APIRoute):
    """Render this router's errors in OpenAI's shape, naming the parameter when known."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = exc.errors()
                if any(err.get("type") == "json_invalid" for err in errors):
                    return openai_error(400, "malformed_json", "the body is not valid JSON")
                first = errors[0] if errors else {}
                param = _loc(tuple(first.get("loc", ())))
                message = "; ".join(
                    f"{_loc(tuple(err.get('loc', ())))}: {err.get('msg', 'invalid')}"
                    for err in errors[:5]
                )
                return openai_error(422, "invalid_request", message or "invalid request", param)
            except AppError as exc:
                named = getattr(exc, "param", None)
                return openai_error(exc.status_code, exc.code, exc.message, named, exc.headers)

        return route


class OpenAIErrorShape:
    """Rewrite Aisle-shaped JSON errors on the paths ``applies_to`` accepts into OpenAI's
    shape; every other response passes untouched."""

    def __init__(self, app: ASGIApp, applies_to: Callable[[str], bool]) -> None:
        self.app = app
        self.applies_to = applies_to

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies_to(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = b""

        async def reshaping_send(message: Message) -> None:
            nonlocal held, body
            if message["type"] == "http.response.start" and message["status"] >= 400:
                held = message  # wait for the body
                return
            if message["type"] != "http.response.body" or held is None:
                await send(message)
                return
            body += message.get("body", b"")
            if message.get("more_body"):
                return
            new = _reshape(body, held["status"])
            headers = [(k, v) for k, v in held["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(new)).encode()))
            await send({**held, "headers": headers})
            await send({"type": "http.response.body", "body": new})

        await self.app(scope, receive, reshaping_send)


def _reshape(body: bytes, status: int) -> bytes:
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return body
    if not isinstance(error, dict) or "type" in error or "message" not in error:
        return body  # already OpenAI's shape, or not ours
    detail = {
        "message": error["message"],
        "type": error_type(status),
        "param": None,
        "code": error.get("code"),
    }
    return json.dumps({"error": detail}).encode()


def error_data(status: int, code: str | None, message: str) -> dict[str, str]:
    """An error as one server-sent event's data (a stream that fails after it began)."""
    detail = {"message": message, "type": error_type(status), "param": None, "code": code}
    return {"data": json.dumps({"error": detail})}
