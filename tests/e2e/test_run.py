"""``python -m aisle.run`` (``make run``): both servers up, both URLs printed, both stopped."""

from __future__ import annotations

import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, stop_process
from tests.e2e.conftest import SERVER_START_TIMEOUT_S, server_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def start_run(data_dir: Path, api_port: int, ui_port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aisle.run",
            "--api-port",
            str(api_port),
            "--ui-port",
            str(ui_port),
            "--timeout",
            str(SERVER_START_TIMEOUT_S),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=server_env(AISLE_DATA_DIR=str(data_dir)),
        cwd=ROOT,
        text=True,
    )


def read_until(process: subprocess.Popen, marker: str, timeout_s: float) -> str:
    """Collect the process's output until ``marker`` shows up (or it exits)."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    seen = ""
    deadline = time.monotonic() + timeout_s
    while marker not in seen and time.monotonic() < deadline:
        if selector.select(timeout=1.0):
            line = process.stdout.readline()
            if not line:
                break
            seen += line
    return seen


def refuses(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_run_starts_both_prints_urls_and_stops_both_on_ctrl_c(demo_data_dir: Path) -> None:
    api_port, ui_port = free_port(), free_port()
    process = start_run(demo_data_dir, api_port, ui_port)
    try:
        output = read_until(process, "Press Ctrl-C", SERVER_START_TIMEOUT_S + 30)
        assert f"http://127.0.0.1:{ui_port}" in output, output
        assert f"http://127.0.0.1:{api_port}" in output, output
        assert httpx.get(f"http://127.0.0.1:{api_port}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{ui_port}/").status_code == 200

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert refuses(api_port) and refuses(ui_port)
    finally:
        stop_process(process)


def test_run_stops_the_ui_when_the_api_dies(demo_data_dir: Path) -> None:
    api_port, ui_port = free_port(), free_port()
    # Something else holds the API's port: the API cannot start, so nothing must keep running.
    with socket.create_server(("127.0.0.1", api_port)):
        process = start_run(demo_data_dir, api_port, ui_port)
        try:
            assert process.wait(timeout=SERVER_START_TIMEOUT_S + 30) == 1
            output = process.stdout.read() if process.stdout else ""
            assert "the API exited" in output, output
            assert refuses(ui_port)
        finally:
            stop_process(process)
