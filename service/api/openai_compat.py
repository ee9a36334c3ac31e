"""OpenAI-compatible API: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Any OpenAI client can use Aisle as a model: ``model`` is ``aisle`` (the default backend) or
``aisle:<backend>``; the last user message is the question, earlier user/assistant turns the
history. System messages are ignored: answers follow Aisle's own grounded prompt and guard, and
many clients always send a generic system prompt, so refusing them would lock those clients out.

Streaming sends the *final* answer: an LLM's raw tokens are buffered until the grounding guard
has accepted (or replaced) them, so the concatenated ``delta.content`` always equals the JSON
answer. The cost: for LLM backends the first content arrives when generation ends (a role chunk
goes out at once). Extractive answers are final as they are made and stream directly.

Errors leave in OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``: the route
class below handles this router's errors; :class:`OpenAIErrorShape` converts the refusals of the
edge middleware (API key, rate limit, body size) on these paths.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from sse_starlette import EventSourceResponse
from starlette.background import BackgroundTask

from aisle.settings import APISettings
from service.answering.backends.base import GenerationParams
from service.answering.backends.factory import Backends
from service.answering.chat import ChatEvent, ChatQuery, word_chunks
from service.answering.types import Turn
from service.deps import BackendsDep, ChatDep, SettingsDep
from service.errors import AppError
from service.openai_errors import OpenAIError, OpenAIErrorShape, OpenAIRoute, error_data
from service.openai_schemas import (
    MODEL_PREFIX,
    AisleDetails,
    AssistantMessage,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    Choice,
    Citation,
    ModelCard,
    ModelList,
    OpenAIErrorResponse,
)
from service.schemas import check_text_limits

log = logging.getLogger(__name__)

COMPLETIONS_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
_HISTORY_TURNS = 50  # what POST /v1/chat accepts; older turns are dropped


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": OpenAIErrorResponse, "description": description}
    for status, description in {
        400: "Malformed JSON or an unsupported parameter (n > 1, tools...).",
        401: "An API key is required (when AISLE_API_KEYS is set): Authorization: Bearer.",
        404: "No such model (see GET /v1/models).",
        413: "The body is larger than AISLE_API__MAX_BODY_BYTES.",
        422: "Invalid request.",
        429: "Too many generations or requests; see Retry-After.",
        500: "Internal error (logged).",
        503: "The store, or the model without fallback, is down.",
    }.items()
}
router = APIRouter(tags=["openai"], route_class=OpenAIRoute, responses=_ERRORS)


def _cards(backends: Backends, created: int) -> list[ModelCard]:
    cards = [ModelCard(id=MODEL_PREFIX, created=created, backend=backends.default)]
    for name in backends.available:
        cards.append(ModelCard(id=f"{MODEL_PREFIX}:{name}", created=created, backend=name))
    return cards


def _backend_for(model: str, backends: Backends) -> str:
    """The backend a model name selects; 404 (OpenAI's model_not_found) for any other name."""
    for card in _cards(backends, 0):
        if card.id == model:
            return card.backend
    names = ", ".join(card.id for card in _cards(backends, 0))
    raise OpenAIError(
        404, "model_not_found", f"the model {model!r} does not exist; available: {names}", "model"
    )


@router.get(MODELS_PATH, response_model=ModelList, summary="Models (OpenAI-compatible)")
async def list_models(request: Request, backends: BackendsDep) -> ModelList:
    return ModelList(data=_cards(backends, request.app.state.openai_created))


@router.get(MODELS_PATH + "/{model_id}", response_model=ModelCard, summary="One model")
async def get_model(model_id: str, request: Request, backends: BackendsDep) -> ModelCard:
    backend = _backend_for(model_id, backends)
    return ModelCard(id=model_id, created=request.app.state.openai_created, backend=backend)


def _text(message: ChatMessage, index: int) -> str:
    if isinstance(message.content, list):
        if any(part.type != "text" for part in message.content):
            raise OpenAIError(
                400,
                "unsupported_content",
                "only text content parts are supported",
                f"messages[{index}].content",
            )
        return "\n".join(part.text or "" for part in message.content)
    return message.content or ""


def _turns(messages: list[ChatMessage]) -> list[tuple[int, Turn]]:
    """(message index, turn) of every user and assistant message, in order."""
    turns = []
    for index, message in enumerate(messages):
        if message.role in ("system", "developer"):
            continue  # see the module docstring
        if message.role not in ("user", "assistant") or (message.model_extra or {}).get(
            "tool_calls"
        ):
            raise OpenAIError(
                400,
                "unsupported_parameter",
                "tool and function messages are not supported",
                f"messages[{index}].role",
            )
        turns.append((index, Turn(message.role, _text(message, index))))
    return turns


def to_query(body: ChatCompletionRequest, backend: str, limits: APISettings) -> ChatQuery:
    """The Aisle chat turn an OpenAI request asks for (400/422 when it cannot be one), with
    the same text limits as ``POST /v1/chat``."""
    unsupported = body.unsupported()
    if unsupported is not None:
        raise OpenAIError(400, "unsupported_parameter", unsupported[1], unsupported[0])
    turns = _turns(body.messages)
    last = len(body.messages) - 1
    if not turns or turns[-1][1].role != "user" or body.messages[-1].role != "user":
        raise OpenAIError(
            422,
            "invalid_request",
            "the last message must be the user's question",
            f"messages[{last}].role",
        )
    question = turns[-1][1].content
    if not question.strip():
        raise OpenAIError(
            422, "invalid_request", "the question is blank", f"messages[{last}].content"
        )
    if len(question) > limits.max_message_chars:
        raise OpenAIError(
            422,
            "message_too_long",
            f"the question has {len(question)} characters; at most {limits.max_message_chars}",
            f"messages[{last}].content",
        )
    history = turns[:-1][-_HISTORY_TURNS:]
    for index, turn in history:
        if len(turn.content) > limits.max_history_chars:
            raise OpenAIError(
                422,
                "too_long",
                f"an earlier message has {len(turn.content)} characters; "
                f"at most {limits.max_history_chars}",
                f"messages[{index}].content",
            )
    problems = check_text_limits(limits, filters=body.filters)
    if problems:
        raise OpenAIError(422, "too_long", "; ".join(problems), "filters")
    max_tokens = body.max_completion_tokens or body.max_tokens
    return ChatQuery(
        message=question,
        history=[turn for _, turn in history],
        filters=body.filters,
        backend=backend,
        params=GenerationParams(body.temperature, body.top_p, max_tokens),
    )


def citations(done: dict[str, Any]) -> list[Citation]:
    """One citation per product the answer relies on, in the order of its sources."""
    seen: dict[str, Citation] = {}
    for source in done["sources"]:
        pid = source["product_id"]
        if pid not in seen:
            seen[pid] = Citation(product_id=pid, title=source["title"], snippet=source["snippet"])
    return list(seen.values())


@router.post(
    COMPLETIONS_PATH,
    response_model=ChatCompletion,
    summary="Chat completion (OpenAI-compatible)",
    description="The grounded answer as an OpenAI `chat.completion`; with `stream: true`, "
    "`chat.completion.chunk` events (`data: {...}`) ending with `data: [DONE]`. Citations "
    "are inline (`[product_id]`) and in `citations`.",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    body: ChatCompletionRequest, chat: ChatDep, backends: BackendsDep, settings: SettingsDep
) -> Any:
    backend = _backend_for(body.model, backends)
    run = chat.start(to_query(body, backend, settings.api))
    header = _ChunkHeader(f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), f"aisle:{backend}")
    if not body.stream:
        done = await run.collect()
        return ChatCompletion(
            id=header.id,
            created=header.created,
            model=header.model,
            choices=[Choice(message=AssistantMessage(content=done["answer"]))],
            citations=citations(done),
            aisle=AisleDetails.model_validate(done),
        )
    events = run.events().__aiter__()
    try:
        first = await anext(events)  # retrieval: a store failure is still a plain HTTP error
    except BaseException:
        run.release()
        raise
    live = backends.llm(backend) is None  # extractive pieces are already the final answer
    # The background task frees the generation slot even if the client left early.
    return EventSourceResponse(
        _chunks(header, first, events, live), sep="\n", background=BackgroundTask(run.release)
    )


@dataclass(frozen=True)
class _ChunkHeader:
    id: str
    created: int
    model: str

    def chunk(self, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict:
        data = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return {"data": json.dumps(data)}


async def _chunks(
    header: _ChunkHeader, first: ChatEvent, events: AsyncIterator[ChatEvent], live: bool
) -> AsyncIterator[dict[str, str]]:
    """Role chunk, content chunks, the final chunk with citations, ``[DONE]``; or an error."""
    yield header.chunk({"role": "assistant", "content": ""})
    try:
        event = first
        while True:
            if event.kind == "token" and live:
                yield header.chunk({"content": event.data["text"]})
            elif event.kind == "done":
                if not live:
                    for piece in word_chunks(event.data["answer"]):
                        yield header.chunk({"content": piece})
                cited = [c.model_dump() for c in citations(event.data)]
                details = AisleDetails.model_validate(event.data).model_dump()
                yield header.chunk({}, "stop", citations=cited, aisle=details)
            try:
                event = await anext(events)
            except StopAsyncIteration:
                break
    except AppError as exc:
        yield error_data(exc.status_code, exc.code, exc.message)
        return
    except Exception:
        log.exception("chat completion stream failed")
        yield error_data(500, None, "an internal error occurred; it has been logged")
        return
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()  # end the model stream now, not when it is garbage-collected
    yield {"data": "[DONE]"}


def is_openai_path(path: str) -> bool:
    return path in (COMPLETIONS_PATH, MODELS_PATH) or path.startswith(MODELS_PATH + "/")


def install_openai_compat(app: FastAPI) -> None:
    """Add the routes; call after ``install_ops`` so the error reshaping wraps its middleware."""
    app.state.openai_created = int(time.time())
    app.include_router(router)
    app.add_middleware(OpenAIErrorShape, applies_to=is_openai_path)
