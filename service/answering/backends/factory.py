"""Build the configured LLM backends by name; the extractive backend needs no client."""

from __future__ import annotations

import logging

from aisle.settings import Settings, SettingsError
from service.answering.backends.base import LLMBackend

log = logging.getLogger(__name__)

EXTRACTIVE = "extractive"


class Backends:
    """The LLM clients this process has, by name ("extractive" is always available)."""

    def __init__(self, default: str, llms: dict[str, LLMBackend]) -> None:
        self.default = default
        self._llms = llms

    @property
    def available(self) -> list[str]:
        return [EXTRACTIVE, *self._llms]

    def is_available(self, name: str) -> bool:
        return name == EXTRACTIVE or name in self._llms

    def llm(self, name: str) -> LLMBackend | None:
        """The LLM client for ``name``; None for the extractive backend."""
        return self._llms.get(name)

    async def check_ready(self, name: str) -> str | None:
        backend = self._llms.get(name)
        return None if backend is None else await backend.check_ready()

    async def aclose(self) -> None:
        for backend in self._llms.values():
            try:
                await backend.aclose()
            except Exception:  # closing must never stop the shutdown
                log.warning("closing the %s backend failed", backend.name, exc_info=True)


def build_backends(settings: Settings) -> Backends:
    """Every backend that is configured.

    - openai: when a key (AISLE_OPENAI__API_KEY or OPENAI_API_KEY) or a base URL is set;
    - ollama: when it is the default backend or any AISLE_OLLAMA__* setting was given
      (a local server cannot be assumed; /readyz checks it is really there).
    A default backend that is not configured fails the start with the setting's name.
    """
    llms: dict[str, LLMBackend] = {}
    try:
        from service.answering.backends.openai import OpenAIBackend

        llms["openai"] = OpenAIBackend(settings.openai, settings.llm)
    except Exception as exc:
        if settings.llm.backend == "openai":
            raise SettingsError(
                "AISLE_LLM__BACKEND=openai needs AISLE_OPENAI__API_KEY, OPENAI_API_KEY or "
                f"AISLE_OPENAI__BASE_URL ({type(exc).__name__})"
            ) from None
    if settings.llm.backend == "ollama" or settings.ollama.model_fields_set:
        from service.answering.backends.ollama import OllamaBackend

        llms["ollama"] = OllamaBackend(settings.ollama, settings.llm)
    return Backends(settings.llm.backend, llms)
