"""The real local LLM for the integration tests: one Qwen2.5-Coder-1.5B server per session.

The GGUF is assembled once into ``${XDG_CACHE_HOME:-~/.cache}/aisle/models`` (hash-checked) and
reused by later sessions. Every test that needs an OpenAI-compatible model shares this server:
each answer costs seconds on a 2-core CPU, so tests keep ``max_tokens`` small.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aisle.settings import Settings, load_settings
from evaluation.local_llm import LlamaServer, ensure_qwen_gguf, running_llama_server

# Generous: other jobs share the CPU; a loaded machine answers many times slower.
QWEN_TIMEOUT_S = 300.0


@pytest.fixture(scope="session")
def qwen_gguf() -> Path:
    return ensure_qwen_gguf()


@pytest.fixture(scope="session")
def qwen_server(qwen_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    log_path = tmp_path_factory.mktemp("qwen-server") / "server.log"
    with running_llama_server(qwen_gguf, log_path=log_path, threads=2, n_ctx=4096) as server:
        yield server


def qwen_settings(data_dir: Path, server: LlamaServer, **llm: object) -> Settings:
    """Settings whose ``openai`` backend is the Qwen server (the default backend)."""
    return load_settings(
        _env_file=None,
        data_dir=data_dir,
        llm={"backend": "openai", "temperature": 0.0, **llm},
        openai={
            "base_url": server.openai_base_url,
            "model": server.model,
            "timeout_s": QWEN_TIMEOUT_S,
            "max_retries": 0,
        },
    )
