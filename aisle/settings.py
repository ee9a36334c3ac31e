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
    batch_size: int = Field(
        32, ge=1, le=4096, description="Texts per encode call (a query waits one at most)."
    )
    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx-int8",
        description="torch (sentence-transformers), onnx (ONNX Runtime, fp32) or onnx-int8 "
        "(int8 weights). A collection remembers its backend: switching needs a re-ingest.",
    )
    threads: int | None = Field(
        None, ge=1, le=256, description="ONNX Runtime threads for ingest batches; empty: all cores."
    )
    query_threads: int = Field(1, ge=1, le=256, description="ONNX Runtime threads per query.")
    cache_dir: Path | None = Field(
        None, description="Where ONNX exports are cached; empty: <data_dir>/models."
    )


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
    # Chosen on the dev halves of the graded search sets (bench/retrieval.py --sweep).
    fusion: Literal["rrf", "linear"] = Field(
        "rrf",
        description="How dense and keyword rankings are fused: rrf (weighted reciprocal rank) "
        "or linear (weighted sum of per-query normalised scores).",
    )
    dense_weight: float = Field(
        0.4, ge=0.0, le=1.0, description="Weight of the dense side; the keyword side gets the rest."
    )
    normalisation: Literal["minmax", "zscore"] = Field(
        "minmax", description="Per-query score normalisation of the linear fusion."
    )


class CatalogSettings(BaseModel):
    """Overrides of what ingestion learns from the catalog (empty: learned)."""

    currency: str | None = Field(
        None, description="ISO 4217 code of the catalog's prices, e.g. INR; empty: learned."
    )
    locale: str | None = Field(
        None, description="Locale for reading and printing amounts, e.g. en_IN; empty: learned."
    )

    @field_validator("currency")
    @classmethod
    def _check_currency(cls, value: str | None) -> str | None:
        from babel.numbers import is_currency

        value = (value or "").strip().upper() or None
        if value is not None and not is_currency(value):
            raise ValueError("must be an ISO 4217 currency code such as USD, EUR or INR")
        return value

    @field_validator("locale")
    @classmethod
    def _check_locale(cls, value: str | None) -> str | None:
        from babel import Locale, UnknownLocaleError

        value = (value or "").strip().replace("-", "_") or None
        if value is not None:
            try:
                Locale.parse(value)
            except (UnknownLocaleError, ValueError):
                raise ValueError("must be a locale such as en_US, en_IN or de_DE") from None
        return value


class APISettings(BaseModel):
    max_message_chars: int = Field(2000, ge=10, description="Longest accepted chat message.")
    max_query_chars: int = Field(500, ge=10, le=20_000, description="Longest search query.")
    max_history_chars: int = Field(
        8000, ge=10, le=100_000, description="Longest content of one earlier chat turn."
    )
    max_filter_chars: int = Field(
        200, ge=1, le=1000, description="Longest brand or category filter value."
    )
    max_path_chars: int = Field(1024, ge=16, le=4096, description="Longest ingest path.")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest JSON request body.")
    max_upload_bytes: int = Field(50_000_000, ge=1024, description="Largest ingest upload.")
    rate_limit_per_minute: int = Field(0, ge=0, description="Per key or client; 0 disables.")
    rate_limit_storage: str = Field(
        "memory://",
        description="Where rate-limit counters live (a `limits` storage URI). memory:// counts "
        "per process; replicas need a shared one (redis://host:6379, memcached://host:11211).",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated addresses or CIDR ranges of reverse proxies whose "
        "X-Forwarded-For names the client (rate limits per client address).",
    )
    protect_catalog: bool | None = Field(
        None,
        description="API keys also guard /v1/products and /v1/facets (and every other catalog "
        "endpoint). Default: true when AISLE_API_KEYS is set.",
    )
    catalog_refresh_s: float = Field(
        1.0,
        ge=0.0,
        le=300.0,
        description="How often a process checks the store's generation (new ingests).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR range") from None
        return value


class IngestSettings(BaseModel):
    lease_s: float = Field(
        30.0, ge=3.0, le=3600.0, description="Ingest lock lease; renewed every third of it."
    )
    embed_slice: int = Field(
        64,
        ge=1,
        le=4096,
        description="Texts per encode call while ingesting (queries wait for one slice at most).",
    )


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
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)

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

    @property
    def ingest_lock_file(self) -> Path | None:
        """The embedded store's file lock (a Chroma server is guarded by its lease alone)."""
        return None if self.chroma_url else self.data_dir / "jobs" / f"{self.collection}.lock"

    @property
    def catalog_protected(self) -> bool:
        if self.api.protect_catalog is None:
            return bool(self.api_keys)
        return self.api.protect_catalog


def _env_name(loc: tuple[int | str, ...]) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc if not isinstance(part, int))


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment (and ``.env``); fail naming the bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{_env_name(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"invalid settings: {problems}") from None
