"""The inbound ledger: every fetched message, its raw bytes, its folder's cursor, and every
change of its state. Nothing else writes `InboundMessage.state`, `attempts` or `last_error`.

Each function takes an open session; the caller decides where a transaction ends, so "store the
outcome and queue its reply" is one commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, delete, func, or_, update
from sqlalchemy import select as columns  # sqlmodel's select types up to four columns
from sqlmodel import Session, col, select

from domain.kinds import MailboxAction, MessageState, Outcome
from domain.model import SpooledMessage
from storage.models import FetchAttempt, InboundMessage, MailboxCursor, RawMessage, utcnow


def record_fetched(
    session: Session,
    *,
    source: str,
    source_key: str,
    raw: bytes,
    uidvalidity: int | None = None,
    uid: int | None = None,
    received_at: datetime | None = None,
    message_id: str = "",
    from_address: str = "",
    subject: str = "",
    spooled: SpooledMessage | None = None,
) -> InboundMessage | None:
    """Write the ledger row and the raw bytes (for a message spooled to the file store, its head
    and where the whole is); None when this mailbox entry is already known."""
    known = session.exec(
        select(InboundMessage.id).where(
            InboundMessage.source == source, InboundMessage.source_key == source_key
        )
    ).first()
    if known is not None:
        return None
    message = InboundMessage(
        source=source,
        source_key=source_key,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=message_id,
        sha256=spooled.sha256 if spooled else hashlib.sha256(raw).hexdigest(),
        size=spooled.size if spooled else len(raw),
        received_at=received_at,
        from_address=from_address,
        subject=subject,
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    session.add(
        RawMessage(
            inbound_message_id=message.id,
            data=raw,
            stored_path=spooled.path if spooled else None,
        )
    )
    return message


def record_unfetchable(
    session: Session,
    *,
    source: str,
    source_key: str,
    uidvalidity: int,
    uid: int,
    reason: str,
    folder: str,
) -> InboundMessage | None:
    """A message the server would not give: in the ledger for a person (it stays in the mailbox,
    filed with the rejected mail), so the messages after it are not held up."""
    message = record_fetched(
        session, source=source, source_key=source_key, raw=b"", uidvalidity=uidvalidity, uid=uid
    )
    if message is not None:
        mark_handled(session, message, Handled("unfetchable", Outcome.UNFETCHABLE, reason, folder))
    return message


def fetch_tries(session: Session, source: str) -> dict[str, int]:
    rows = session.exec(select(FetchAttempt).where(FetchAttempt.source == source)).all()
    return {row.source_key: row.attempts for row in rows}


def begin_fetch(session: Session, source: str, source_keys: Sequence[str]) -> None:
    """Count a try at fetching these messages; commit it before the try."""
    for key in source_keys:
        row = session.get(FetchAttempt, (source, key)) or FetchAttempt(
            source=source, source_key=key
        )
        row.attempts += 1
        row.updated_at = utcnow()
        session.add(row)


def end_fetch(session: Session, source: str, source_keys: Sequence[str]) -> None:
    """The messages are stored (in this transaction): their tries are forgotten with it."""
    if source_keys:
        session.execute(
            delete(FetchAttempt).where(
                col(FetchAttempt.source) == source, col(FetchAttempt.source_key).in_(source_keys)
            )
        )


def stored_raw(session: Session, message_id: int) -> RawMessage:
    raw = session.get(RawMessage, message_id)
    if raw is None:
        raise LookupError(f"raw message {message_id} missing")
    return raw


def get_cursor(session: Session, source: str) -> MailboxCursor | None:
    return session.get(MailboxCursor, source)


def set_cursor(session: Session, source: str, uidvalidity: int, last_uid: int) -> None:
    cursor = session.get(MailboxCursor, source) or MailboxCursor(
        source=source, uidvalidity=uidvalidity, last_uid=0
    )
    cursor.uidvalidity, cursor.last_uid, cursor.updated_at = uidvalidity, last_uid, utcnow()
    session.add(cursor)


def _needs_processing(max_attempts: int) -> ColumnElement[bool]:
    return or_(
        col(InboundMessage.state) == MessageState.RECEIVED,
        (col(InboundMessage.state) == MessageState.FAILED)
        & (col(InboundMessage.attempts) < max_attempts),
    )


def messages_to_process(
    session: Session, max_attempts: int, after_id: int = 0, limit: int = 500
) -> list[int]:
    """The next ids that need processing, in order, after `after_id`: a page at a time, so a
    backlog of any size is walked in the same memory."""
    rows = session.exec(
        select(InboundMessage.id)
        .where(_needs_processing(max_attempts), col(InboundMessage.id) > after_id)
        .order_by(col(InboundMessage.id))
        .limit(limit)
    ).all()
    return [r for r in rows if r is not None]


def count_to_process(session: Session, max_attempts: int, after_id: int = 0) -> int:
    return session.exec(
        select(func.count())
        .select_from(InboundMessage)
        .where(_needs_processing(max_attempts), col(InboundMessage.id) > after_id)
    ).one()


def claim(session: Session, message_id: int, max_attempts: int) -> InboundMessage | None:
    """The message, held for this transaction, if it still needs processing; None when another
    instance is working on it or it has been handled meanwhile. Call it first in a
    `storage.db.claiming_session`: on PostgreSQL the claim is a row lock taken with SKIP LOCKED
    (gone with a dead connection), on SQLite the transaction's write lock; either way the state
    is read again under the claim, so no two workers ever handle one message."""
    return session.exec(
        select(InboundMessage)
        .where(col(InboundMessage.id) == message_id, _needs_processing(max_attempts))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()


def raw_bytes(session: Session, message_id: int) -> bytes:
    """What the database holds of the message: all of it, or a spooled one's head."""
    return stored_raw(session, message_id).data


def note_headers(
    message: InboundMessage,
    *,
    from_address: str,
    subject: str,
    message_id: str,
    date: datetime | None,
) -> None:
    """What the full parse read from the headers; a Maildir has no server time, so its Date
    header stands for when the message was received."""
    message.from_address, message.subject, message.message_id = from_address, subject, message_id
    if message.received_at is None:
        message.received_at = date or message.fetched_at


def earlier_copy(session: Session, message: InboundMessage) -> InboundMessage | None:
    """A message handled before with the same bytes, or the same Message-ID from the same sender."""
    same = col(InboundMessage.sha256) == message.sha256
    if message.message_id:
        same = or_(
            same,
            (col(InboundMessage.message_id) == message.message_id)
            & (col(InboundMessage.from_address) == message.from_address),
        )
    return session.exec(
        select(InboundMessage)
        .where(same, col(InboundMessage.id) < message.id, InboundMessage.duplicate_of_id.is_(None))  # type: ignore[union-attr]
        .order_by(col(InboundMessage.id))
    ).first()


@dataclass(frozen=True)
class Handled:
    """What was decided about a message: by which rule, with what outcome, filed where."""

    rule: str
    outcome: Outcome
    detail: str
    folder: str
    duplicate_of_id: int | None = None


def mark_handled(session: Session, message: InboundMessage, handled: Handled) -> None:
    """The message's last state change: handled, with its outcome (and any earlier failure
    forgotten, so nobody reads a stale error beside a good outcome)."""
    message.state = MessageState.DONE
    message.outcome, message.outcome_detail = handled.outcome, handled.detail
    message.decided_by = handled.rule
    message.mailbox_folder = handled.folder
    message.duplicate_of_id = handled.duplicate_of_id
    message.last_error = ""
    message.updated_at = utcnow()
    session.add(message)


def record_failure(
    session: Session, message_id: int, error: str, max_attempts: int
) -> MessageState | None:
    """Count a failed attempt at handling the message; quarantined once it reaches the cap.
    Returns the new state, or None when another instance has claimed or handled it since."""
    message = claim(session, message_id, max_attempts)
    if message is None:
        return None
    message.attempts += 1
    message.last_error = error[:2000]
    message.state = (
        MessageState.QUARANTINED if message.attempts >= max_attempts else MessageState.FAILED
    )
    message.updated_at = utcnow()
    session.add(message)
    return message.state


class NotRequeueable(Exception):
    """The message does not exist (`state` None), or was handled and needs no second pass."""

    def __init__(self, message_id: int, state: MessageState | None) -> None:
        super().__init__(f"message {message_id}: {state or 'missing'}")
        self.state = state


def requeue(session: Session, message_id: int) -> InboundMessage:
    """Put a quarantined or failed message back in the queue with a fresh count of attempts."""
    message = session.get(InboundMessage, message_id)
    if message is None:
        raise NotRequeueable(message_id, None)
    if message.state not in (MessageState.QUARANTINED, MessageState.FAILED):
        raise NotRequeueable(message_id, message.state)
    message.state, message.attempts, message.updated_at = MessageState.RECEIVED, 0, utcnow()
    session.add(message)
    return message


def reopen(session: Session, message: InboundMessage) -> None:
    """An officer's word: handle a message again from the start (its sender was registered).
    Where it was filed in the mailbox stays as it is."""
    message.state, message.attempts, message.updated_at = MessageState.RECEIVED, 0, utcnow()
    message.outcome, message.outcome_detail, message.decided_by = None, "", ""
    session.add(message)


def last_message_from(session: Session, senders: Sequence[str]) -> InboundMessage | None:
    """The latest message received from any of these addresses."""
    return session.exec(
        select(InboundMessage)
        .where(col(InboundMessage.from_address).in_(senders))
        .order_by(col(InboundMessage.id).desc())
        .limit(1)
    ).first()


class AwaitingFiling(NamedTuple):
    """What filing a handled message away needs of its ledger row."""

    id: int
    folder: str
    source_key: str
    uid: int | None
    uidvalidity: int | None
    message_id: str


def messages_awaiting_mailbox_action(
    session: Session, source: str, after_id: int = 0, limit: int = 200
) -> list[AwaitingFiling]:
    """The next handled messages still in the mailbox, by id after `after_id`: a page at a time,
    as plain rows, so a backlog of any size is filed in the same memory."""
    rows = session.execute(
        columns(
            col(InboundMessage.id),
            col(InboundMessage.mailbox_folder),
            col(InboundMessage.source_key),
            col(InboundMessage.uid),
            col(InboundMessage.uidvalidity),
            col(InboundMessage.message_id),
        )
        .where(
            col(InboundMessage.source) == source,
            col(InboundMessage.state) == MessageState.DONE,
            col(InboundMessage.mailbox_action) == MailboxAction.PENDING,
            col(InboundMessage.id) > after_id,
        )
        .order_by(col(InboundMessage.id))
        .limit(limit)
    ).all()
    return [AwaitingFiling(*row) for row in rows]


def mark_filed(session: Session, message_ids: Sequence[int], done: bool) -> None:
    session.execute(
        update(InboundMessage)
        .where(col(InboundMessage.id).in_(message_ids))
        .values(mailbox_action=MailboxAction.DONE if done else MailboxAction.NOT_POSSIBLE),
        execution_options={"synchronize_session": False},
    )


def messages_with_outcome(session: Session, *outcomes: Outcome) -> Sequence[InboundMessage]:
    return session.exec(
        select(InboundMessage)
        .where(col(InboundMessage.outcome).in_(outcomes))
        .order_by(col(InboundMessage.id))
    ).all()


def messages_in_state(session: Session, *states: MessageState) -> Sequence[InboundMessage]:
    return session.exec(
        select(InboundMessage)
        .where(col(InboundMessage.state).in_(states))
        .order_by(col(InboundMessage.id))
    ).all()
