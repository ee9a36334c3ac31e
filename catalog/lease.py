"""The one-ingest-at-a-time lock of a collection, kept in the store itself.

The lock is the ``lock`` record of ``store.meta``, written with ``add_if_absent`` (Chroma ignores
an ``add`` of an existing id, embedded and server alike), so of two racing ingests exactly one
gets it, whichever process or machine they run on. It is a lease: the holder renews it every
``ttl / 3`` seconds from a background thread, and a holder that died stops renewing, so its
lock expires after ``ttl`` seconds and the next ingest takes it over. A takeover is itself
claimed with ``add_if_absent`` (one record per expired lease), so two processes never both
take over the same expired lock. An embedded store is also guarded by an ``flock`` on a file
beside it, which the kernel drops the moment a process dies.

Clocks: expiry compares wall-clock times of different machines; keep them in sync (NTP) and
the lease well above their skew.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from catalog.errors import StoreError
from catalog.meta import StoreMeta

log = logging.getLogger(__name__)

LOCK_KEY = "lock"
_TAKEOVER = "lock-takeover"


class LockHeld(Exception):
    """Another ingest holds the collection's lock; ``holder`` is its record (may be {})."""

    def __init__(self, holder: dict[str, Any]) -> None:
        self.holder = holder
        job = holder.get("job_id")
        who = f"job {job}" if job else f"{holder.get('kind', 'an ingest')} on {holder.get('host')}"
        super().__init__(f"an ingest is already running for this collection ({who})")


class LeaseLost(StoreError):
    """The lock was not renewed in time (store unreachable, process stalled): stop writing."""


class FileLock:
    """An exclusive, non-blocking ``flock``; the file names the holder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def write_holder(self, text: str) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, text.encode(), 0)

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class IngestLock:
    """Acquire, renew and release a collection's ingest lock (see the module docstring)."""

    def __init__(
        self,
        meta: StoreMeta,
        *,
        ttl_s: float = 30.0,
        lock_file: Path | None = None,
        kind: str = "ingest",
        clock: Any = time.time,
    ) -> None:
        self._meta = meta
        self.ttl_s = ttl_s
        self.owner = uuid.uuid4().hex
        self.info: dict[str, Any] = {"kind": kind, "host": socket.gethostname(), "pid": os.getpid()}
        self._file = FileLock(lock_file) if lock_file is not None else None
        self._clock = clock
        self._held = False
        self._lost = threading.Event()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._guard = threading.Lock()

    # -- acquiring ------------------------------------------------------------------------
    def acquire(self, **info: Any) -> None:
        """Take the lock or raise :class:`LockHeld`; ``info`` (e.g. ``job_id``) is recorded."""
        self.info.update(info)
        if self._file is not None and not self._file.try_acquire():
            raise LockHeld(_parse_holder(self._file.holder()))
        try:
            self._acquire_record()
        except BaseException:
            if self._file is not None:
                self._file.release()
            raise
        if self._file is not None:
            self._file.write_holder(self._holder_text())
        self._held = True
        self._renewer = threading.Thread(target=self._renew_loop, name="ingest-lease", daemon=True)
        self._renewer.start()

    def _acquire_record(self) -> None:
        for _ in range(3):
            stored = self._meta.add_if_absent(LOCK_KEY, self._record())
            if stored.get("owner") == self.owner:
                return
            if not stored:
                continue  # released between our add and our read: try again
            if float(stored.get("expires") or 0) > self._clock():
                raise LockHeld(stored)
            # Expired: exactly one taker may claim this lease, then replace it.
            claim = self._meta.add_if_absent(
                f"{_TAKEOVER}:{stored.get('owner')}", {"owner": self.owner, "at": self._clock()}
            )
            if claim.get("owner") != self.owner:
                raise LockHeld(stored)
            log.warning("taking over an expired ingest lock held by %s", stored.get("owner"))
            self._meta.delete(LOCK_KEY)
        raise LockHeld(self._meta.get(LOCK_KEY) or {})

    def update(self, **info: Any) -> None:
        """Record more about the holder (e.g. the job id once it exists)."""
        self.info.update(info)
        if self._held:
            self._meta.put(LOCK_KEY, self._record())
            if self._file is not None:
                self._file.write_holder(self._holder_text())

    def _holder_text(self) -> str:
        job = self.info.get("job_id")
        return str(job) if job else f"{self.info['kind']} (pid {self.info['pid']})"

    # -- holding ----------------------------------------------------------------------------
    def check(self) -> None:
        """Raise :class:`LeaseLost` when the lease could not be kept (stop writing then)."""
        if self._lost.is_set():
            raise LeaseLost("the ingest lock expired before it could be renewed")

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                with self._guard:
                    current = self._meta.get(LOCK_KEY) or {}
                    if current.get("owner") != self.owner:
                        self._lost.set()
                        return
                    self._meta.put(LOCK_KEY, self._record())
            except StoreError as exc:
                log.warning("cannot renew the ingest lock: %s", exc)
                if self._clock() > self._expires_at:
                    self._lost.set()
                    return

    def _record(self) -> dict[str, Any]:
        now = self._clock()
        self._expires_at = now + self.ttl_s
        return {**self.info, "owner": self.owner, "expires": self._expires_at, "renewed": now}

    # -- releasing --------------------------------------------------------------------------
    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(5)
        if self._held:
            self._held = False
            try:
                with self._guard:
                    current = self._meta.get(LOCK_KEY) or {}
                    if current.get("owner") == self.owner:
                        self._meta.delete(LOCK_KEY)
            except StoreError as exc:  # the lease will expire by itself
                log.warning("cannot release the ingest lock: %s", exc)
        if self._file is not None:
            self._file.release()

    def __enter__(self) -> IngestLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def current_holder(meta: StoreMeta, clock: Any = time.time) -> dict[str, Any] | None:
    """The live lock record, or None when the lock is free or expired."""
    record = meta.get(LOCK_KEY)
    if not record or float(record.get("expires") or 0) <= clock():
        return None
    return record


def _parse_holder(text: str) -> dict[str, Any]:
    if len(text) == 32 and all(ch in "0123456789abcdef" for ch in text):
        return {"job_id": text}
    return {"kind": text or "an ingest", "host": socket.gethostname()}
