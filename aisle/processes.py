"""Small helpers for the commands (and tests) that start Aisle's servers as subprocesses."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(port: int) -> list[str]:
    """The command line of ``aisle serve`` on a loopback port, in this interpreter."""
    return [sys.executable, "-m", "aisle.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]


def stop_process(process: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGTERM, wait up to ``grace_s``, then SIGKILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace_s)


def wait_ready(
    process: subprocess.Popen,
    url: str,
    *,
    timeout: float,
    name: str,
    log_path: Path | None = None,
    tail_lines: int = 10,
    error: Callable[[str], Exception] = RuntimeError,
) -> None:
    """Poll ``url`` until it answers HTTP 200.

    Raises ``error`` as soon as ``process`` exits (no point waiting out the timeout for a dead
    server) or after ``timeout`` seconds; the message names the server (``name``) and quotes the
    last ``tail_lines`` of ``log_path``, which is where the reason is.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise error(_with_log(f"{name} exited with {process.returncode}", log_path, tail_lines))
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    message = f"{name} did not answer {url} within {timeout:.0f} s"
    raise error(_with_log(message, log_path, tail_lines))


def log_tail(path: Path, lines: int = 10) -> str:
    """The last ``lines`` lines of a log file, or ``(no log)`` when it cannot be read."""
    try:
        return "\n".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _with_log(message: str, log_path: Path | None, lines: int) -> str:
    return message if log_path is None else f"{message}: {log_tail(log_path, lines)}"
