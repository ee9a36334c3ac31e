"""The chat stream: ``text/event-stream`` lines parsed into messages, then given their meaning
in the chat protocol (sources, tokens, the done response, an error)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ui.api_errors import ApiError, bad_response, error_from_body


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
        return ErrorEvent(bad_response(f"event {message.event!r} data is not JSON"))
    if message.event == "sources" and isinstance(payload, list):
        return SourcesEvent([item for item in payload if isinstance(item, dict)])
    if message.event == "token" and isinstance(payload, dict):
        return TokenEvent(str(payload.get("text", "")))
    if message.event == "done" and isinstance(payload, dict):
        return DoneEvent(payload)
    if message.event == "error":
        return ErrorEvent(error_from_body(payload, status=None))
    if message.event in {"sources", "token", "done"}:
        return ErrorEvent(bad_response(f"event {message.event!r} has an unexpected shape"))
    return None
