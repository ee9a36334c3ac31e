"""What a chat turn reports to the service around it (metrics), and the LLM generation slots."""

from __future__ import annotations

import threading
from typing import Protocol


class ChatObserver(Protocol):
    """Where chat outcomes are counted (service.observability.Metrics in the app)."""

    def observe_retrieval(self, seconds: float) -> None: ...
    def observe_backend(self, backend: str, seconds: float, *, ok: bool = True) -> None: ...
    def record_refusal(self, backend: str) -> None: ...
    def record_guard_replacement(self, backend: str) -> None: ...
    def record_fallback(self, backend: str, reason: str) -> None: ...
    def record_busy(self, backend: str) -> None: ...


class NoObserver:
    """Counts nothing: a chat service built without the app (tests, tools)."""

    def observe_retrieval(self, seconds: float) -> None:
        pass

    def observe_backend(self, backend: str, seconds: float, *, ok: bool = True) -> None:
        pass

    def record_refusal(self, backend: str) -> None:
        pass

    def record_guard_replacement(self, backend: str) -> None:
        pass

    def record_fallback(self, backend: str, reason: str) -> None:
        pass

    def record_busy(self, backend: str) -> None:
        pass


class GenerationSlots:
    """At most ``limit`` LLM generations at once; the next one is refused, never queued."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_use = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self.in_use >= self.limit:
                return False
            self.in_use += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.in_use = max(0, self.in_use - 1)
