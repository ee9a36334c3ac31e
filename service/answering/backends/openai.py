"""Any OpenAI-compatible chat server through langchain-openai's ``ChatOpenAI``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from langchain_core.messages import BaseMessage
from pydantic import SecretStr

from aisle.settings import LLMSettings, OpenAISettings
from service.answering.backends.base import GenerationParams, describe_failure, stream_text

# OpenAI-compatible servers (llama.cpp, vLLM...) often want no key, but the client insists.
_PLACEHOLDER_KEY = "not-needed"


class OpenAIBackend:
    name = "openai"

    def __init__(self, settings: OpenAISettings, llm: LLMSettings) -> None:
        from langchain_openai import ChatOpenAI

        self.timeout_s = settings.timeout_s
        self._llm = llm
        # Our own HTTP client, so that closing it never touches one another app shares.
        self._http = httpx.AsyncClient(timeout=settings.timeout_s)
        kwargs: dict[str, Any] = {
            "model": settings.model,
            "timeout": settings.timeout_s,
            "max_retries": settings.max_retries,
            "http_async_client": self._http,
            # Our deadline governs; langchain's own 120 s chunk gap would cut slow CPU servers.
            "stream_chunk_timeout": settings.timeout_s,
        }
        if settings.base_url:
            kwargs["base_url"] = settings.base_url
        if settings.api_key is not None:
            kwargs["api_key"] = settings.api_key
        try:
            # Without a key here ChatOpenAI reads OPENAI_API_KEY itself.
            self.chat = ChatOpenAI(**kwargs)
        except Exception:
            if not settings.base_url or settings.api_key is not None:
                raise
            self.chat = ChatOpenAI(**kwargs, api_key=SecretStr(_PLACEHOLDER_KEY))

    def request_options(self, params: GenerationParams) -> dict[str, Any]:
        """Per-call options. ``max_tokens`` goes in the body as is: langchain-openai renames its
        own field to ``max_completion_tokens``, which llama.cpp's server (and others) ignore."""
        llm = self._llm
        return {
            "temperature": llm.temperature if params.temperature is None else params.temperature,
            "top_p": llm.top_p if params.top_p is None else params.top_p,
            "extra_body": {
                "max_tokens": llm.max_tokens if params.max_tokens is None else params.max_tokens
            },
        }

    def stream(self, messages: list[BaseMessage], params: GenerationParams) -> AsyncIterator[str]:
        return stream_text(self.chat, messages, self.request_options(params))

    async def check_ready(self) -> str | None:
        try:
            client = self.chat.root_async_client.with_options(timeout=5.0, max_retries=0)
            await client.models.list()
        except Exception as exc:
            return f"the OpenAI-compatible server is not usable: {describe_failure(exc)}"
        return None

    async def aclose(self) -> None:
        await self._http.aclose()
