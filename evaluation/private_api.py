"""The API (and local model) ``aisle eval`` starts for itself when it is given no ``--api-url``.

The catalog is ingested into a temporary data dir and ``aisle serve`` runs on a free loopback
port; both live only as long as the ``with`` block, so a run never touches the shopper's store.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from aisle.processes import free_port, serve_command, stop_process, wait_ready
from aisle.settings import Settings
from evaluation.local_llm import llm_server_env

_READY_TIMEOUT_S = 300.0


class EvalError(RuntimeError):
    """The run could not happen (the API did not start, the ingest failed...)."""


@contextlib.contextmanager
def private_llm_server(name: str | None, console: Console) -> Iterator[dict[str, str]]:
    """The environment pointing the API's openai backend at a local model started here."""
    if name is None:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="aisle-eval-llm-") as tmp:
        console.print(f"Starting the local {name} model server…")
        with llm_server_env(name, Path(tmp)) as env:
            yield env


@contextlib.contextmanager
def private_api(
    settings: Settings,
    api_url: str | None,
    catalog: list[Path],
    console: Console,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """The given API URL, or a private API: the catalog ingested into a temporary data dir and
    ``aisle serve`` on a free loopback port, stopped on the way out."""
    if api_url:
        yield api_url
        return
    with tempfile.TemporaryDirectory(prefix="aisle-eval-") as tmp:
        env = {**_child_env(settings, Path(tmp) / "data"), **(extra_env or {})}
        log_path = Path(tmp) / "serve.log"
        console.print(f"Ingesting {', '.join(str(p) for p in catalog)} into a temporary store…")
        ingest = subprocess.run(
            [sys.executable, "-m", "aisle.cli", "ingest", *map(str, catalog)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if ingest.returncode == 2 and "error" in ingest.stdout:
            # Exit 2 with a summary: some rows were rejected (named there), the rest ingested.
            console.print("The ingest rejected some rows (see aisle ingest); evaluating the rest.")
        elif ingest.returncode != 0:
            output = _tail(ingest.stderr or ingest.stdout)
            raise EvalError(f"aisle ingest failed ({ingest.returncode}): {output}")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                serve_command(port),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                console.print(f"Starting the API on {url}…")
                wait_ready(
                    server,
                    f"{url}/readyz",
                    timeout=_READY_TIMEOUT_S,
                    name="aisle serve",
                    log_path=log_path,
                    tail_lines=15,
                    error=EvalError,
                )
                yield url
            finally:
                stop_process(server)


def _child_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    """The environment of the private ingest/serve: this run's settings, a fresh embedded store."""
    env = dict(os.environ)
    env.update(
        {
            "AISLE_DATA_DIR": str(data_dir),
            "AISLE_CHROMA_URL": "",
            "AISLE_COLLECTION": settings.collection,
            "AISLE_LLM__BACKEND": settings.llm.backend,
            "AISLE_API__RATE_LIMIT_PER_MINUTE": "0",
            "HF_HUB_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
    )
    return env


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
