"""The UI's API client: SSE parsing and error mapping, against a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import free_port
from ui.client import (
    BUSY,
    SERVER_FAILED,
    TIMED_OUT,
    UNAVAILABLE,
    UNREACHABLE,
    ApiClient,
    ApiError,
    DoneEvent,
    ErrorEvent,
    SourcesEvent,
    SseMessage,
    TokenEvent,
    clean_filters,
    parse_sse,
    to_stream_event,
)

# -- parsing (pure) -------------------------------------------------------------------------


def test_parse_sse_joins_multiline_data_and_skips_comments() -> None:
    lines = [
        ": ping - 2026-01-01 00:00:00",
        "event: token",
        "data: first line",
        "data:second line",
        "data:  two spaces keep one",
        "",
        ":another comment",
        "",
        "event: done",
        "id: 7",
        "retry: 1000",
        "unknown: ignored",
        'data: {"answer": "ok"}',
        "",
    ]
    assert list(parse_sse(lines)) == [
        SseMessage("token", "first line\nsecond line\n two spaces keep one"),
        SseMessage("done", '{"answer": "ok"}', id="7"),
    ]


def test_parse_sse_event_without_data_is_not_dispatched_and_default_name() -> None:
    lines = ["event: sources", "", "data: plain", "", "event: token", "data: cut off"]
    # No data: nothing; no event name: "message"; no final blank line: dropped.
    assert list(parse_sse(lines)) == [SseMessage("message", "plain")]


def test_parse_sse_tolerates_crlf_and_empty_data_lines() -> None:
    lines = ["event: token\r", "data:\r", "data: x\r", "\r"]
    assert list(parse_sse(lines)) == [SseMessage("token", "\nx")]


def test_stream_events_get_their_meaning() -> None:
    sources = to_stream_event(SseMessage("sources", '[{"product_id": "1"}, 3]'))
    assert sources == SourcesEvent([{"product_id": "1"}])
    assert to_stream_event(SseMessage("token", '{"text": "$9.99 "}')) == TokenEvent("$9.99 ")
    assert to_stream_event(SseMessage("done", '{"answer": "a"}')) == DoneEvent({"answer": "a"})
    assert to_stream_event(SseMessage("ping", "{}")) is None
    error = to_stream_event(SseMessage("error", '{"error": {"code": "x", "message": "boom"}}'))
    assert isinstance(error, ErrorEvent)
    assert (error.error.code, error.error.message, error.error.detail) == (
        "x",
        SERVER_FAILED,
        "boom",
    )
    broken = to_stream_event(SseMessage("token", "not json"))
    assert isinstance(broken, ErrorEvent) and broken.error.code == "bad_response"
    wrong_shape = to_stream_event(SseMessage("done", "[1, 2]"))
    assert isinstance(wrong_shape, ErrorEvent) and wrong_shape.error.code == "bad_response"


def test_clean_filters_drops_unset_fields() -> None:
    assert clean_filters(None) is None
    assert clean_filters({"min_price": None, "brand": "", "in_stock": None}) is None
    assert clean_filters({"max_price": 0.0, "in_stock": False, "brand": None}) == {
        "max_price": 0.0,
        "in_stock": False,
    }


# -- a real HTTP server on loopback ---------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler, dict[str, Any] | None], None]


class FakeApi:
    """A loopback HTTP server whose answers each test scripts per (method, path)."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []
        self.release = threading.Event()  # lets deliberately slow handlers finish
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:  # keep pytest output clean
                pass

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                api.requests.append((method, self.path, body))
                route = api.routes.get((method, self.path))
                if route is None:
                    send_json(self, 404, {"error": {"code": "not_found", "message": "no route"}})
                else:
                    route(self, body)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def send_raw(handler: BaseHTTPRequestHandler, status: int, text: str, content_type: str) -> None:
    data = text.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def send_stream(handler: BaseHTTPRequestHandler, pieces: list[str]) -> None:
    """An event stream written in arbitrary pieces (chunked), like a real server flushes."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.send_header("Connection", "close")
    handler.end_headers()
    for piece in pieces:
        data = piece.encode()
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        handler.wfile.flush()
    handler.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def client(fake_api: FakeApi) -> Iterator[ApiClient]:
    with ApiClient(fake_api.url, timeout=5.0) as api_client:
        yield api_client


SOURCES = [{"product_id": "1", "title": "Essence Mascara", "snippet": "Lashes.", "score": 1.0}]
DONE = {
    "answer": "It costs $9.99 [1].",
    "sources": SOURCES,
    "refused": False,
    "reason": None,
    "backend": "extractive",
    "timings_ms": {"total": 1.0},
    "filters": {},
    "relaxed": None,
}


def test_stream_chat_yields_events_from_split_chunks(fake_api: FakeApi, client: ApiClient) -> None:
    done = json.dumps(DONE)
    stream = (
        ": ping\r\n\r\n"
        f"event: sources\r\ndata: {json.dumps(SOURCES)}\r\n\r\n"
        'event: token\r\ndata: {"text": "It costs "}\r\n\r\n'
        'event: token\r\ndata: {"text": "$9.99 [1]."}\r\n\r\n'
        f"event: done\r\ndata: {done}\r\n\r\n"
    )
    # Cut the stream at awkward places: inside a field name, a JSON value, a line ending.
    cuts = [3, 17, 40, 90, 91, 150, len(stream) - 3]
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    fake_api.routes[("POST", "/v1/chat")] = lambda handler, _: send_stream(handler, pieces)

    events = list(
        client.stream_chat(
            "How much is the mascara?",
            history=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
            filters={"max_price": 20, "brand": None},
            backend="extractive",
        )
    )
    assert events == [
        SourcesEvent(SOURCES),
        TokenEvent("It costs "),
        TokenEvent("$9.99 [1]."),
        DoneEvent(DONE),
    ]
    _, _, body = fake_api.requests[-1]
    assert body == {
        "message": "How much is the mascara?",
        "stream": True,
        "history": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
        ],
        "filters": {"max_price": 20},
        "backend": "extractive",
    }


def test_stream_error_event_ends_the_stream(fake_api: FakeApi, client: ApiClient) -> None:
    pieces = [
        f"event: sources\ndata: {json.dumps(SOURCES)}\n\n",
        'event: error\ndata: {"error": {"code": "unavailable", "message": "ollama down"}}\n\n',
        'event: token\ndata: {"text": "never read"}\n\n',
    ]
    fake_api.routes[("POST", "/v1/chat")] = lambda handler, _: send_stream(handler, pieces)
    events = list(client.stream_chat("hi"))
    assert len(events) == 2 and isinstance(events[0], SourcesEvent)
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert last.error.code == "unavailable" and last.error.message == UNAVAILABLE
    assert "ollama down" in last.error.detail


def test_stream_cut_before_done_is_an_error(fake_api: FakeApi, client: ApiClient) -> None:
    pieces = ['event: token\ndata: {"text": "half an ans', 'wer"}\n\n']
    fake_api.routes[("POST", "/v1/chat")] = lambda handler, _: send_stream(handler, pieces)
    events = list(client.stream_chat("hi"))
    assert events[0] == TokenEvent("half an answer")
    assert isinstance(events[-1], ErrorEvent) and events[-1].error.code == "bad_response"


def test_stream_that_is_not_sse_is_an_error(fake_api: FakeApi, client: ApiClient) -> None:
    fake_api.routes[("POST", "/v1/chat")] = lambda handler, _: send_json(handler, 200, DONE)
    (event,) = list(client.stream_chat("hi"))
    assert isinstance(event, ErrorEvent) and event.error.code == "bad_response"


@pytest.mark.parametrize(
    ("status", "payload", "code", "message"),
    [
        (
            422,
            {"error": {"code": "invalid_request", "message": "message: too long"}},
            "invalid_request",
            "That request was not accepted: message: too long",
        ),
        (429, {"error": {"code": "busy", "message": "4 generations"}}, "busy", BUSY),
        (503, {"error": {"code": "unavailable", "message": "store"}}, "unavailable", UNAVAILABLE),
        (
            500,
            {"error": {"code": "internal_error", "message": "x"}},
            "internal_error",
            SERVER_FAILED,
        ),
        (502, "<html>Bad Gateway</html>", "http_error", SERVER_FAILED),
    ],
)
def test_error_statuses_map_to_one_api_error(
    fake_api: FakeApi, client: ApiClient, status: int, payload: Any, code: str, message: str
) -> None:
    def answer(handler: BaseHTTPRequestHandler, _: object) -> None:
        if isinstance(payload, str):
            send_raw(handler, status, payload, "text/html")
        else:
            send_json(handler, status, payload)

    fake_api.routes[("POST", "/v1/chat")] = answer
    with pytest.raises(ApiError) as raised:
        client.chat("hi")
    assert (raised.value.code, raised.value.status, raised.value.message) == (
        code,
        status,
        message,
    )
    # The stream path reports the same error as an event instead of raising.
    (event,) = list(client.stream_chat("hi"))
    assert isinstance(event, ErrorEvent)
    assert (event.error.code, event.error.message) == (code, message)


def test_json_endpoints(fake_api: FakeApi, client: ApiClient) -> None:
    facets = {"categories": [], "brands": [], "backends": ["extractive"], "examples": []}
    fake_api.routes[("GET", "/v1/facets")] = lambda h, _: send_json(h, 200, facets)
    fake_api.routes[("GET", "/v1/products/a%2Fb%20c")] = lambda h, _: send_json(
        h, 200, {"product_id": "a/b c"}
    )
    fake_api.routes[("POST", "/v1/search")] = lambda h, _: send_json(h, 200, {"results": []})
    fake_api.routes[("POST", "/v1/chat")] = lambda h, _: send_json(h, 200, DONE)
    fake_api.routes[("GET", "/healthz")] = lambda h, _: send_json(h, 200, {"status": "ok"})

    assert client.facets() == facets
    assert client.product("a/b c") == {"product_id": "a/b c"}  # ids are path-quoted
    assert client.search("mascara", k=3, filters={"in_stock": True, "brand": ""}) == {"results": []}
    assert fake_api.requests[-1][2] == {"query": "mascara", "k": 3, "filters": {"in_stock": True}}
    assert client.chat("hi", temperature=0.2, top_p=None) == DONE
    assert fake_api.requests[-1][2] == {"message": "hi", "stream": False, "temperature": 0.2}
    assert client.health() is True

    with pytest.raises(ApiError) as raised:
        client.product("missing")
    assert raised.value.status == 404 and raised.value.code == "not_found"

    fake_api.routes[("GET", "/v1/facets")] = lambda h, _: send_raw(h, 200, "{oops", "text/plain")
    with pytest.raises(ApiError) as raised:
        client.facets()
    assert raised.value.code == "bad_response"


def test_connection_refused_is_friendly() -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with ApiClient(closed, connect_timeout=2.0) as api_client:
        with pytest.raises(ApiError) as raised:
            api_client.facets()
        assert raised.value.code == "unreachable"
        assert raised.value.message == UNREACHABLE
        assert "Traceback" not in raised.value.message
        assert api_client.health() is False
        (event,) = list(api_client.stream_chat("hi"))
        assert isinstance(event, ErrorEvent) and event.error.message == UNREACHABLE


def test_slow_answer_times_out(fake_api: FakeApi) -> None:
    def stall(handler: BaseHTTPRequestHandler, _: object) -> None:
        fake_api.release.wait(10)  # released when the test's server closes

    fake_api.routes[("GET", "/v1/facets")] = stall
    fake_api.routes[("POST", "/v1/chat")] = stall
    with ApiClient(fake_api.url, timeout=0.3) as api_client:
        with pytest.raises(ApiError) as raised:
            api_client.facets()
        assert (raised.value.code, raised.value.message) == ("timeout", TIMED_OUT)
        (event,) = list(api_client.stream_chat("hi"))
        assert isinstance(event, ErrorEvent) and event.error.code == "timeout"
