"""One intake cycle, and the order of the stages a message goes through.

    fetch   -> ledger row + raw bytes stored (one commit per batch, with the folder's cursor)
    process -> parse, gather the facts, triage (`pipeline.triage.RULES`); a submission is
               examined (unpack, extract, validate) and stored; the reply is queued
               (one commit per message: the outcome and its reply land together or not at all)
    file    -> move or flag handled mail in the mailbox

Queued replies are delivered by the outbox's own job (`service.outbox`), never inside the cycle.

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
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.mailbox import Mailbox, MailboxUnavailable
from service.context import Context, PollReport
from service.ledger import fetch_into_ledger, file_handled, with_mailbox
from service.process import process_pending
from storage import locks, submissions

log = logging.getLogger(__name__)


def poll_once(
    engine: Engine,
    ctx: Context,
    mailbox: Mailbox,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PollReport:
    """Fetch new mail, process what is stored, file handled mail away. Replies are queued, not
    sent: the outbox has its own job (`service.outbox.deliver_due`), so SMTP never holds intake.

    The mailbox side (the folder's cursor, filing away) is one instance's at a time, under a lock
    the database holds (`storage.locks`); processing is shared, message by message, under claims.
    """
    report = PollReport()
    moment = now or datetime.now(UTC)
    with Session(engine) as session:
        submissions.sync_units(session, ctx.campaign)
        session.commit()
    with locks.exclusive(engine, locks.MAILBOX) as held:
        if held:
            try:
                with_mailbox(ctx, mailbox, lambda m: fetch_into_ledger(engine, ctx, m, report))
            except MailboxUnavailable as err:
                log.error("mailbox unavailable, fetching skipped: %s", err)
                report.problems.append(f"Không lấy được thư mới: {err.reason}.")
        else:
            report.mailbox_busy = True
            log.info("another instance is fetching; processing what is stored")
    process_pending(engine, ctx, report, moment, progress)
    if not report.problems:
        with locks.exclusive(engine, locks.MAILBOX) as held:
            try:
                if held:
                    report.filed = with_mailbox(ctx, mailbox, lambda m: file_handled(engine, m))
            except MailboxUnavailable as err:
                log.error("mailbox unavailable, filing away skipped: %s", err)
                report.problems.append(f"Chưa chuyển được thư đã xử lý vào thư mục: {err.reason}.")
    log.info(
        "poll: fetched=%d outcomes=%s failed=%d quarantined=%d filed=%d problems=%d",
        report.fetched,
        dict(report.outcomes),
        report.failed,
        report.quarantined,
        report.filed,
        len(report.problems),
    )
    return report
