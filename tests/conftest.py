"""Shared fixtures: settings on temporary folders, the real embedding model, the demo store,
free loopback ports and a real Chroma server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from aisle.processes import free_port, serve_command, stop_process
from aisle.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
DEMO_CATALOG = ROOT / "data" / "catalog" / "products.json"
EPQA_DIR = ROOT / "data" / "epqa"
ARTIFACTS = ROOT / "test-artifacts"

# Keep every test away from the developer's own .env and AISLE_* variables.
for _name in [name for name in os.environ if name.startswith("AISLE_")]:
    del os.environ[_name]
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# One ONNX export per machine, shared by every test and the servers they start (issue 14).
EMBEDDING_CACHE = Path.home() / ".cache" / "aisle" / "models"
os.environ["AISLE_EMBEDDING__CACHE_DIR"] = str(EMBEDDING_CACHE)


def wait_for_http(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers below 500, or fail with the process's exit code."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def start_api(
    work: Path, env: dict[str, str], name: str = "api", ready_path: str = "/readyz"
) -> tuple[subprocess.Popen, str]:
    """``aisle serve`` as a subprocess on a free loopback port, logging to ``work/<name>.log``;
    returns once ``ready_path`` answers. The caller stops it with :func:`stop_process`."""
    port = free_port()
    with (work / f"{name}.log").open("wb") as log:
        process = subprocess.Popen(
            serve_command(port),
            env={**os.environ, "AISLE_LOG_LEVEL": "WARNING", **env},
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}{ready_path}", timeout=180, process=process)
    except BaseException:
        stop_process(process)
        raise
    return process, url


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings whose data dir is a fresh temporary folder; keyword overrides win."""

    def build(**overrides: object) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        return load_settings(_env_file=None, **overrides)

    return build


@pytest.fixture(scope="session")
def embeddings():
    from aisle.settings import EmbeddingSettings
    from catalog.embeddings import build_embeddings

    model = build_embeddings(EmbeddingSettings(cache_dir=EMBEDDING_CACHE), ROOT)
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Path:
    """A data dir holding the demo catalog, ingested once per test session. Read-only."""
    from catalog.store import ProductStore
    from ingestion.pipeline import ingest_files

    data_dir = tmp_path_factory.mktemp("demo-store")
    settings = load_settings(_env_file=None, data_dir=data_dir)
    store = ProductStore.open(chroma_url="", data_dir=data_dir, collection=settings.collection)
    summary = ingest_files([DEMO_CATALOG], store=store, embeddings=embeddings)
    assert summary.failed == 0 and summary.added == 194, summary
    return data_dir


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``chroma run`` on a free loopback port; yields its URL."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (path / "server.log").open("wb")
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/api/v2/heartbeat", process=process)
        yield url
    finally:
        stop_process(process)
        log.close()
