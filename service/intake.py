"""One intake cycle, and the order of the stages a message goes through.

    fetch   -> ledger row + raw bytes stored (one commit per batch, with the folder's cursor)
    process -> parse, gather the facts, triage (`pipeline.triage.RULES`); a submission is
               examined (unpack, extract, validate) and stored; the reply is queued
               (one commit per message: the outcome and its reply land together or not at all)
    file    -> move or flag handled mail in the mailbox
    send    -> deliver queued replies (`service.outbox`)

Each message is handled from the stored raw bytes, not from the mailbox, so a crash or an error
in one stage never loses a message: the ledger says where it stopped and the next cycle resumes.
A message the program keeps failing on is quarantined after a few attempts instead of blocking
the queue; `intake reprocess` puts it back.

The mailbox is opened twice a cycle, for fetching and for filing away, each retried with back-off
when the connection fails; a mailbox that stays unreachable is reported in `PollReport.problems`
while the stored messages are still processed and the outbox still delivered.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.fetch import Mailbox, MailboxUnavailable
from pipeline.send import Transport
from service.context import Context, PollReport
from service.ledger import fetch_into_ledger, file_handled, with_mailbox
from service.outbox import deliver_due
from service.process import process_pending
from storage import leases, submissions

log = logging.getLogger(__name__)

POLL_LEASE = "poll"


def poll_once(
    engine: Engine,
    ctx: Context,
    mailbox: Mailbox,
    transport: Transport,
    now: datetime | None = None,
    lease_minutes: float = 30,
) -> PollReport:
    """Fetch, process, file away and send, holding the poll lease so no two polls overlap."""
    report = PollReport()
    moment = now or datetime.now(UTC)
    holder = leases.lease_holder()
    with Session(engine) as session:
        got = leases.acquire_lease(
            session,
            POLL_LEASE,
            holder,
            datetime.now(UTC) + timedelta(minutes=lease_minutes),
            datetime.now(UTC),
        )
        session.commit()
    if not got:
        report.skipped_busy = True
        log.info("another poll holds the lease; skipping this cycle")
        return report
    try:
        with Session(engine) as session:
            submissions.sync_units(session, ctx.campaign)
            session.commit()
        try:
            with_mailbox(ctx, mailbox, lambda m: fetch_into_ledger(engine, m, report))
        except MailboxUnavailable as err:
            log.error("mailbox unavailable, fetching skipped: %s", err)
            report.problems.append(f"Không lấy được thư mới: {err.reason}.")
        process_pending(engine, ctx, report, moment)
        if not report.problems:
            try:
                report.filed = with_mailbox(ctx, mailbox, lambda m: file_handled(engine, m))
            except MailboxUnavailable as err:
                log.error("mailbox unavailable, filing away skipped: %s", err)
                report.problems.append(f"Chưa chuyển được thư đã xử lý vào thư mục: {err.reason}.")
        delivery = deliver_due(
            engine,
            transport,
            ctx.campaign.department.intake_address,
            ctx.settings.outgoing.max_attempts,
        )
        report.sent, report.deferred, report.send_failed = (
            delivery.sent,
            delivery.deferred,
            delivery.failed,
        )
    finally:
        with Session(engine) as session:
            leases.release_lease(session, POLL_LEASE, holder)
            session.commit()
    log.info(
        "poll: fetched=%d outcomes=%s failed=%d quarantined=%d filed=%d sent=%d deferred=%d"
        " problems=%d",
        report.fetched,
        dict(report.outcomes),
        report.failed,
        report.quarantined,
        report.filed,
        report.sent,
        report.deferred,
        len(report.problems),
    )
    return report
