"""Named locks the database engine holds for us: one mailbox session, one outbox delivery at a
time, across threads, processes and hosts, with no clock and no host name involved.

- PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection of its own. It
  vanishes with the holder's connection: a killed process's socket is closed by its kernel at
  once, and a dead host is noticed by the server's TCP keepalive, set short on that connection.
- SQLite (one host): an `flock` on a file beside the database, which the kernel releases when the
  holder's process ends, however it ends.

A successor therefore takes over as soon as the holder is gone, whatever its host name or PID.
Work on single rows (a message, an outgoing mail) is claimed row by row (`storage.inbound.claim`,
`storage.outbox.claim`), so these locks only keep the mailbox's cursor and the outbox's
"interrupted" sweep to one holder.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

MAILBOX = "mailbox"
OUTBOX = "outbox"

# Seconds after which PostgreSQL gives up on a silent peer holding a lock (idle + interval x count).
_KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}
_memory_locks: dict[str, threading.Lock] = {}
# How often a lock that is waited for is tried again.
_RETRY_SECONDS = 0.2


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name."""
    return int.from_bytes(
        hashlib.sha256(f"sonv-intake:{name}".encode()).digest()[:8], "big", signed=True
    )


def _tries(wait_seconds: float) -> Iterator[None]:
    """Once, then again every `_RETRY_SECONDS` until `wait_seconds` have passed."""
    deadline = time.monotonic() + wait_seconds
    yield
    while time.monotonic() < deadline:
        time.sleep(_RETRY_SECONDS)
        yield


@contextmanager
def _postgres(engine: Engine, name: str, wait_seconds: float) -> Iterator[bool]:
    key = _advisory_key(name)
    connection: Connection = engine.connect()
    held = False
    try:
        for setting, value in _KEEPALIVE.items():
            connection.execute(text(f"SET {setting} = {int(value)}"))
        for _ in _tries(wait_seconds):
            held = bool(
                connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            )
            connection.commit()  # the lock is the session's: nothing stays open in a transaction
            if held:
                break
        yield held
    finally:
        if held:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
            except DBAPIError:
                # The connection is gone, and the lock with it; never pool a doubtful one.
                connection.invalidate()
        connection.close()


@contextmanager
def _file(database: str, name: str, wait_seconds: float) -> Iterator[bool]:
    path = Path(f"{database}.{name}.lock")
    with open(path, "a+") as handle:
        for _ in _tries(wait_seconds):
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pass
        else:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _memory(name: str, wait_seconds: float) -> Iterator[bool]:
    lock = _memory_locks.setdefault(name, threading.Lock())
    held = lock.acquire(timeout=wait_seconds) if wait_seconds > 0 else lock.acquire(blocking=False)
    try:
        yield held
    finally:
        if held:
            lock.release()


def exclusive(engine: Engine, name: str, wait_seconds: float = 0) -> AbstractContextManager[bool]:
    """Hold the named lock for the block when it is free, or frees within `wait_seconds`;
    yields False when another holds it still."""
    if engine.dialect.name == "postgresql":
        return _postgres(engine, name, wait_seconds)
    database = engine.url.database
    if database and database != ":memory:":
        return _file(database, name, wait_seconds)
    return _memory(name, wait_seconds)
