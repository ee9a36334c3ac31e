"""All configuration in one pydantic-settings object (env ``AISLE_*``, ``.env``, nested ``__``).

Nothing here is built at import: call :func:`load_settings` at start-up and pass the object down.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "AISLE_"
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,56}[A-Za-z0-9]$")


class SettingsError(ValueError):
    """A setting has a wrong value; the message names the environment variable."""


class EmbeddingSettings(BaseModel):
    batch_size: int = Field(64, ge=1, le=4096, description="Texts per encode call.")


class LLMSettings(BaseModel):
    backend: Literal["extractive", "openai", "ollama"] = Field(
        "extractive", description="Default answering backend; a request may override it."
    )
    fallback: Literal["extractive", "none"] = Field(
        "extractive",
        description="What to answer with when an LLM backend is down: the extractive answer, "
        "or none (HTTP 503).",
    )
    temperature: float = Field(0.1, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(400, ge=1, le=8192)
    max_concurrent: int = Field(
        4, ge=1, description="Concurrent LLM generations; beyond it requests get 429 at once."
    )


class OpenAISettings(BaseModel):
    model: str = "gpt-3.5-turbo"
    api_key: SecretStr | None = Field(
        None, description="API key; when unset, the OPENAI_API_KEY environment variable is used."
    )
    base_url: str | None = Field(None, description="Any OpenAI-compatible server.")
    timeout_s: float = Field(30.0, gt=0)
    max_retries: int = Field(1, ge=0, le=10)


class OllamaSettings(BaseModel):
    model: str = "llama3.2"
    base_url: str = "http://localhost:11434"
    timeout_s: float = Field(120.0, gt=0, description="CPU machines need a long timeout.")
    keep_alive: str = Field("5m", description="How long Ollama keeps the model loaded.")


class RetrievalSettings(BaseModel):
    candidates: int = Field(40, ge=5, le=500, description="Chunks fetched per retriever.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")


class APISettings(BaseModel):
    max_message_chars: int = Field(2000, ge=10, description="Longest accepted chat message.")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest JSON request body.")
    max_upload_bytes: int = Field(50_000_000, ge=1024, description="Largest ingest upload.")
    rate_limit_per_minute: int = Field(0, ge=0, description="Per key or client; 0 disables.")


class Settings(BaseSettings):
    """Aisle's settings. Environment: ``AISLE_<NAME>``, nested ``AISLE_LLM__BACKEND``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Field(Path(".aisle"), description="Embedded Chroma, BM25 index, jobs.")
    chroma_url: str = Field(
        "", description="Empty: embedded Chroma under data_dir. Set: a Chroma server URL."
    )
    collection: str = Field("products", description="Chroma collection name.")
    admin_token: SecretStr | None = Field(
        None, description="Bearer token for operator endpoints; they are disabled while unset."
    )
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys; when set, search/chat need one (X-API-Key or Bearer).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed by CORS."
    )
    ingest_root: Path | None = Field(
        None, description="Server-side folder that POST /v1/ingest may read paths from."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    ollama: OllamaSettings = Field(default_factory=OllamaSettings)
    api: APISettings = Field(default_factory=APISettings)

    @field_validator("chroma_url")
    @classmethod
    def _check_chroma_url(cls, value: str) -> str:
        value = value.strip()
        if value and not re.match(r"^https?://[^/\s:]+(:\d{1,5})?/?$", value):
            raise ValueError("must be empty or like http://host:port")
        return value.rstrip("/")

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("collection")
    @classmethod
    def _check_collection(cls, value: str) -> str:
        if not _COLLECTION_NAME.match(value):
            raise ValueError(
                "must be 3-58 characters of letters, digits, '.', '_' or '-', "
                "starting and ending with a letter or digit"
            )
        return value

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def keyword_dir(self) -> Path:
        return self.data_dir / "bm25" / self.collection


def _env_name(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc if not isinstance(part, int))


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (and ``.env``); fail naming the bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{_env_name(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"invalid settings: {problems}") from None
