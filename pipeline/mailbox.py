"""What a mailbox is to the intake: the interface both kinds implement, and the values that cross
it (a fetched message, one that could not be fetched, where a message is, the folder's cursor).

Whatever goes wrong with a server is raised as `MailboxUnavailable`, which says in the operator's
words what failed and whether trying again can help (a dropped connection can, a refused
password cannot).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from domain.model import SpooledMessage


class MailboxUnavailable(Exception):
    """The mailbox cannot be used now. `reason` is for the operator (Vietnamese)."""

    def __init__(self, reason: str, *, retry: bool, cause: BaseException | None = None) -> None:
        detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        super().__init__(f"{reason}{detail}")
        self.reason = reason
        self.retry = retry


@dataclass(frozen=True)
class Cursor:
    """How far a folder has been read: the last UID seen under a UIDVALIDITY."""

    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class FetchedMessage:
    source_key: str
    # The message; for one streamed to disk (`spooled`), only its head, enough for the headers.
    raw: bytes
    uid: int | None = None
    uidvalidity: int | None = None
    received_at: datetime | None = None  # when the server got it (IMAP INTERNALDATE)
    spooled: SpooledMessage | None = None


@dataclass(frozen=True)
class Unfetchable:
    """A message the server would not give after a few tries: recorded for a person, skipped."""

    source_key: str
    uid: int
    uidvalidity: int
    reason: str  # for the operator, Vietnamese


Fetched = FetchedMessage | Unfetchable


class Spool(Protocol):
    """Where a large message is written as it arrives (`storage.files.FileStore.spool`)."""

    def write(self, chunk: bytes) -> None: ...

    def finish(self) -> SpooledMessage: ...

    def discard(self) -> None: ...


class FetchTries(Protocol):
    """How often fetching a message was begun without it being stored (kept in the database,
    so a try that killed the process still counts)."""

    def count(self, source_key: str) -> int: ...

    def begin(self, source_keys: Sequence[str]) -> None: ...

    def spool(self) -> Spool: ...


MAX_FETCH_TRIES = 3
CHUNK_BYTES = 1024 * 1024
HEAD_BYTES = 256 * 1024  # what is kept in the database of a spooled message: its headers


@dataclass(frozen=True)
class MessageRef:
    """Enough to find a stored message in the mailbox again."""

    source_key: str
    uid: int | None
    uidvalidity: int | None
    message_id: str = ""


class Mailbox(Protocol):
    source: str

    def __enter__(self) -> Self: ...

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def batches(
        self, cursor: Cursor | None, tries: FetchTries
    ) -> Iterator[tuple[list[Fetched], Cursor | None]]:
        """New messages in batches, each with the cursor to remember once it is stored."""
        ...

    def file_away(self, refs: Sequence[MessageRef], folder: str) -> list[bool]:
        """Move (or flag) handled messages to one folder, at once; for each, False when it can
        no longer be found."""
        ...


def size_bounded_batches(
    sizes: Sequence[tuple[int, int]], max_count: int, max_bytes: int
) -> list[list[int]]:
    """UIDs in order, grouped so a batch holds at most `max_count` messages and `max_bytes`
    bytes; a message larger than that comes alone. A week of scanned dossiers then never sits
    in memory at once."""
    batches: list[list[int]] = []
    current: list[int] = []
    total = 0
    for uid, size in sizes:
        if current and (len(current) >= max_count or total + size > max_bytes):
            batches.append(current)
            current, total = [], 0
        current.append(uid)
        total += size
    if current:
        batches.append(current)
    return batches
