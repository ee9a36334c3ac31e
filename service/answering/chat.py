"""One chat turn as a stream of events: retrieve -> prompt -> backend -> guard -> fallback.

The JSON endpoint collects the same events the streaming endpoint sends, so both answer alike.
Events, in order: ``sources`` (once), ``token`` (zero or more), ``done`` (the full response).
When an LLM answer is streamed, its tokens go out as they come, but ``done`` carries the final
answer, which the grounding guard or a fallback may have replaced: clients show ``done.answer``.
No FastAPI here: errors are :class:`service.errors.AppError` subclasses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import anyio

from aisle.settings import LLMSettings
from catalog.models import Filters
from catalog.store import StoreError
from service.answering.answerer import Answerer, Outcome
from service.answering.backends.base import (
    BackendFailure,
    GenerationParams,
    LLMBackend,
    describe_failure,
)
from service.answering.backends.factory import Backends
from service.answering.catalog_view import CatalogView
from service.answering.chat_answer import cited_sources, fallback_answer, hit_sources
from service.answering.guard import check_answer
from service.answering.observe import ChatObserver, GenerationSlots, NoObserver
from service.answering.prompt import build_messages, echoes_instructions
from service.answering.types import Answer, Turn
from service.errors import AppError, Busy, ServiceUnavailable

log = logging.getLogger(__name__)

_WORDS_PER_TOKEN_EVENT = 3
_REFUSAL = re.compile(r"not (?:in|found in|available in) the catalog", re.IGNORECASE)
_RETRY_AFTER_S = 2


@dataclass
class ChatQuery:
    message: str
    history: list[Turn] = field(default_factory=list)
    filters: Filters | None = None
    backend: str | None = None
    params: GenerationParams = field(default_factory=GenerationParams)
    k: int = 5


@dataclass
class ChatEvent:
    kind: Literal["sources", "token", "done"]
    data: Any


class ChatService:
    def __init__(
        self,
        answering: Callable[[], tuple[Answerer, CatalogView]],
        backends: Backends,
        settings: LLMSettings,
        observer: ChatObserver | None = None,
    ) -> None:
        self._answering = answering
        self.backends = backends
        self.settings = settings
        self.slots = GenerationSlots(settings.max_concurrent)
        self.observer: ChatObserver = observer or NoObserver()

    def start(self, query: ChatQuery) -> ChatRun:
        """Check the backend and reserve a generation slot before any byte is sent."""
        name = query.backend or self.backends.default
        if not self.backends.is_available(name):
            raise AppError(
                f"backend {name!r} is not configured here; available: "
                + ", ".join(self.backends.available),
                code="unknown_backend",
            )
        llm = self.backends.llm(name)
        if llm is not None and not self.slots.try_acquire():
            self.observer.record_busy(name)
            raise Busy(
                f"{self.slots.limit} answers are being generated; retry in a moment",
                headers={"Retry-After": str(_RETRY_AFTER_S)},
            )
        return ChatRun(self, query, name, llm)

    async def answer(self, query: ChatQuery) -> dict[str, Any]:
        return await self.start(query).collect()


class ChatRun:
    """One reserved chat turn; iterate :meth:`events` exactly once."""

    def __init__(
        self, service: ChatService, query: ChatQuery, backend: str, llm: LLMBackend | None
    ) -> None:
        self._service = service
        self.query = query
        self.backend = backend
        self._llm = llm
        self._holds_slot = llm is not None
        self._started = time.perf_counter()

    def release(self) -> None:
        """Give the generation slot back (idempotent; also called if never iterated)."""
        if self._holds_slot:
            self._holds_slot = False
            self._service.slots.release()

    async def collect(self) -> dict[str, Any]:
        """The JSON answer: the ``done`` event of the same events the stream would send."""
        done: dict[str, Any] = {}
        async for event in self.events():
            if event.kind == "done":
                done = event.data
        return done

    async def events(self) -> AsyncIterator[ChatEvent]:
        try:
            async for event in self._events():
                yield event
        finally:
            self.release()

    async def _events(self) -> AsyncIterator[ChatEvent]:
        observer = self._service.observer
        outcome = await self._plan()
        retrieval_ms = _ms_since(self._started)
        observer.observe_retrieval(retrieval_ms / 1000)
        generation_started = time.perf_counter()

        # Small talk, help and out-of-scope messages have no facts for a model to phrase.
        if self._llm is None or outcome.plan.intent in _NO_FACTS:
            answer = outcome.answer
            yield ChatEvent("sources", [asdict(source) for source in answer.sources])
            for piece in word_chunks(answer.text):
                yield ChatEvent("token", {"text": piece})
        else:
            yield ChatEvent(
                "sources", [asdict(source) for source in hit_sources(outcome.execution.hits)]
            )
            streamed: list[str] = []
            failure: str | None = None
            try:
                async for piece in self._generate(self._llm, outcome):
                    streamed.append(piece)
                    yield ChatEvent("token", {"text": piece})
            except BackendFailure as exc:
                failure = str(exc)
            observer.observe_backend(
                self.backend, time.perf_counter() - generation_started, ok=failure is None
            )
            if failure is not None:
                observer.record_fallback(self.backend, "unavailable")
            answer = self._settle(outcome, "".join(streamed), failure)
            if failure is not None and not streamed:
                for piece in word_chunks(answer.text):
                    yield ChatEvent("token", {"text": piece})

        if answer.refused:
            observer.record_refusal(self.backend)
        generation_ms = _ms_since(generation_started)
        execution = outcome.execution
        yield ChatEvent(
            "done",
            {
                "answer": answer.text,
                "sources": [asdict(source) for source in answer.sources],
                "refused": answer.refused,
                "reason": answer.reason,
                "backend": self.backend,
                "timings_ms": {
                    "retrieval": retrieval_ms,
                    "generation": generation_ms,
                    "total": _ms_since(self._started),
                },
                "filters": outcome.plan.filters.model_dump(exclude_none=True),
                "relaxed": execution.relaxed,
                "plan": {**outcome.plan.to_dict(), "evidence_score": execution.evidence_score},
            },
        )

    async def _plan(self) -> Outcome:
        query = self.query
        try:
            answerer, view = self._service._answering()
            return await anyio.to_thread.run_sync(
                lambda: answerer.run(query.message, query.history, query.filters, view, query.k)
            )
        except StoreError as exc:
            raise ServiceUnavailable(
                f"the product store is unavailable: {exc}", code="store_unavailable"
            ) from exc

    async def _generate(self, llm: LLMBackend, outcome: Outcome) -> AsyncIterator[str]:
        """The model's text pieces; any failure, or the deadline passing, is a BackendFailure."""
        messages = build_messages(outcome.execution, self.query.history, outcome.view)
        deadline = time.monotonic() + llm.timeout_s
        pieces = llm.stream(messages, self.query.params).__aiter__()
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    if remaining <= 0:
                        raise TimeoutError
                    async with asyncio.timeout(remaining):
                        piece = await anext(pieces)
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    log.warning(
                        "%s backend failed: %s", llm.name, type(exc).__name__, exc_info=False
                    )
                    raise BackendFailure(f"the {llm.name} model {describe_failure(exc)}") from exc
                yield piece
        finally:
            aclose = getattr(pieces, "aclose", None)
            if aclose is not None:
                # The stream may already have failed: closing it is best effort.
                with contextlib.suppress(Exception):
                    await aclose()

    def _settle(self, outcome: Outcome, text: str, failure: str | None) -> Answer:
        """The LLM answer if it is grounded; else the deterministic answer saying why."""
        if failure is not None:
            if self._service.settings.fallback == "none":
                raise ServiceUnavailable(
                    f"{failure}; no fallback is configured", code="backend_unavailable"
                )
            return fallback_answer(
                outcome, f"{failure}, so this answer comes from the catalog directly"
            )
        text = text.strip()
        if not text:
            return fallback_answer(
                outcome, "the model returned an empty answer, so this answer comes from the catalog"
            )
        if echoes_instructions(text):
            self._service.observer.record_guard_replacement(self.backend)
            return fallback_answer(
                outcome,
                "the model's answer repeated its instructions, "
                "so this answer comes from the catalog directly",
            )
        refusing = bool(_REFUSAL.search(text))
        if refusing and outcome.answer.refused:  # the facts lack the answer: the model is right
            return Answer(text, [], refused=True, reason=outcome.answer.reason)
        if refusing and not re.search(r"\d", _CITATIONS.sub("", text)):
            self._service.observer.record_guard_replacement(self.backend)
            return fallback_answer(
                outcome,
                "the model said the catalog lacks the answer although its facts hold it, "
                "so this answer comes from the catalog directly",
            )
        guard = check_answer(text, outcome.execution, outcome.view)
        if not guard.ok:
            self._service.observer.record_guard_replacement(self.backend)
            problems = "; ".join(guard.problems[:3])
            return fallback_answer(
                outcome,
                f"the model's answer failed the fact check ({problems}), "
                "so this answer comes from the catalog directly",
            )
        return Answer(text=text, sources=cited_sources(outcome, guard.cited))


_NO_FACTS = frozenset({"small_talk", "help", "out_of_scope"})
_CITATIONS = re.compile(r"\[[^\]]*\]")


def word_chunks(text: str, words: int = _WORDS_PER_TOKEN_EVENT) -> list[str]:
    """Split text into pieces of a few words that concatenate back to exactly ``text``."""
    pieces = re.findall(r"\S+\s*|\s+", text)
    return ["".join(pieces[i : i + words]) for i in range(0, len(pieces), words)]


def _ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)
