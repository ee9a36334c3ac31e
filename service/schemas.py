"""Request and response models of the REST API; their examples become the OpenAPI docs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from catalog.models import Filters

BackendName = Literal["extractive", "openai", "ollama"]

# The configured limits (AISLE_API__MAX_QUERY_CHARS, _MAX_MESSAGE_CHARS, _MAX_HISTORY_CHARS,
# _MAX_FILTER_CHARS) are checked per request (:func:`check_text_limits`) and written into the
# OpenAPI schema at start-up; these are only the absolute ceilings.
QUERY_CEILING = 20_000
MESSAGE_CEILING = 100_000


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["k: Input should be less than or equal to 50"])


class ErrorResponse(BaseModel):
    """Every error the API returns, whatever the status."""

    error: ErrorDetail


# -- health ---------------------------------------------------------------------------------
class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    status: Literal["ready"] = "ready"
    products: int = Field(description="Products (core chunks) in the store.")
    chunks: int = Field(description="Chunks in the store.")
    generation: str = Field(description="The store generation this process serves.")
    default_backend: str
    backends: dict[str, str] = Field(
        default_factory=dict,
        description='The default backend (and the extractive one): "ok", or why it cannot '
        "answer now. An LLM that is down does not fail readiness while the extractive "
        "fallback serves.",
    )
    serving: str = Field(description="The backend answering the default requests right now.")


# -- search ---------------------------------------------------------------------------------
class SearchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"query": "laptops under $1200", "k": 5},
                {"query": "perfume", "k": 3, "filters": {"max_price": 80, "in_stock": True}},
            ]
        },
    )

    query: str = Field(
        min_length=1,
        max_length=QUERY_CEILING,
        description="What to find; at most AISLE_API__MAX_QUERY_CHARS characters (default 500).",
    )
    k: int = Field(5, ge=1, le=50, description="Products to return (1-50).")
    filters: Filters | None = Field(None, description="Explicit constraints; they win.")
    retriever: Literal["hybrid", "dense", "keyword", "fused"] = Field(
        "hybrid",
        description="hybrid (default): the served search (constraints read from the query, "
        "fused retrieval). dense, keyword or fused: that retrieval alone with the explicit "
        "filters only, no constraints read from the query (for evaluation).",
    )

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class SearchResult(BaseModel):
    product_id: str
    title: str
    price: float | None = None
    brand: str | None = None
    category: str | None = None
    in_stock: bool | None = None
    rating: float | None = None
    score: float
    snippet: str


class SearchResponse(BaseModel):
    results: list[SearchResult]
    filters: dict[str, Any] = Field(description="The constraints actually applied.")
    relaxed: list[str] | None = Field(
        None, description="Constraints dropped because nothing matched them."
    )
    plan: dict[str, Any] | None = Field(
        None, description="The request plan: intent, products, attributes, filters, sort, k."
    )


# -- chat -----------------------------------------------------------------------------------
class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(
        max_length=MESSAGE_CEILING,
        description="At most AISLE_API__MAX_HISTORY_CHARS characters (default 8000).",
    )


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"message": "How much is the Essence Mascara Lash Princess?"},
                {
                    "message": "does the second one have a warranty?",
                    "history": [
                        {"role": "user", "content": "laptops under $1200"},
                        {"role": "assistant", "content": "1. ... 2. ..."},
                    ],
                },
                {"message": "cheapest perfume in stock", "stream": True, "backend": "extractive"},
            ]
        },
    )

    message: str = Field(
        min_length=1,
        max_length=MESSAGE_CEILING,
        description="The shopper's question; at most AISLE_API__MAX_MESSAGE_CHARS characters "
        "(default 2000).",
    )
    history: list[HistoryTurn] = Field(
        default_factory=list, max_length=50, description="Earlier turns, oldest first."
    )
    filters: Filters | None = None
    stream: bool = Field(False, description="Answer as server-sent events.")
    backend: BackendName | None = Field(
        None, description="Override the default backend (only configured ones are accepted)."
    )
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1, le=8192)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class SourceOut(BaseModel):
    product_id: str
    title: str
    snippet: str
    score: float


class ChatResponse(BaseModel):
    """The answer; also the ``done`` event's data when streaming."""

    answer: str
    sources: list[SourceOut]
    refused: bool
    reason: str | None = None
    backend: str = Field(description="The backend whose answer this is.")
    timings_ms: dict[str, float] = Field(description="retrieval, generation and total.")
    filters: dict[str, Any] = Field(default_factory=dict)
    relaxed: list[str] | None = None
    plan: dict[str, Any] | None = Field(
        None,
        description="How the message was understood: intent (search, attribute, compare, "
        "recommend, small_talk, help, out_of_scope), products, attributes, filters, sort, k.",
    )


# -- catalog --------------------------------------------------------------------------------
class FacetCount(BaseModel):
    name: str
    count: int


class PriceRange(BaseModel):
    min: float | None = None
    max: float | None = None


class FacetsResponse(BaseModel):
    categories: list[FacetCount]
    brands: list[FacetCount]
    price: PriceRange
    backends: list[str] = Field(description="Configured answering backends.")
    default_backend: str
    examples: list[str] = Field(description="Questions drawn from the catalog.")
    currency: str = Field("USD", description="ISO 4217 code of the catalog's prices.")
    locale: str = Field("en_US", description="Locale to print prices in, e.g. en_IN.")


def check_text_limits(
    limits: Any,
    *,
    query: str | None = None,
    message: str | None = None,
    history: list[HistoryTurn] | None = None,
    filters: Filters | None = None,
) -> list[str]:
    """What exceeds the configured limits (``settings.api``), as ``field: problem`` lines."""
    problems = []
    if query is not None and len(query) > limits.max_query_chars:
        problems.append(f"query: at most {limits.max_query_chars} characters (got {len(query)})")
    if message is not None and len(message) > limits.max_message_chars:
        problems.append(
            f"message: at most {limits.max_message_chars} characters (got {len(message)})"
        )
    for n, turn in enumerate(history or []):
        if len(turn.content) > limits.max_history_chars:
            problems.append(
                f"history.{n}.content: at most {limits.max_history_chars} characters "
                f"(got {len(turn.content)})"
            )
    for name in ("brand", "category"):
        value = getattr(filters, name, None) if filters is not None else None
        if isinstance(value, str) and len(value) > limits.max_filter_chars:
            problems.append(f"filters.{name}: at most {limits.max_filter_chars} characters")
    return problems
