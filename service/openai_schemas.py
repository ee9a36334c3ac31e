"""Request and response models of the OpenAI-compatible API (``/v1/chat/completions``,
``/v1/models``): OpenAI's field names and shapes, plus Aisle's citations as extra fields."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog.models import Filters
from service.schemas import MESSAGE_CEILING, SourceOut

MODEL_PREFIX = "aisle"  # "aisle" = the default backend, "aisle:<backend>" = that backend


# -- request --------------------------------------------------------------------------------
class ContentPart(BaseModel):
    """One part of a multi-part message; only ``text`` parts can be answered."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(max_length=64)
    text: str | None = Field(None, max_length=MESSAGE_CEILING)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls...: checked by the router

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Annotated[str, Field(max_length=MESSAGE_CEILING)] | list[ContentPart] | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's request body. Parameters Aisle cannot honour without changing the answer's
    shape (``n`` > 1, tools, functions, a JSON response format, logprobs, audio) are refused
    with 400; others that only tune sampling (``stop``, ``seed``, penalties, ``user``...) are
    accepted and ignored, like unknown fields, so that any OpenAI client can talk to Aisle."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "aisle",
                    "messages": [
                        {
                            "role": "user",
                            "content": "How much is the Essence Mascara Lash Princess?",
                        }
                    ],
                },
                {
                    "model": "aisle:extractive",
                    "stream": True,
                    "messages": [
                        {"role": "user", "content": "laptops under $1200"},
                        {"role": "assistant", "content": "1. ... [78] 2. ... [80]"},
                        {"role": "user", "content": "does the second one have a warranty?"},
                    ],
                },
            ]
        },
    )

    model: str = Field(
        max_length=200,
        description='"aisle" (the default backend) or "aisle:<backend>", e.g. "aisle:openai".',
    )
    messages: list[ChatMessage] = Field(
        min_length=1,
        max_length=200,
        description="The conversation: the last message is the question and must be the "
        "user's; earlier user/assistant turns are the history (the last 50 are used); system "
        "and developer messages are ignored (Aisle's own grounded prompt governs answers).",
    )
    stream: bool | None = Field(False, description="Answer as chat.completion.chunk events.")
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(None, ge=1, le=8192)
    max_completion_tokens: int | None = Field(
        None, ge=1, le=8192, description="Wins over max_tokens when both are given."
    )
    n: int | None = Field(None, ge=1, le=128, description="Only 1 is supported.")
    filters: Filters | None = Field(
        None, description="Aisle extension (send with extra_body): explicit constraints."
    )

    def unsupported(self) -> tuple[str, str] | None:
        """(param, why) for the first parameter Aisle cannot honour, else None."""
        extra = self.model_extra or {}
        if self.n not in (None, 1):
            return "n", "only one choice (n=1) is supported"
        for name in ("tools", "functions"):
            if extra.get(name):
                return name, f"{name} are not supported: Aisle answers from its catalog only"
        for name in ("tool_choice", "function_call"):
            if extra.get(name) not in (None, "none", "auto"):
                return name, f"{name} is not supported: no tools can be called"
        response_format = extra.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") not in (None, "text"):
            return "response_format", "only text answers are supported"
        if extra.get("logprobs") or extra.get("top_logprobs"):
            return "logprobs", "log probabilities are not available for grounded answers"
        modalities = extra.get("modalities")
        if extra.get("audio") or (isinstance(modalities, list) and modalities != ["text"]):
            return "modalities", "only text answers are supported"
        return None


# -- responses ------------------------------------------------------------------------------
class Citation(BaseModel):
    """A product the answer cites inline as ``[product_id]``."""

    product_id: str
    title: str
    snippet: str


class AisleDetails(BaseModel):
    """What ``POST /v1/chat`` would also have said about this answer."""

    backend: str
    refused: bool
    reason: str | None = None
    sources: list[SourceOut]
    timings_ms: dict[str, float]
    filters: dict[str, Any] = Field(default_factory=dict)
    relaxed: list[str] | None = None
    plan: dict[str, Any] | None = Field(
        None, description="How the message was understood (as POST /v1/chat reports it)."
    )


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str = Field(description="The grounded answer, with inline [product_id] citations.")
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str = Field(examples=["chatcmpl-0f8e4c2a9b7d4e1f8a6b5c4d3e2f1a0b"])
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = Field(examples=["aisle:extractive"], description="aisle:<backend that answered>")
    choices: list[Choice]
    usage: None = Field(None, description="Not counted: Aisle answers are not token-billed.")
    citations: list[Citation] = Field(description="The cited products (also inline).")
    aisle: AisleDetails


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One ``data:`` line of a streamed answer; the last one (``finish_reason: "stop"``) also
    carries ``citations`` and ``aisle``; ``data: [DONE]`` follows it."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    citations: list[Citation] | None = None
    aisle: AisleDetails | None = None


class ModelCard(BaseModel):
    id: str = Field(examples=["aisle:extractive"])
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "aisle"
    backend: str = Field(description="The answering backend this model name selects.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(examples=["invalid_request_error"])
    param: str | None = Field(None, examples=["messages"])
    code: str | None = Field(None, examples=["model_not_found"])


class OpenAIErrorResponse(BaseModel):
    """Every error of the OpenAI-compatible routes, in OpenAI's shape."""

    error: OpenAIErrorDetail
