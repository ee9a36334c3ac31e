"""POST /v1/chat: a cited answer as JSON, or the same answer as server-sent events."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette import EventSourceResponse
from starlette.background import BackgroundTask

from service.answering.backends.base import GenerationParams
from service.answering.chat import ChatQuery, ChatRun
from service.answering.types import Turn
from service.deps import ChatDep, SettingsDep
from service.errors import AppError, InvalidRequest, error_body
from service.schemas import ChatRequest, ChatResponse, ErrorResponse, check_text_limits

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["chat"])

_STREAM_DOC = (
    "With `stream: true` the answer comes as `text/event-stream`: `sources` (once, first), "
    '`token` (`{"text": ...}`, many), then `done` whose data is the full JSON response; an '
    '`error` event (`{"error": {"code", "message"}}`) ends a failed stream. Streamed LLM '
    "tokens are the model's raw text; `done.answer` is the final answer, which the grounding "
    "guard or a fallback may have replaced: show `done.answer`."
)


@router.post(
    "/chat",
    response_model=ChatResponse,
    description="Answer a shopper's question from the catalog, citing products. " + _STREAM_DOC,
    responses={
        200: {"content": {"text/event-stream": {}}},
        429: {"model": ErrorResponse, "description": "Too many generations; see Retry-After."},
        503: {"model": ErrorResponse, "description": "Model (without fallback) or store down."},
    },
)
async def chat(body: ChatRequest, chat: ChatDep, settings: SettingsDep) -> Any:
    limit = settings.api.max_message_chars
    if len(body.message) > limit:
        raise InvalidRequest(
            f"message: at most {limit} characters (got {len(body.message)})",
            code="message_too_long",
        )
    problems = check_text_limits(settings.api, history=body.history, filters=body.filters)
    if problems:
        raise InvalidRequest("; ".join(problems), code="too_long")
    run = chat.start(
        ChatQuery(
            message=body.message,
            history=[Turn(turn.role, turn.content) for turn in body.history],
            filters=body.filters,
            backend=body.backend,
            params=GenerationParams(body.temperature, body.top_p, body.max_tokens),
        )
    )
    if not body.stream:
        return await run.collect()
    # The background task frees the slot even when the client left before the stream began.
    return EventSourceResponse(_sse(run), background=BackgroundTask(run.release))


async def _sse(run: ChatRun) -> AsyncIterator[dict[str, str]]:
    try:
        async for event in run.events():
            yield {"event": event.kind, "data": json.dumps(event.data)}
    except AppError as exc:
        yield {"event": "error", "data": json.dumps(error_body(exc.code, exc.message))}
    except Exception:
        log.exception("chat stream failed")
        body = error_body("internal_error", "an internal error occurred; it has been logged")
        yield {"event": "error", "data": json.dumps(body)}
