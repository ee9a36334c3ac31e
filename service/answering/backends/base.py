"""What the chat orchestration needs from an LLM backend: stream text, say whether it is ready."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage


@dataclass(frozen=True)
class GenerationParams:
    """Per-request generation controls (None: the backend's configured default)."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None


class BackendFailure(RuntimeError):
    """The model server could not answer (down, too slow, rejected the key, ...)."""


class LLMBackend(Protocol):
    name: str
    timeout_s: float  # the whole generation must end within this

    def stream(self, messages: list[BaseMessage], params: GenerationParams) -> AsyncIterator[str]:
        """Text pieces of the model's answer, in order."""
        ...

    async def check_ready(self) -> str | None:
        """None when the server answers and has the model; else what is wrong."""
        ...

    async def aclose(self) -> None: ...


async def stream_text(
    chat: BaseChatModel, messages: list[BaseMessage], options: dict[str, Any]
) -> AsyncIterator[str]:
    """The non-empty text pieces of a LangChain chat model's streamed answer."""
    async for chunk in chat.astream(messages, **options):
        text = str(chunk.text)
        if text:
            yield text


def describe_failure(exc: BaseException) -> str:
    """A short, secret-free description of why a model call failed."""
    name = type(exc).__name__
    text = str(exc).lower()
    if isinstance(exc, TimeoutError) or "timeout" in name.lower() or "timed out" in text:
        return "it did not answer in time"
    if "auth" in name.lower() or "401" in text or "unauthorized" in text:
        return "it rejected the credentials"
    if "connect" in name.lower() or "connection" in text or "refused" in text:
        return "it could not be reached"
    return f"it failed ({name})"
