"""A small httpx client of the Aisle REST API, JSON and Server-Sent Events.

Every failure (connection refused, timeout, an error status, a malformed body, an ``error``
event mid-stream) becomes one :class:`ApiError` whose ``message`` can be shown to a shopper.
The errors are made in ui/api_errors.py, the stream is parsed in ui/sse.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from ui.api_errors import (
    BAD_RESPONSE,
    BUSY,
    SERVER_FAILED,
    TIMED_OUT,
    UNAVAILABLE,
    UNREACHABLE,
    ApiError,
    bad_response,
    error_from_response,
    transport_error,
)
from ui.sse import (
    DoneEvent,
    ErrorEvent,
    SourcesEvent,
    SseMessage,
    StreamEvent,
    TokenEvent,
    parse_sse,
    to_stream_event,
)

# The errors and the stream's events are re-exported: ui/handlers.py and the tests import
# them from here.
__all__ = [
    "BAD_RESPONSE",
    "BUSY",
    "SERVER_FAILED",
    "TIMED_OUT",
    "UNAVAILABLE",
    "UNREACHABLE",
    "ApiClient",
    "ApiError",
    "DoneEvent",
    "ErrorEvent",
    "SourcesEvent",
    "SseMessage",
    "StreamEvent",
    "TokenEvent",
    "clean_filters",
    "parse_sse",
    "to_stream_event",
]


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
            raise transport_error(exc, self.base_url + path) from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        try:
            return response.json()
        except ValueError as exc:
            raise bad_response(f"{path}: body is not JSON") from exc

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
            raise bad_response("/v1/facets: not an object")
        return result

    def product(self, product_id: str) -> dict[str, Any]:
        result = self._request("GET", f"/v1/products/{quote(product_id, safe='')}")
        if not isinstance(result, dict):
            raise bad_response("/v1/products: not an object")
        return result

    def search(
        self, query: str, *, k: int = 5, filters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"query": query, "k": k}
        if kept := clean_filters(filters):
            body["filters"] = kept
        result = self._request("POST", "/v1/search", body)
        if not isinstance(result, dict):
            raise bad_response("/v1/search: not an object")
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
            raise bad_response("/v1/chat: not an object")
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
                    raise error_from_response(response)
                content_type = response.headers.get("content-type", "")
                if not content_type.startswith("text/event-stream"):
                    raise bad_response(f"{url}: {content_type or 'no content type'}, not SSE")
                for sse in parse_sse(response.iter_lines()):
                    event = to_stream_event(sse)
                    if event is None:
                        continue
                    yield event
                    if isinstance(event, DoneEvent | ErrorEvent):
                        return
        except httpx.HTTPError as exc:
            raise transport_error(exc, url) from exc
        raise bad_response(f"{url}: stream ended before the answer was done")


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
