"""Settings: env prefix AISLE_, nested with __, .env support, wrong values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from aisle.settings import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    settings = load_settings()
    assert settings.data_dir == Path(".aisle")
    assert settings.chroma_url == "" and settings.collection == "products"
    assert settings.keyword_dir == Path(".aisle") / "bm25" / "products"


def test_environment_prefix_and_nested_delimiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISLE_DATA_DIR", "/srv/aisle")
    monkeypatch.setenv("AISLE_CHROMA_URL", "http://chroma:8000/")
    monkeypatch.setenv("AISLE_COLLECTION", "shop-2")
    monkeypatch.setenv("AISLE_LLM__BACKEND", "ollama")
    monkeypatch.setenv("AISLE_EMBEDDING__BATCH_SIZE", "16")
    settings = load_settings(_env_file=None)
    assert settings.data_dir == Path("/srv/aisle")
    assert settings.chroma_url == "http://chroma:8000"
    assert settings.collection == "shop-2"
    assert settings.llm.backend == "ollama"
    assert settings.embedding.batch_size == 16


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AISLE_COLLECTION=from-dotenv\nAISLE_LLM__MAX_TOKENS=77\n")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.collection == "from-dotenv" and settings.llm.max_tokens == 77
    monkeypatch.setenv("AISLE_COLLECTION", "from-env")
    assert load_settings().collection == "from-env"  # the environment wins over .env


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AISLE_CHROMA_URL", "not a url"),
        ("AISLE_COLLECTION", "x"),
        ("AISLE_EMBEDDING__BATCH_SIZE", "many"),
        ("AISLE_LLM__BACKEND", "gpt-9"),
    ],
)
def test_wrong_value_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings(_env_file=None)


def test_cli_reports_a_wrong_setting_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from typer.testing import CliRunner

    from aisle.cli import app

    result = CliRunner().invoke(app, ["stats"], env={"AISLE_COLLECTION": "?"})
    assert result.exit_code == 2
    assert "AISLE_COLLECTION" in result.output and "Traceback" not in result.output
