"""The installed llama-cpp-python is the portable build: no AMX instructions, and it answers.

A native build on a CPU that advertises AMX gets AMX kernels that fault at the first decode
(SIGILL on ``tilezero``) on machines where the kernel does not grant AMX. scripts/llama-wheel.sh
builds without them; this proves the library in the venv really has none, with a positive
control showing the same disassembly would see them, and that the server answers on this CPU.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from importlib import util
from pathlib import Path

import httpx
import pytest

from evaluation.local_llm import LlamaServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AMX_MNEMONICS = {
    "tilezero",
    "tileloadd",
    "tileloaddt1",
    "tilestored",
    "ldtilecfg",
    "sttilecfg",
    "tilerelease",
    "tdpbssd",
    "tdpbsud",
    "tdpbusd",
    "tdpbuud",
    "tdpbf16ps",
    "tdpfp16ps",
}
# "  1a2b3c:\tvfmadd231ps %ymm1,%ymm2,%ymm0" -> "vfmadd231ps"
_INSTRUCTION = re.compile(r"^\s*[0-9a-f]+:\s+([a-z][a-z0-9.]*)", re.MULTILINE)


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is needed for this check: apt-get install binutils"
    return path


def mnemonics(binary: Path) -> set[str]:
    """Every instruction mnemonic in ``binary``'s disassembly."""
    result = subprocess.run(
        [_tool("objdump"), "-d", "--no-show-raw-insn", str(binary)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(_INSTRUCTION.findall(result.stdout))


def llama_libraries() -> list[Path]:
    spec = util.find_spec("llama_cpp")
    assert spec is not None and spec.origin, "llama-cpp-python is not installed: make install-dev"
    lib_dir = Path(spec.origin).parent / "lib"
    # libggml.so -> libggml.so.0 -> libggml.so.0.25.3: disassemble each real file once.
    return sorted({path.resolve() for path in lib_dir.glob("*.so*")})


def test_disassembly_would_see_amx(tmp_path: Path) -> None:
    """Positive control: the same objdump parsing finds AMX in an object that has it."""
    source = tmp_path / "amx.s"
    source.write_text("tilezero %tmm0\ntdpbssd %tmm2, %tmm1, %tmm0\ntilerelease\n")
    subprocess.run([_tool("as"), "-o", str(tmp_path / "amx.o"), str(source)], check=True)
    assert mnemonics(tmp_path / "amx.o") & AMX_MNEMONICS == {"tilezero", "tdpbssd", "tilerelease"}


def test_llama_libraries_contain_no_amx() -> None:
    libraries = llama_libraries()
    names = {path.name.split(".so")[0] for path in libraries}
    assert {"libllama", "libggml-cpu"} <= names, libraries
    seen: set[str] = set()
    for library in libraries:
        found = mnemonics(library)
        assert not found & AMX_MNEMONICS, f"{library.name} has AMX: {found & AMX_MNEMONICS}"
        seen |= found
    # The disassembly really covered the CPU kernels: the portable build's AVX2/FMA is there.
    assert {"vfmadd231ps", "vpmaddubsw"} <= seen, sorted(seen)[:50]


def test_server_answers_one_completion(qwen_server: LlamaServer) -> None:
    response = httpx.post(
        f"{qwen_server.openai_base_url}/chat/completions",
        json={
            "model": qwen_server.model,
            "messages": [
                {"role": "user", "content": "What is the capital of France? Answer in one word."}
            ],
            "max_tokens": 8,
            "temperature": 0,
        },
        timeout=300,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "paris" in body["choices"][0]["message"]["content"].lower(), body
    assert 1 <= body["usage"]["completion_tokens"] <= 8
