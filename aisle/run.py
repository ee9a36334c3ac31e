"""``python -m aisle.run``: the API and the shopper UI together (``make run``).

Starts ``aisle serve`` and ``aisle ui`` as child processes, waits until both answer, prints
both URLs, and stops both on Ctrl-C / SIGTERM or as soon as either one exits.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

import httpx

POLL_S = 0.5
STOP_GRACE_S = 15.0


class Stop(Exception):
    """A signal asked us to stop."""


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def _aisle(*args: str) -> list[str]:
    return [sys.executable, "-m", "aisle.cli", *args]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code < 500
    except httpx.HTTPError:
        return False


def _wait_until_up(
    checks: dict[str, str], processes: dict[str, subprocess.Popen], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    pending = dict(checks)
    while pending:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"the {name} exited with code {process.returncode}")
        for name, url in list(pending.items()):
            if _answers(url):
                del pending[name]
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer from {', '.join(pending.values())} in {timeout_s:.0f} s")
        time.sleep(POLL_S)


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    """SIGTERM everyone first, then wait, then kill what is left."""
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run(api_host: str, api_port: int, ui_host: str, ui_port: int, timeout_s: float) -> int:
    api_url = f"http://{api_host}:{api_port}"
    ui_url = f"http://{ui_host}:{ui_port}"
    processes: dict[str, subprocess.Popen] = {}
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        processes["API"] = subprocess.Popen(
            _aisle("serve", "--host", api_host, "--port", str(api_port))
        )
        processes["UI"] = subprocess.Popen(
            _aisle("ui", "--api-url", api_url, "--host", ui_host, "--port", str(ui_port))
        )
        # /readyz says the store and model are loaded, not only that the port is open.
        _wait_until_up({"API": f"{api_url}/readyz", "UI": ui_url}, processes, timeout_s)
        print(
            f"\nAisle is running:\n  shop UI  {ui_url}\n  REST API {api_url}  (docs {api_url}/docs)"
        )
        print("Press Ctrl-C to stop both.\n", flush=True)
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"aisle run: the {name} exited ({process.returncode}); stopping.")
                    return 1
            time.sleep(POLL_S)
    except Stop as stop:
        print(f"\naisle run: {stop}, stopping the API and the UI.", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"aisle run: {exc}; stopping.", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C while stopping must not leave children behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop(processes)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aisle.run", description="Run the Aisle API and shopper UI together."
    )
    parser.add_argument("--api-host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--ui-host", default="127.0.0.1")
    parser.add_argument("--ui-port", type=int, default=7860)
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="Seconds to wait for both to answer."
    )
    args = parser.parse_args(argv)
    return run(args.api_host, args.api_port, args.ui_host, args.ui_port, args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
