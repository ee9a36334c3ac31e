"""Who runs the model when: ingest batches must not starve a shopper's query."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Ingest yields to waiting queries, but never for longer than this per batch: under a constant
# query load an ingest still moves forward.
MAX_YIELD_S = 0.5


class PriorityGate:
    """Queries first: a bulk batch starts only when no query is waiting or running (or after it
    has yielded for ``MAX_YIELD_S``).

    ``exclusive`` (torch: one encode at a time) makes every encode wait for the one under way,
    so a query waits for one batch at most. Otherwise (ONNX Runtime sessions are thread-safe)
    a query never waits: it runs beside the batch under way, sharing the cores with it (a
    lower OS priority for batches was tried: on a shared machine it starved the ingest).
    """

    def __init__(self, *, exclusive: bool) -> None:
        self._cond = threading.Condition()
        self._exclusive = exclusive
        self._queries = 0  # waiting or running
        self._running = 0
        self._bulk = False

    @contextmanager
    def query(self) -> Iterator[None]:
        with self._cond:
            self._queries += 1
            while self._exclusive and (self._bulk or self._running):
                self._cond.wait()
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._queries -= 1
                self._running -= 1
                self._cond.notify_all()

    @contextmanager
    def bulk(self) -> Iterator[None]:
        deadline = time.monotonic() + MAX_YIELD_S
        with self._cond:
            while True:
                remaining = deadline - time.monotonic()
                if self._bulk or (self._exclusive and self._running):
                    self._cond.wait()
                elif self._queries and remaining > 0:
                    self._cond.wait(remaining)
                else:
                    break
            self._bulk = True
        try:
            yield
        finally:
            with self._cond:
                self._bulk = False
                self._cond.notify_all()
