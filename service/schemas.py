"""Request and response models of the REST API; their examples become the OpenAPI docs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from catalog.models import Filters

BackendName = Literal["extractive", "openai", "ollama"]

# The configured limit (AISLE_API__MAX_MESSAGE_CHARS, default 2000) is checked per request and
# written into the OpenAPI schema by create_app; this is only the absolute ceiling.
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
    default_backend: str


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

    query: str = Field(min_length=1, max_length=MESSAGE_CEILING, description="What to find.")
    k: int = Field(5, ge=1, le=50, description="Products to return (1-50).")
    filters: Filters | None = Field(None, description="Explicit constraints; they win.")

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


# -- chat -----------------------------------------------------------------------------------
class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(max_length=MESSAGE_CEILING)


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
