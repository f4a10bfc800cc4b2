"""The outbox: every outgoing mail, queued in the transaction that stores what it answers, and
every change of its state. Nothing else writes `OutboundMail.state` or `attempts`.

    queued --(claimed: end of data about to go)--> sending --(server said 250)--> sent
       ^  \\--(4xx, dropped before the end)--> queued later, or failed after max attempts
       |   \\--(5xx)--> failed
       |    sending --(connection lost after the end of the data)--> uncertain
       \\---- resend (operator) ---- failed | uncertain
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from domain.kinds import MailKind, MailState
from storage.models import OutboundMail


def queue_mail(
    session: Session,
    *,
    inbound_message_id: int | None,
    kind: MailKind,
    recipient: str,
    subject: str,
    message_id: str,
    data: bytes,
    unit_code: str = "",
) -> OutboundMail:
    mail = OutboundMail(
        inbound_message_id=inbound_message_id,
        unit_code=unit_code,
        kind=kind,
        recipient=recipient,
        subject=subject,
        message_id=message_id,
        data=data,
    )
    session.add(mail)
    session.flush()  # its id, for the audit row that records it
    return mail


def replies_since(
    session: Session, recipient: str, since: datetime, kind: MailKind | None = None
) -> int:
    query = (
        select(func.count())
        .select_from(OutboundMail)
        .where(OutboundMail.recipient == recipient, OutboundMail.created_at >= since)
    )
    if kind is not None:
        query = query.where(OutboundMail.kind == kind)
    return session.exec(query).one()


def count_since(session: Session, kind: MailKind, since: datetime) -> int:
    """Mail of one kind queued since a moment, to anyone."""
    return session.exec(
        select(func.count())
        .select_from(OutboundMail)
        .where(OutboundMail.kind == kind, OutboundMail.created_at >= since)
    ).one()


def replies_by_kind_since(session: Session, recipient: str, since: datetime) -> dict[MailKind, int]:
    rows = session.exec(
        select(OutboundMail.kind, func.count())
        .where(OutboundMail.recipient == recipient, OutboundMail.created_at >= since)
        .group_by(OutboundMail.kind)
    ).all()
    return {MailKind(kind): n for kind, n in rows}


def outbound_exists(session: Session, message_id: str) -> bool:
    return (
        session.exec(select(OutboundMail.id).where(OutboundMail.message_id == message_id)).first()
        is not None
    )


def mail_in_state(session: Session, *states: MailState) -> Sequence[OutboundMail]:
    return session.exec(
        select(OutboundMail)
        .where(col(OutboundMail.state).in_(states))
        .order_by(col(OutboundMail.id))
    ).all()


def mail_due(session: Session, now: datetime) -> list[int]:
    rows = session.exec(
        select(OutboundMail.id)
        .where(OutboundMail.state == MailState.QUEUED, OutboundMail.next_attempt_at <= now)
        .order_by(col(OutboundMail.id))
    ).all()
    return [r for r in rows if r is not None]


def mail_counts(session: Session) -> dict[MailState, int]:
    rows = session.exec(select(OutboundMail.state, func.count()).group_by(OutboundMail.state)).all()
    return {MailState(state): n for state, n in rows}


# --- state changes ----------------------------------------------------------------------------


class AlreadyTaken(Exception):
    """Another sender claimed this mail first: it must not be sent here."""


def claim_for_sending(session: Session, mail: OutboundMail) -> None:
    """The point of no return, as a claim: queued -> sending only if it is still queued, checked
    by the database in the UPDATE itself, so no two senders ever both pass it. Commit next."""
    taken = session.execute(
        update(OutboundMail)
        .where(col(OutboundMail.id) == mail.id, col(OutboundMail.state) == MailState.QUEUED)
        .values(state=MailState.SENDING),
        execution_options={"synchronize_session": False},  # refreshed below
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise AlreadyTaken(f"mail {mail.id}")
    session.refresh(mail)


def mark_sent(mail: OutboundMail) -> None:
    mail.state, mail.sent_at, mail.last_error = MailState.SENT, datetime.now(UTC), ""
    mail.attempts += 1


def mark_uncertain(mail: OutboundMail, error: str) -> None:
    """The server may have accepted it: never sent again without a person's word."""
    mail.state, mail.last_error = MailState.UNCERTAIN, error
    mail.attempts += 1


def mark_refused(mail: OutboundMail, error: str) -> None:
    mail.state, mail.last_error = MailState.FAILED, error
    mail.attempts += 1


def defer(mail: OutboundMail, error: str, max_attempts: int, now: datetime) -> bool:
    """Count a failed attempt and back off exponentially; True when it has now given up."""
    mail.state = MailState.QUEUED
    mail.attempts += 1
    mail.last_error = error
    if mail.attempts >= max_attempts:
        mail.state = MailState.FAILED
        return True
    mail.next_attempt_at = now + timedelta(minutes=2 ** min(mail.attempts, 8))
    return False


def mark_interrupted(session: Session) -> list[OutboundMail]:
    """Mail left "sending" by a sender that died: uncertain, never resent on its own. Only the
    holder of the outbox may call this."""
    left = list(mail_in_state(session, MailState.SENDING))
    for mail in left:
        mail.state = MailState.UNCERTAIN
        mail.last_error = "interrupted after the end of the data was sent; not resent"
        session.add(mail)
    return left


class NotResendable(Exception):
    """No such mail, or it is not uncertain or refused."""


def requeue_for_resend(session: Session, mail_id: int) -> OutboundMail:
    """The operator's word: send an uncertain or refused mail again."""
    mail = session.get(OutboundMail, mail_id)
    if mail is None or mail.state not in (MailState.UNCERTAIN, MailState.FAILED):
        raise NotResendable(f"mail {mail_id}")
    mail.state, mail.attempts, mail.next_attempt_at = MailState.QUEUED, 0, datetime.now(UTC)
    session.add(mail)
    return mail
