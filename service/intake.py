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
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from pipeline.mailbox import Mailbox, MailboxUnavailable
from service.context import Context, PollReport
from service.ledger import fetch_into_ledger, file_handled, with_mailbox
from service.process import Backlog, process_pending
from storage import locks, submissions

log = logging.getLogger(__name__)
# While another instance fetches: how often to look for what it stored, and for how long with
# nothing new before leaving the rest to the next poll.
_BUSY_MAILBOX_RETRY_SECONDS = 0.5
_BUSY_MAILBOX_PATIENCE_SECONDS = 5.0
# How long filing away waits for another instance holding the mailbox.
_FILING_WAIT_SECONDS = 10.0


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
    backlog = Backlog()
    last_taken = time.monotonic()
    while not (fetched := _fetch_unless_busy(engine, ctx, mailbox, report)):
        # Another instance is fetching: take what it stores meanwhile and try the mailbox again,
        # so a second instance shares a backlog from its first message on. A holder that stores
        # nothing for a while is stuck or slow; this poll then ends with what is stored.
        if not report.mailbox_busy:
            log.info("another instance is fetching; processing what it stores meanwhile")
        report.mailbox_busy = True
        if process_pending(engine, ctx, report, moment, progress, backlog):
            last_taken = time.monotonic()
        elif time.monotonic() - last_taken > _BUSY_MAILBOX_PATIENCE_SECONDS:
            log.warning(
                "the instance holding the mailbox stored nothing for %.0f s; "
                "new mail is left to the next poll",
                _BUSY_MAILBOX_PATIENCE_SECONDS,
            )
            break
        if report.problems:
            break  # the file store is unavailable: processing stops for this cycle
        time.sleep(_BUSY_MAILBOX_RETRY_SECONDS)
    if fetched:  # what this instance stored, or what is left of the backlog
        process_pending(engine, ctx, report, moment, progress, backlog)
    if not report.problems:
        # Another instance may be filing away: wait for it, then file what it could not see yet.
        with locks.exclusive(engine, locks.MAILBOX, wait_seconds=_FILING_WAIT_SECONDS) as held:
            try:
                if held:
                    report.filed = with_mailbox(ctx, mailbox, lambda m: file_handled(engine, m))
                else:
                    log.warning(
                        "another instance still holds the mailbox after %.0f s; "
                        "handled mail is filed away by the next poll",
                        _FILING_WAIT_SECONDS,
                    )
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


def _fetch_unless_busy(engine: Engine, ctx: Context, mailbox: Mailbox, report: PollReport) -> bool:
    """Fetch new mail into the ledger; False, having done nothing, when another instance holds
    the mailbox."""
    with locks.exclusive(engine, locks.MAILBOX) as held:
        if not held:
            return False
        try:
            with_mailbox(ctx, mailbox, lambda m: fetch_into_ledger(engine, ctx, m, report))
        except MailboxUnavailable as err:
            log.error("mailbox unavailable, fetching skipped: %s", err)
            report.problems.append(f"Không lấy được thư mới: {err.reason}.")
        return True
