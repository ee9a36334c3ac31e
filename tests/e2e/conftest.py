"""Browser fixtures: Debian's chromium driven by Playwright, the real API and UI as subprocesses.

Playwright never downloads a browser here; chromium comes from apt when it is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, free_port, stop_process, wait_for_http

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SERVER_START_TIMEOUT_S = 180.0  # the API loads the embedding model; 2 busy cores are slow


def _install_chromium() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        subprocess.run(command, check=True, env=env, capture_output=True, timeout=900)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if shutil.which("chromium") is None:
        _install_chromium()
    path = shutil.which("chromium")
    assert path, "chromium is not installed and apt-get could not install it"
    return path


# Package scope: sync Playwright keeps an event loop running in this thread while it is open,
# which would break asyncio.run() in the tests collected after this package.
@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator:
    from playwright.sync_api import expect, sync_playwright

    # CI machines are slow and shared: give every expectation room before calling it a failure.
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}
    env.update(GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.update(extra)
    return env


def _start(args: list[str], log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    log = log_path.open("wb")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "aisle.cli", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        log.close()  # the child holds its own descriptor


@pytest.fixture(scope="package")
def api_url(demo_data_dir: Path, artifacts: Path) -> Iterator[str]:
    """The real REST API (``aisle serve``) over the demo catalog."""
    port = free_port()
    env = server_env(AISLE_DATA_DIR=str(demo_data_dir))
    process = _start(
        ["serve", "--host", "127.0.0.1", "--port", str(port)], artifacts / "e2e-api.log", env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/readyz", timeout=SERVER_START_TIMEOUT_S, process=process)
        yield url
    finally:
        stop_process(process)


def start_ui(api_url: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = _start(
        ["ui", "--api-url", api_url, "--host", "127.0.0.1", "--port", str(port)],
        log_path,
        server_env(),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url, timeout=SERVER_START_TIMEOUT_S, process=process)
    except BaseException:
        stop_process(process)
        raise
    return process, url


@pytest.fixture(scope="package")
def ui_url(api_url: str, artifacts: Path) -> Iterator[str]:
    """The shopper UI (``aisle ui``) talking to the real API."""
    process, url = start_ui(api_url, artifacts / "e2e-ui.log")
    try:
        yield url
    finally:
        stop_process(process)


class TcpForwarder:
    """A loopback port that refuses connections until ``open_to(upstream)``, then forwards
    every connection to it: the API "going down and coming back" without restarting it."""

    def __init__(self) -> None:
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def open_to(self, upstream_port: int) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener, upstream_port), daemon=True).start()

    def _accept(self, listener: socket.socket, upstream_port: int) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(("127.0.0.1", upstream_port), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with suppress(OSError):
                    sock.close()


@pytest.fixture
def flaky_api() -> Iterator[TcpForwarder]:
    forwarder = TcpForwarder()
    try:
        yield forwarder
    finally:
        forwarder.close()
