"""The mailbox side of the intake cycle: new mail into the ledger (raw bytes committed batch by
batch with the folder's cursor, before anything can fail on them), handled mail filed away, and
the connection retried with back-off.

Every stage given to `with_mailbox` resumes where the last attempt stopped (fetching from the
stored UID cursor, filing away by the ledger), so running it again after a drop repeats nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from domain.kinds import SYSTEM_ACTOR, AuditAction, Outcome
from pipeline.mailbox import Cursor, Mailbox, MailboxUnavailable, MessageRef, Spool, Unfetchable
from pipeline.parse import parse_headers
from service.context import Context, PollReport
from storage import audit, inbound
from storage.files import FileStore

log = logging.getLogger(__name__)
T = TypeVar("T")


def _header_summary(raw: bytes) -> tuple[str, str, str]:
    """Message-ID, sender and subject for the ledger, read as processing reads them; blanks when
    the headers are unreadable."""
    try:
        head = parse_headers(raw)
    except Exception:  # any header the parser chokes on: the full parse will report it
        return "", "", ""
    return head.message_id, head.from_address, head.subject[:500]


class _Tries:
    """Fetch tries kept in the database (`storage.inbound.begin_fetch`), and the spool for
    messages streamed to the file store."""

    def __init__(self, engine: Engine, source: str, files: FileStore) -> None:
        self.engine, self.source, self.files = engine, source, files
        with Session(engine) as session:
            self.known = inbound.fetch_tries(session, source)

    def count(self, source_key: str) -> int:
        return self.known.get(source_key, 0)

    def begin(self, source_keys: Sequence[str]) -> None:
        with Session(self.engine) as session:
            inbound.begin_fetch(session, self.source, source_keys)
            session.commit()
        for key in source_keys:
            self.known[key] = self.known.get(key, 0) + 1

    def spool(self) -> Spool:
        return self.files.spool()


def fetch_into_ledger(engine: Engine, ctx: Context, mailbox: Mailbox, report: PollReport) -> None:
    """Store new messages batch by batch; `report.fetched` counts them as they are committed, so
    the count stays right when the connection drops and the stage is run again."""
    with Session(engine) as session:
        stored = inbound.get_cursor(session, mailbox.source)
        cursor = Cursor(stored.uidvalidity, stored.last_uid) if stored else None
    tries = _Tries(engine, mailbox.source, ctx.files)
    for batch, next_cursor in mailbox.batches(cursor, tries):
        count = 0
        with Session(engine) as session:
            for fetched in batch:
                if isinstance(fetched, Unfetchable):
                    log.error(
                        "message %s could not be fetched: %s", fetched.source_key, fetched.reason
                    )
                    row = inbound.record_unfetchable(
                        session,
                        source=mailbox.source,
                        source_key=fetched.source_key,
                        uidvalidity=fetched.uidvalidity,
                        uid=fetched.uid,
                        reason=fetched.reason,
                        folder=ctx.settings.mailbox.rejected_folder,
                    )
                    if row is not None:
                        session.flush()
                        audit.append(
                            session,
                            actor=SYSTEM_ACTOR,
                            action=AuditAction.MESSAGE_HANDLED,
                            subject=audit.Subject("message", row.id or 0),
                            details={
                                "outcome": Outcome.UNFETCHABLE.value,
                                "detail": fetched.reason,
                            },
                        )
                else:
                    message_id, sender, subject = _header_summary(fetched.raw)
                    row = inbound.record_fetched(
                        session,
                        source=mailbox.source,
                        source_key=fetched.source_key,
                        raw=fetched.raw,
                        uidvalidity=fetched.uidvalidity,
                        uid=fetched.uid,
                        received_at=fetched.received_at,
                        message_id=message_id,
                        from_address=sender,
                        subject=subject,
                        spooled=fetched.spooled,
                    )
                count += row is not None
            inbound.end_fetch(session, mailbox.source, [f.source_key for f in batch])
            if next_cursor is not None:
                inbound.set_cursor(
                    session, mailbox.source, next_cursor.uidvalidity, next_cursor.last_uid
                )
            session.commit()
        report.fetched += count
        log.info(
            "fetched batch: %d new of %d, cursor at UID %s",
            count,
            len(batch),
            next_cursor.last_uid if next_cursor else "-",
        )


def file_handled(engine: Engine, mailbox: Mailbox) -> int:
    """File handled mail away a page of the ledger at a time, a command and a commit per folder
    in it: a backlog of thousands is a few commands, where one command a message cost the server
    a rewrite of the folder's index each time. A batch cut off midway is found moved next run."""
    filed, after = 0, 0
    while True:
        with Session(engine) as session:
            page = inbound.messages_awaiting_mailbox_action(session, mailbox.source, after)
            if not page:
                return filed
            after = page[-1].id
            by_folder: dict[str, list[inbound.AwaitingFiling]] = {}
            for row in page:
                by_folder.setdefault(row.folder, []).append(row)
            for folder, rows in by_folder.items():
                refs = [MessageRef(r.source_key, r.uid, r.uidvalidity, r.message_id) for r in rows]
                done = mailbox.file_away(refs, folder)
                for outcome in (True, False):
                    ids = [r.id for r, d in zip(rows, done, strict=True) if d is outcome]
                    if ids:
                        inbound.mark_filed(session, ids, outcome)
                session.commit()
                filed += sum(done)


def _retryable(err: BaseException) -> bool:
    return isinstance(err, MailboxUnavailable) and err.retry


def with_mailbox(ctx: Context, mailbox: Mailbox, work: Callable[[Mailbox], T]) -> T:
    """Open the mailbox, do `work`, close it; a broken connection is retried with back-off.

    Every stage given here resumes where the last attempt stopped (fetching from the stored UID
    cursor, filing away by the ledger), so running it again after a drop repeats nothing.
    """
    imap = ctx.settings.mailbox.imap
    attempts = imap.reconnect_attempts if imap else 1
    wait = imap.reconnect_wait_seconds if imap else 0
    for attempt in Retrying(
        retry=retry_if_exception(_retryable),
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=wait, max=max(wait * 30, 1)),
        reraise=True,
        before_sleep=lambda state: log.warning(
            "mailbox attempt %d failed: %s",
            state.attempt_number,
            state.outcome and state.outcome.exception(),
        ),
    ):
        with attempt, mailbox:
            return work(mailbox)
    raise AssertionError("unreachable: Retrying re-raises the last error")
