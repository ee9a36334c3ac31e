"""API keys, per-client rate limits, request body limits and CORS.

One ASGI middleware does the checks before any endpoint runs, so a refused request costs
nothing (no body is read, no model is touched). Every refusal is the JSON error shape.

Rate limits use the ``limits`` library, keyed by API key, else by client address. The address
is the TCP peer unless the peer is a configured trusted proxy (``AISLE_API__TRUSTED_PROXIES``):
then it is the right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy, so a
client cannot pick its own bucket by sending the header. Counters live in
``AISLE_API__RATE_LIMIT_STORAGE`` (memory: per process; replicas need a shared storage such as
``redis://`` for one global limit).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import math
import time
from collections.abc import Callable, Sequence

from limits import RateLimitItemPerMinute
from limits.storage import MovingWindowSupport, storage_from_string
from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.strategies import RateLimiter as LimitStrategy
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aisle.settings import Settings
from service.errors import error_body

INGEST_PREFIX = "/v1/ingest"
# Shopper endpoints that always need a key when keys are configured.
SHOPPER_PREFIXES = ("/v1/search", "/v1/chat")
# The rest of the catalog (and the OpenAI-compatible /v1/models): keyed unless the operator
# turns AISLE_API__PROTECT_CATALOG off.
CATALOG_PREFIXES = ("/v1/products", "/v1/facets", "/v1/models")
KEYED_PREFIXES = SHOPPER_PREFIXES + CATALOG_PREFIXES
# Everything under /v1 except the operator API is rate limited (the admin token guards that).
LIMITED_PREFIX = "/v1/"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _has_prefix(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def keyed_prefixes(settings: Settings) -> tuple[str, ...]:
    """The paths that need an API key under these settings (none without keys)."""
    if not settings.api_keys:
        return ()
    return KEYED_PREFIXES if settings.catalog_protected else SHOPPER_PREFIXES


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


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client's address: the peer, or what trusted proxies say it forwarded for."""
    if not peer or not trusted or not _is_trusted(peer, trusted):
        return peer or "-"
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _parse_ip(hop):
            return peer  # a malformed chain: trust nothing in it
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    parsed = _parse_ip(address)
    return parsed is not None and any(parsed in network for network in trusted)


class RateLimiter:
    """``per_minute`` requests a minute per client, in ``storage``: an exact moving window
    where the storage supports one (memory, Redis), else limits' sliding-window counter, an
    approximation that may let a request more through right after a minute boundary."""

    def __init__(self, per_minute: int, storage: str = "memory://") -> None:
        self.item = RateLimitItemPerMinute(per_minute)
        backend = storage_from_string(storage)
        self._strategy: LimitStrategy = (
            MovingWindowRateLimiter(backend)
            if isinstance(backend, MovingWindowSupport)
            else SlidingWindowCounterRateLimiter(backend)
        )

    def acquire(self, client: str) -> float:
        """0 when the request may go; otherwise the seconds until it could."""
        if self._strategy.hit(self.item, "aisle", client):
            return 0.0
        reset = self._strategy.get_window_stats(self.item, "aisle", client).reset_time
        return max(reset - time.time(), 1.0)


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
        self.keyed = keyed_prefixes(settings)
        self.max_body_bytes = settings.api.max_body_bytes
        self.max_upload_bytes = settings.api.max_upload_bytes
        per_minute = settings.api.rate_limit_per_minute
        storage = settings.api.rate_limit_storage
        self.limiter = RateLimiter(per_minute, storage) if per_minute > 0 else None
        self.trusted = [
            ipaddress.ip_network(item, strict=False) for item in settings.api.trusted_proxies
        ]
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
        keyed = any(_has_prefix(path, prefix) for prefix in self.keyed)
        if keyed and valid_key is None:
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
            if valid_key:
                who = f"key:{key_id(valid_key)}"
            else:
                peer = scope.get("client")
                address = client_address(
                    peer[0] if peer else None, headers.get("x-forwarded-for"), self.trusted
                )
                who = f"ip:{address}"
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
    "client_address",
    "cors_options",
    "key_id",
    "keyed_prefixes",
    "matches_secret",
    "presented_credential",
]
