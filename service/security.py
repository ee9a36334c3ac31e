"""API keys, per-client rate limits, request body limits and CORS.

One ASGI middleware does the checks before any endpoint runs, so a refused request costs
nothing (no body is read, no model is touched). Every refusal is the JSON error shape.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aisle.settings import Settings
from service.errors import error_body

INGEST_PREFIX = "/v1/ingest"
# Shopper endpoints that need a key when keys are configured.
KEYED_PREFIXES = ("/v1/search", "/v1/chat")
# Everything under /v1 except the operator API is rate limited (the admin token guards that).
LIMITED_PREFIX = "/v1/"
_MAX_BUCKETS = 50_000


def _has_prefix(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def key_id(key: str) -> str:
    """A short, non-reversible name for a key: what logs and rate-limit buckets use."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def presented_credential(headers: dict[str, str]) -> str | None:
    """The key in ``X-API-Key``, else the token of ``Authorization: Bearer``."""
    if headers.get("x-api-key"):
        return headers["x-api-key"].strip()
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def matches_secret(candidate: str | None, secret: str) -> bool:
    if candidate is None:
        return False
    return hmac.compare_digest(candidate.encode(), secret.encode())


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per client: ``per_minute`` requests a minute, bursts up to the same."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float:
        """0 when the request may go; otherwise the seconds until it could."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= _MAX_BUCKETS:
                    self._forget_idle(now)
                bucket = self._buckets[client] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled completely carries no information.
        full_after = self.capacity / self.rate
        for client in [c for c, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[client]
        if len(self._buckets) >= _MAX_BUCKETS:  # still full: forget the oldest half
            by_age = sorted(self._buckets, key=lambda c: self._buckets[c].updated)
            for client in by_age[: len(by_age) // 2]:
                del self._buckets[client]


class _BodyTooLarge(Exception):
    pass


class SecurityMiddleware:
    """Body size limit, API keys and rate limits for the HTTP API."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        on_reject: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self.app = app
        self.api_keys = [key.get_secret_value() for key in settings.api_keys]
        self.max_body_bytes = settings.api.max_body_bytes
        self.max_upload_bytes = settings.api.max_upload_bytes
        per_minute = settings.api.rate_limit_per_minute
        self.limiter = RateLimiter(per_minute) if per_minute > 0 else None
        self.on_reject = on_reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        limit = self.max_upload_bytes if _has_prefix(path, INGEST_PREFIX) else self.max_body_bytes

        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send, 413, "payload_too_large", _too_large(limit))
            return

        credential = presented_credential(headers)
        valid_key = next((k for k in self.api_keys if matches_secret(credential, k)), None)
        keyed = any(_has_prefix(path, prefix) for prefix in KEYED_PREFIXES)
        if self.api_keys and keyed and valid_key is None:
            reason = "missing" if credential is None else "invalid"
            await self._refuse(
                send,
                401,
                "unauthorized",
                f"an API key is required ({reason}): send it as X-API-Key or Authorization: Bearer",
                {"www-authenticate": "Bearer"},
            )
            return

        if (
            self.limiter is not None
            and path.startswith(LIMITED_PREFIX)
            and not _has_prefix(path, INGEST_PREFIX)
        ):
            client = scope.get("client")
            who = f"key:{key_id(valid_key)}" if valid_key else f"ip:{client[0] if client else '-'}"
            wait = self.limiter.acquire(who)
            if wait > 0:
                retry_after = max(1, math.ceil(wait))
                await self._refuse(
                    send,
                    429,
                    "rate_limited",
                    f"too many requests: retry after {retry_after} s",
                    {"retry-after": str(retry_after)},
                )
                return

        await self._call_with_body_limit(scope, receive, send, limit)

    async def _call_with_body_limit(
        self, scope: Scope, receive: Receive, send: Send, limit: int
    ) -> None:
        """Count the bytes a body without (or with a false) Content-Length really has."""
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # Whatever the endpoint made of the broken body, the client learns the cause.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(send, 413, "payload_too_large", _too_large(limit))
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not started:
                await self._refuse(send, 413, "payload_too_large", _too_large(limit))
        except Exception:
            if exceeded and started:
                return  # the 413 is already out; the endpoint's failure is a consequence
            raise

    async def _refuse(
        self,
        send: Send,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.on_reject(code)
        body = json.dumps(error_body(code, message)).encode()
        raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
        if status == 413:
            raw_headers.append((b"connection", b"close"))  # the unread body is not wanted
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> str:
    return f"the request body is larger than the limit of {limit} bytes"


def cors_options(settings: Settings) -> dict[str, object]:
    """Keyword arguments for Starlette's CORSMiddleware (only installed when origins are set)."""
    return {
        "allow_origins": list(settings.cors_origins),
        "allow_methods": ["GET", "POST", "OPTIONS"],
        "allow_headers": ["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
        "expose_headers": ["X-Request-ID", "Retry-After"],
        "allow_credentials": False,
        "max_age": 600,
    }


__all__ = [
    "CORSMiddleware",
    "RateLimiter",
    "SecurityMiddleware",
    "cors_options",
    "key_id",
    "matches_secret",
    "presented_credential",
]
