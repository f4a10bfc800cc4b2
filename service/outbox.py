"""Delivering the outbox: what is due goes out through a transport, each mail marked sent in its
own commit right after the server accepts it.

Replies are queued in the database (`queue_email`) in the same transaction that stores what they
answer. A temporary failure (4xx, a dropped connection) is retried later with back-off; a
permanent refusal (5xx) is recorded and not retried; a mail interrupted after the end of its data
is "uncertain" and never sent again without the operator's word (`intake resend`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.kinds import MailKind, MailState
from pipeline.envelope import message_bytes
from pipeline.send import PermanentFailure, TemporaryFailure, Transport, UncertainDelivery
from storage import leases, outbox
from storage.models import OutboundMail

log = logging.getLogger(__name__)

OUTBOX_LEASE = "outbox"


def queue_email(
    session: Session, msg: EmailMessage, kind: MailKind, inbound_message_id: int | None = None
) -> OutboundMail:
    """Put a composed message in the outbox (in the caller's transaction); sent by `deliver_due`."""
    recipients = [a.addr_spec.lower() for a in msg["To"].addresses]
    return outbox.queue_mail(
        session,
        inbound_message_id=inbound_message_id,
        kind=kind,
        recipient=",".join(recipients),
        subject=str(msg["Subject"]),
        message_id=str(msg["Message-ID"]),
        data=message_bytes(msg),
    )


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


def deliver_due(
    engine: Engine,
    transport: Transport,
    envelope_from: str,
    max_attempts: int,
    now: datetime | None = None,
) -> DeliveryReport:
    report = DeliveryReport()
    moment = now or datetime.now(UTC)
    with Session(engine) as session:
        due = outbox.mail_due(session, moment)
        interrupted = outbox.mail_in_state(session, MailState.SENDING)
    if not due and not interrupted:
        return report
    # One sender at a time (the poll, the digest job and another instance may all try).
    holder = leases.lease_holder()
    with Session(engine) as session:
        clock = datetime.now(UTC)
        got = leases.acquire_lease(
            session, OUTBOX_LEASE, holder, clock + timedelta(minutes=30), clock
        )
        session.commit()
    if not got:
        log.info("another sender holds the outbox; delivery left to it")
        return report
    try:
        _deliver(engine, transport, envelope_from, max_attempts, moment, due, report)
    finally:
        with Session(engine) as session:
            leases.release_lease(session, OUTBOX_LEASE, holder)
            session.commit()
    return report


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
        session.commit()
    with transport:
        for mail_id in due:
            with Session(engine) as session:
                mail = session.get(OutboundMail, mail_id)
                if mail is None or mail.state != MailState.QUEUED:
                    continue
                name = f"{mail.id:06d}-{mail.kind}"

                def point_of_no_return(
                    mail: OutboundMail = mail, session: Session = session
                ) -> None:
                    outbox.mark_sending(mail)
                    session.add(mail)
                    session.commit()

                try:
                    transport.send(
                        envelope_from, mail.recipients, mail.data, name, point_of_no_return
                    )
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
                else:
                    outbox.mark_sent(mail)
                    report.sent += 1
                session.add(mail)
                session.commit()
