"""A local Ollama server through langchain-ollama's ``ChatOllama``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from langchain_core.messages import BaseMessage

from aisle.settings import LLMSettings, OllamaSettings
from service.answering.backends.base import GenerationParams, describe_failure, stream_text


class OllamaBackend:
    name = "ollama"

    def __init__(self, settings: OllamaSettings, llm: LLMSettings) -> None:
        from langchain_ollama import ChatOllama

        self.timeout_s = settings.timeout_s
        self.model = settings.model
        self.base_url = settings.base_url.rstrip("/")
        self._llm = llm
        self.chat = ChatOllama(
            model=settings.model,
            base_url=self.base_url,
            keep_alive=settings.keep_alive,
            temperature=llm.temperature,
            top_p=llm.top_p,
            num_predict=llm.max_tokens,
            # CPU machines load and generate slowly: one long timeout for every phase.
            client_kwargs={"timeout": settings.timeout_s},
        )

    def request_options(self, params: GenerationParams) -> dict[str, Any]:
        return {
            "options": {
                "temperature": self._llm.temperature
                if params.temperature is None
                else params.temperature,
                "top_p": self._llm.top_p if params.top_p is None else params.top_p,
                "num_predict": self._llm.max_tokens
                if params.max_tokens is None
                else params.max_tokens,
            }
        }

    def stream(self, messages: list[BaseMessage], params: GenerationParams) -> AsyncIterator[str]:
        return stream_text(self.chat, messages, self.request_options(params))

    async def check_ready(self) -> str | None:
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(f"{self.base_url}/api/tags")
                response.raise_for_status()
                names = {model.get("name") for model in response.json().get("models", [])}
        except Exception as exc:
            return f"Ollama at {self.base_url} is not usable: {describe_failure(exc)}"
        wanted = self.model if ":" in self.model else f"{self.model}:latest"
        if self.model not in names and wanted not in names:
            return f"Ollama has no model {self.model} (run: ollama pull {self.model})"
        return None

    async def aclose(self) -> None:
        # ChatOllama exposes no close; its ollama.AsyncClient wraps an httpx client.
        client = getattr(getattr(self.chat, "_async_client", None), "_client", None)
        if isinstance(client, httpx.AsyncClient):
            await client.aclose()
