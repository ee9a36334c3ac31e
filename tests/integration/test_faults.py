"""Faults against real processes: a ``chroma run`` server stopped mid-run and restarted on the
same port and path; an LLM backend (an Ollama stand-in speaking Ollama's HTTP protocol, which
holds every generation until released) saturated beyond ``llm.max_concurrent``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DEMO_CATALOG, free_port, stop_process, wait_for_http
from tests.conftest import start_api as conftest_start_api

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def start_api(work: Path, env: dict[str, str], name: str = "api") -> tuple[subprocess.Popen, str]:
    return conftest_start_api(work, env, name, ready_path="/healthz")


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    with (path.parent / "chroma.log").open("ab") as log:
        process = subprocess.Popen(
            [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", process=process)
    return process


def poll(check, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def assert_json_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


# -- Chroma server stopped and restarted -----------------------------------------------------
def test_chroma_down_gives_503_json_and_the_api_recovers(embeddings, tmp_path: Path) -> None:
    from catalog.store import ProductStore
    from ingestion.pipeline import ingest_files

    port = free_port()
    db = tmp_path / "chroma-db"
    chroma = start_chroma(db, port)
    chroma_url = f"http://127.0.0.1:{port}"
    api = None
    try:
        catalog = tmp_path / "catalog.json"
        rows = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))[:30]
        catalog.write_text(json.dumps(rows), encoding="utf-8")
        store = ProductStore.open(chroma_url=chroma_url, data_dir=None, collection="products")
        summary = ingest_files([catalog], store=store, embeddings=embeddings)
        assert summary.added == 30

        api, url = start_api(
            tmp_path, {"AISLE_CHROMA_URL": chroma_url, "AISLE_DATA_DIR": str(tmp_path / "data")}
        )
        # Ready once the catalog is loaded (the keyword index and snapshot are built first).
        assert poll(lambda: httpx.get(f"{url}/readyz", timeout=60).status_code == 200, 180)
        search = {"query": "mascara", "k": 3}
        assert httpx.post(f"{url}/v1/search", json=search, timeout=30).json()["results"]

        stop_process(chroma)  # mid-run
        error = assert_json_error(httpx.get(f"{url}/readyz", timeout=30), 503)
        assert error["code"] == "not_ready"
        assert "store" in error["message"].lower() or "chroma" in error["message"].lower()
        for method, path, body in (
            ("POST", "/v1/search", search),
            ("POST", "/v1/chat", {"message": "mascara under $20"}),
            ("GET", "/v1/products/1", None),
        ):
            response = httpx.request(method, f"{url}{path}", json=body, timeout=60)
            assert_json_error(response, 503)
        facets = httpx.get(f"{url}/v1/facets", timeout=60)  # may be served from its cache
        assert facets.status_code == 200 or assert_json_error(facets, 503)
        assert httpx.get(f"{url}/healthz").status_code == 200  # alive, only not ready

        chroma = start_chroma(db, port)  # same port, same path
        assert poll(lambda: httpx.get(f"{url}/readyz", timeout=30).status_code == 200)
        results = httpx.post(f"{url}/v1/search", json=search, timeout=30).json()["results"]
        assert results and results[0]["product_id"] == "1"
        chat = httpx.post(f"{url}/v1/chat", json={"message": "mascara"}, timeout=60)
        assert chat.status_code == 200 and chat.json()["sources"]
    finally:
        if api is not None:
            stop_process(api)
        stop_process(chroma)


# -- LLM backend saturated ---------------------------------------------------------------------
class OllamaStandIn:
    """Ollama's /api/tags and /api/chat (NDJSON stream); each chat waits for ``release``."""

    def __init__(self) -> None:
        self.received = threading.Event()
        self.release = threading.Event()
        self.chats = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/api/tags":
                    self._json({"models": [{"name": "llama3.2:latest", "model": "llama3.2"}]})
                else:
                    self.send_error(404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/api/chat":
                    self.send_error(404)
                    return
                stand_in.chats += 1
                stand_in.received.set()
                stand_in.release.wait(120)  # a model that is busy thinking
                words = ["Sorry,", " I", " cannot", " tell."]
                base = {"model": "llama3.2", "created_at": "2026-01-01T00:00:00Z"}
                final: dict[str, Any] = {
                    **base,
                    "message": {"role": "assistant", "content": ""},
                    "done": True,
                    "done_reason": "stop",
                    "total_duration": 1,
                    "prompt_eval_count": 1,
                    "eval_count": len(words),
                }
                if not request.get("stream", True):
                    final["message"] = {"role": "assistant", "content": "".join(words)}
                    self._json(final)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                lines = [
                    {**base, "message": {"role": "assistant", "content": w}, "done": False}
                    for w in words
                ]
                for line in [*lines, final]:
                    data = json.dumps(line).encode() + b"\n"
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OllamaStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ollama() -> Iterator[OllamaStandIn]:
    with OllamaStandIn() as stand_in:
        yield stand_in


def test_saturated_llm_backend_refuses_at_once_instead_of_piling_up(
    demo_data_dir: Path, tmp_path: Path, ollama: OllamaStandIn
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(demo_data_dir, data_dir)
    api, url = start_api(
        tmp_path,
        {
            "AISLE_DATA_DIR": str(data_dir),
            "AISLE_LLM__BACKEND": "ollama",
            "AISLE_LLM__MAX_CONCURRENT": "1",
            "AISLE_OLLAMA__BASE_URL": ollama.url,
            "AISLE_OLLAMA__TIMEOUT_S": "120",
        },
    )
    try:
        ask = {"message": "lipstick under $20", "backend": "ollama"}
        first: dict[str, Any] = {}

        def hold_the_only_slot() -> None:
            first["response"] = httpx.post(f"{url}/v1/chat", json=ask, timeout=150)

        holder = threading.Thread(target=hold_the_only_slot)
        holder.start()
        assert ollama.received.wait(60), "the first generation never reached the model"

        # While the only generation slot is taken, more LLM requests are refused at once:
        # they all come back while the model is still holding the first one.
        refused: list[httpx.Response] = []

        def one_more() -> None:
            refused.append(httpx.post(f"{url}/v1/chat", json=ask, timeout=60))

        extra = [threading.Thread(target=one_more) for _ in range(6)]
        for thread in extra:
            thread.start()
        for thread in extra:
            thread.join(90)
        assert len(refused) == 6 and not ollama.release.is_set()
        for response in refused:
            assert response.status_code in {429, 503}, response.text
            assert response.json()["error"]["code"]
            if response.status_code == 429:
                assert int(response.headers["retry-after"]) >= 1
        assert ollama.chats == 1  # nothing queued behind the busy model
        # Shoppers on the extractive path are not affected by the LLM limit.
        extractive = httpx.post(f"{url}/v1/chat", json={**ask, "backend": "extractive"}, timeout=60)
        assert extractive.status_code == 200

        ollama.release.set()
        holder.join(150)
        assert first["response"].status_code == 200, first["response"].text
        # The slot is free again.
        again = httpx.post(f"{url}/v1/chat", json=ask, timeout=150)
        assert again.status_code == 200, again.text
    finally:
        ollama.release.set()
        stop_process(api)
