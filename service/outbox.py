"""Delivering the outbox, as a job of its own: what is due goes out through a transport, each
mail claimed at the point of no return and marked sent in its own commit right after the server
accepts it. Intake never waits on it.

Replies are queued in the database (`queue_email`) in the same transaction that stores what they
answer. A temporary failure (4xx) is retried later with back-off; a permanent refusal (5xx) is
recorded and not retried; a mail interrupted after the end of its data is "uncertain" and never
sent again without the operator's word (`intake resend`). A server that cannot be reached ends
the round at once and opens the circuit breaker: no round is tried until it has waited
`outgoing.breaker_seconds`, doubling while the server stays away.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.kinds import SYSTEM_ACTOR, AuditAction, MailKind, MailState
from pipeline.envelope import message_bytes
from pipeline.send import (
    PermanentFailure,
    ServerUnreachable,
    TemporaryFailure,
    Transport,
    UncertainDelivery,
)
from storage import audit, locks, outbox
from storage.models import OutboundMail

log = logging.getLogger(__name__)
# How long a sender waits for another's round to end before leaving the outbox to it.
_OUTBOX_WAIT_SECONDS = 30.0


def queue_email(
    session: Session,
    msg: EmailMessage,
    kind: MailKind,
    inbound_message_id: int | None = None,
    unit_code: str = "",
) -> OutboundMail:
    """Put a composed message in the outbox (in the caller's transaction); sent by `deliver_due`."""
    recipients = [a.addr_spec.lower() for a in msg["To"].addresses]
    return outbox.queue_mail(
        session,
        inbound_message_id=inbound_message_id,
        unit_code=unit_code,
        kind=kind,
        recipient=",".join(recipients),
        subject=str(msg["Subject"]),
        message_id=str(msg["Message-ID"]),
        data=message_bytes(msg),
    )


@dataclass
class Breaker:
    """Whether a delivery round may try the server now (kept by the process that delivers)."""

    base_seconds: float = 30
    failures: int = 0
    closed_at: float = 0.0  # monotonic time from which rounds may try again

    def allows(self) -> bool:
        return time.monotonic() >= self.closed_at

    def trip(self) -> float:
        self.failures += 1
        wait = self.base_seconds * float(2 ** min(self.failures - 1, 5))
        self.closed_at = time.monotonic() + wait
        return wait

    def reset(self) -> None:
        self.failures, self.closed_at = 0, 0.0


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    # Why the round stopped early: the server could not be reached (the rest wait, untouched).
    unreachable: str = ""
    waiting: bool = False  # the breaker is open: no round was tried


def deliver_due(
    engine: Engine,
    transport: Transport,
    envelope_from: str,
    max_attempts: int,
    now: datetime | None = None,
    breaker: Breaker | None = None,
) -> DeliveryReport:
    report = DeliveryReport()
    breaker = breaker or Breaker()
    if not breaker.allows():
        report.waiting = True
        return report
    moment = now or datetime.now(UTC)
    with Session(engine) as session:
        due = outbox.mail_due(session, moment)
        interrupted = outbox.mail_in_state(session, MailState.SENDING)
    if not due and not interrupted:
        return report
    # One sender at a time (the poll, the digest job and another instance may all try). The
    # holder reads the outbox again when its round ends, and another sender waits a while for
    # it: mail queued while a round runs goes out with it or right after, not a cycle later.
    with locks.exclusive(engine, locks.OUTBOX, wait_seconds=_OUTBOX_WAIT_SECONDS) as held:
        if not held:
            log.info("another sender holds the outbox; delivery left to it")
            return report
        tried: set[int] = set()
        while True:
            _deliver(engine, transport, envelope_from, max_attempts, moment, due, report)
            tried.update(due)
            if report.unreachable:
                break
            with Session(engine) as session:
                queued_meanwhile = outbox.mail_due(session, now or datetime.now(UTC))
            if not (due := [m for m in queued_meanwhile if m not in tried]):
                break
    if report.sent or report.deferred or report.failed:
        log.info(
            "delivered: sent=%d deferred=%d failed=%d", report.sent, report.deferred, report.failed
        )
    if report.unreachable:
        wait = breaker.trip()
        log.warning("SMTP server unreachable (%s); next try in %.0f s", report.unreachable, wait)
    elif report.sent:
        breaker.reset()
    return report


def _audit_delivery(session: Session, mail: OutboundMail) -> None:
    """A mail's fate in the audit trail, in the commit that records it (a deferral is not one)."""
    if mail.state not in (MailState.SENT, MailState.FAILED, MailState.UNCERTAIN):
        return
    audit.append(
        session,
        actor=SYSTEM_ACTOR,
        action=AuditAction.MAIL_SENT if mail.state is MailState.SENT else AuditAction.MAIL_NOT_SENT,
        subject=audit.Subject("mail", mail.id or 0, mail.unit_code),
        details={
            "kind": str(mail.kind),
            "to": mail.recipient,
            "subject": mail.subject,
            "state": str(mail.state),
            "error": mail.last_error,
        },
    )


class _Claim:
    """The point of no return for one mail: claimed once (quick retries after a 4xx answer
    reach it again), committed every time, so "sending" is on disk before the end of data."""

    def __init__(self, session: Session, mail: OutboundMail) -> None:
        self.session, self.mail, self.claimed = session, mail, False

    def __call__(self) -> None:
        if not self.claimed:
            outbox.claim_for_sending(self.session, self.mail)
            self.claimed = True
        self.session.commit()


def _deliver(
    engine: Engine,
    transport: Transport,
    envelope_from: str,
    max_attempts: int,
    moment: datetime,
    due: list[int],
    report: DeliveryReport,
) -> None:
    with Session(engine) as session:
        # We hold the outbox: anything still "sending" was left by a sender that died.
        for left in outbox.mark_interrupted(session):
            log.warning(
                "mail %s to %s may or may not have been delivered; not resent",
                left.id,
                left.recipient,
            )
            _audit_delivery(session, left)
        session.commit()
    with transport:
        for mail_id in due:
            # The claim's commit leaves the row ours until it is marked: nothing to load again.
            with Session(engine, expire_on_commit=False) as session:
                mail = session.get(OutboundMail, mail_id)
                if mail is None or mail.state != MailState.QUEUED:
                    continue
                name = f"{mail.id:06d}-{mail.kind}"

                try:
                    transport.send(
                        envelope_from, mail.recipients, mail.data, name, _Claim(session, mail)
                    )
                except outbox.AlreadyTaken:
                    continue
                except UncertainDelivery as err:
                    outbox.mark_uncertain(mail, str(err))
                    report.failed += 1
                    log.warning(
                        "mail %s to %s may have been delivered: %s", mail.id, mail.recipient, err
                    )
                except PermanentFailure as err:
                    outbox.mark_refused(mail, str(err))
                    report.failed += 1
                    log.warning("mail %s to %s refused for good: %s", mail.id, mail.recipient, err)
                except TemporaryFailure as err:
                    if outbox.defer(mail, str(err), max_attempts, moment):
                        report.failed += 1
                    else:
                        report.deferred += 1
                    log.warning("mail %s to %s deferred: %s", mail.id, mail.recipient, err)
                    if isinstance(err, ServerUnreachable):
                        report.unreachable = str(err)
                        session.add(mail)
                        _audit_delivery(session, mail)
                        session.commit()
                        return  # the breaker opens: the rest wait, untouched
                else:
                    outbox.mark_sent(mail)
                    report.sent += 1
                session.add(mail)
                _audit_delivery(session, mail)
                session.commit()
