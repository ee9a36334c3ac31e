"""A small httpx client of the Aisle REST API, JSON and Server-Sent Events.

Every failure (connection refused, timeout, an error status, a malformed body, an ``error``
event mid-stream) becomes one :class:`ApiError` whose ``message`` can be shown to a shopper.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

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


@dataclass(frozen=True)
class SseMessage:
    """One dispatched Server-Sent Event (the wire format, before any meaning is given)."""

    event: str
    data: str
    id: str | None = None


def parse_sse(lines: Iterable[str]) -> Iterator[SseMessage]:
    """Turn ``text/event-stream`` lines (without line endings) into messages.

    Follows the HTML living standard: ``data:`` lines join with newlines, one space after
    the colon is dropped, lines starting with ``:`` are comments (keep-alive pings), a blank
    line dispatches, an event without data is not dispatched, unknown fields are ignored.
    """
    event = ""
    data: list[str] = []
    last_id: str | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield SseMessage(event=event or "message", data="\n".join(data), id=last_id)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\0" not in value:
            last_id = value
    # A stream that ends without the final blank line loses its last event (as in browsers).


@dataclass(frozen=True)
class SourcesEvent:
    """The products the answer is grounded on; arrives once, before any token."""

    sources: list[dict[str, Any]]


@dataclass(frozen=True)
class TokenEvent:
    text: str


@dataclass(frozen=True)
class DoneEvent:
    """The complete chat response, the same shape ``POST /v1/chat`` returns."""

    response: dict[str, Any]


@dataclass(frozen=True)
class ErrorEvent:
    error: ApiError = field(compare=False)


StreamEvent = SourcesEvent | TokenEvent | DoneEvent | ErrorEvent


def to_stream_event(message: SseMessage) -> StreamEvent | None:
    """Give a wire message its meaning in the chat protocol; unknown events are skipped."""
    try:
        payload = json.loads(message.data)
    except ValueError:
        return ErrorEvent(_bad_response(f"event {message.event!r} data is not JSON"))
    if message.event == "sources" and isinstance(payload, list):
        return SourcesEvent([item for item in payload if isinstance(item, dict)])
    if message.event == "token" and isinstance(payload, dict):
        return TokenEvent(str(payload.get("text", "")))
    if message.event == "done" and isinstance(payload, dict):
        return DoneEvent(payload)
    if message.event == "error":
        return ErrorEvent(_error_from_body(payload, status=None))
    if message.event in {"sources", "token", "done"}:
        return ErrorEvent(_bad_response(f"event {message.event!r} has an unexpected shape"))
    return None


def _bad_response(detail: str) -> ApiError:
    return ApiError("bad_response", BAD_RESPONSE, detail=detail)


def _error_from_body(body: Any, status: int | None) -> ApiError:
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


def _error_from_response(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return _error_from_body(body, status=response.status_code)


def _transport_error(exc: httpx.HTTPError, url: str) -> ApiError:
    if isinstance(exc, httpx.TimeoutException):
        return ApiError("timeout", TIMED_OUT, detail=f"{url}: {type(exc).__name__}")
    return ApiError("unreachable", UNREACHABLE, detail=f"{url}: {type(exc).__name__}: {exc}")


def clean_filters(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Drop unset fields; ``None`` when nothing is left, so the request omits ``filters``."""
    if not filters:
        return None
    kept = {key: value for key, value in filters.items() if value is not None and value != ""}
    return kept or None


class ApiClient:
    """Talks to one Aisle API. Thread-safe (one ``httpx.Client``); close it when done."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 180.0,
        connect_timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # A long read timeout: CPU-only LLM backends are slow. The stream pings meanwhile.
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            headers={"Accept": "application/json"},
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, self.base_url + path) from exc
        if response.status_code >= 400:
            raise _error_from_response(response)
        try:
            return response.json()
        except ValueError as exc:
            raise _bad_response(f"{path}: body is not JSON") from exc

    def health(self) -> bool:
        """True when the API answers ``/healthz``."""
        try:
            self._request("GET", "/healthz")
        except ApiError:
            return False
        return True

    def facets(self) -> dict[str, Any]:
        """Categories, brands, price range, configured backends and example questions."""
        result = self._request("GET", "/v1/facets")
        if not isinstance(result, dict):
            raise _bad_response("/v1/facets: not an object")
        return result

    def product(self, product_id: str) -> dict[str, Any]:
        result = self._request("GET", f"/v1/products/{quote(product_id, safe='')}")
        if not isinstance(result, dict):
            raise _bad_response("/v1/products: not an object")
        return result

    def search(
        self, query: str, *, k: int = 5, filters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"query": query, "k": k}
        if kept := clean_filters(filters):
            body["filters"] = kept
        result = self._request("POST", "/v1/search", body)
        if not isinstance(result, dict):
            raise _bad_response("/v1/search: not an object")
        return result

    def chat(
        self,
        message: str,
        *,
        history: list[dict[str, str]] | None = None,
        filters: dict[str, Any] | None = None,
        backend: str | None = None,
        **generation: float | int | None,
    ) -> dict[str, Any]:
        """One complete answer (``stream: false``)."""
        body = _chat_body(message, history, filters, backend, generation, stream=False)
        result = self._request("POST", "/v1/chat", body)
        if not isinstance(result, dict):
            raise _bad_response("/v1/chat: not an object")
        return result

    def stream_chat(
        self,
        message: str,
        *,
        history: list[dict[str, str]] | None = None,
        filters: dict[str, Any] | None = None,
        backend: str | None = None,
        **generation: float | int | None,
    ) -> Iterator[StreamEvent]:
        """Yield the answer's events as they arrive; the last one is always Done or Error.

        Nothing is raised: a refused connection, an error status, an ``error`` event, a
        broken or truncated stream all end the iteration with an ErrorEvent.
        """
        body = _chat_body(message, history, filters, backend, generation, stream=True)
        try:
            yield from self._stream_events(body)
        except ApiError as exc:
            yield ErrorEvent(exc)

    def _stream_events(self, body: dict[str, Any]) -> Iterator[StreamEvent]:
        url = self.base_url + "/v1/chat"
        try:
            with self._http.stream(
                "POST", "/v1/chat", json=body, headers={"Accept": "text/event-stream"}
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_from_response(response)
                content_type = response.headers.get("content-type", "")
                if not content_type.startswith("text/event-stream"):
                    raise _bad_response(f"{url}: {content_type or 'no content type'}, not SSE")
                for sse in parse_sse(response.iter_lines()):
                    event = to_stream_event(sse)
                    if event is None:
                        continue
                    yield event
                    if isinstance(event, DoneEvent | ErrorEvent):
                        return
        except httpx.HTTPError as exc:
            raise _transport_error(exc, url) from exc
        raise _bad_response(f"{url}: stream ended before the answer was done")


def _chat_body(
    message: str,
    history: list[dict[str, str]] | None,
    filters: dict[str, Any] | None,
    backend: str | None,
    generation: dict[str, float | int | None],
    *,
    stream: bool,
) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "stream": stream}
    if history:
        body["history"] = [{"role": t["role"], "content": t["content"]} for t in history]
    if kept := clean_filters(filters):
        body["filters"] = kept
    if backend:
        body["backend"] = backend
    body.update({key: value for key, value in generation.items() if value is not None})
    return body
