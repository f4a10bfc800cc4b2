"""One poll cycle, and the order of the stages a message goes through.

    fetch   -> ledger row + raw bytes stored (one commit per batch, with the folder's cursor)
    process -> parse, skip copies, guard, identify, unpack, extract, validate, store, queue the reply
               (one commit per message: the outcome and its reply land together or not at all)
    file    -> move or flag handled mail in the mailbox
    send    -> deliver queued replies

Each message is handled from the stored raw bytes, not from the mailbox, so a crash or an error
in one stage never loses a message: the ledger says where it stopped and the next cycle resumes.
A message the program keeps failing on is quarantined after a few attempts instead of blocking
the queue; `intake reprocess` puts it back.

The mailbox is opened twice a cycle, for fetching and for filing away, each retried with back-off
when the connection fails; a mailbox that stays unreachable is reported in `PollReport.problems`
while the stored messages are still processed and the outbox still delivered.
"""

from __future__ import annotations

import email
import email.parser
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from config.campaign import Campaign, Unit
from config.settings import Settings
from pipeline.annotate import annotated_copies
from pipeline.documents import SPREADSHEET_EXTENSIONS, UNSUPPORTED_SPREADSHEET_EXTENSIONS
from pipeline.extract import extract
from pipeline.fetch import Cursor, Mailbox, MailboxUnavailable, MessageRef
from pipeline.guard import automatic_reason, forged_sender_reason
from pipeline.model import Attachment, Extraction, ParsedEmail, Severity
from pipeline.parse import parse_headers, parse_message
from pipeline.reply import (
    SubmissionReply,
    can_reply_to,
    compose_how_to_submit,
    compose_submission_reply,
    compose_too_large,
    count_rows,
    group_findings,
    megabytes,
)
from pipeline.send import Transport, deliver_due, queue_email
from pipeline.unpack import ARCHIVE_EXTENSIONS, is_tnef, unpack
from pipeline.validate import Verdict, validate
from storage import repository
from storage.files import FileStore
from storage.models import (
    InboundMessage,
    MailboxAction,
    MessageState,
    Outcome,
    SubmissionStatus,
    utcnow,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_LEASE = "poll"
# The reply to a unit's mail with nothing attached. One a day per sender at most: a unit's
# auto-responder that echoes our replies without saying it is automatic gets one answer, not a loop.
NOTHING_ATTACHED = "nothing_attached"
REPLY_CAPPED = "; không trả lời: đã đủ số thư trả lời trong ngày cho địa chỉ này"


@dataclass
class PollReport:
    fetched: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    quarantined: int = 0
    filed: int = 0
    sent: int = 0
    deferred: int = 0
    send_failed: int = 0
    skipped_busy: bool = False
    # What kept the cycle from doing all its work, in the operator's words.
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What processing a message needs besides the message."""

    campaign: Campaign
    settings: Settings
    files: FileStore

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset({self.campaign.department.intake_address.lower()})


# --- fetch ------------------------------------------------------------------------------------


def _header_summary(raw: bytes) -> tuple[str, str, str]:
    """Message-ID, sender and subject for the ledger; blanks when the headers are unreadable."""
    try:
        headers = email.parser.BytesHeaderParser(policy=policy.default).parsebytes(raw)
        sender = headers.get("From")
        address = sender.addresses[0].addr_spec.lower() if sender and sender.addresses else ""
        return (
            str(headers.get("Message-ID") or "").strip(),
            address,
            str(headers.get("Subject") or "")[:500],
        )
    except Exception:  # any header the parser chokes on: the full parse will report it
        return "", "", ""


def fetch_into_ledger(engine: Engine, mailbox: Mailbox, report: PollReport) -> None:
    """Store new messages batch by batch; `report.fetched` counts them as they are committed, so
    the count stays right when the connection drops and the stage is run again."""
    with Session(engine) as session:
        stored = repository.get_cursor(session, mailbox.source)
        cursor = Cursor(stored.uidvalidity, stored.last_uid) if stored else None
    for batch, next_cursor in mailbox.batches(cursor):
        count = 0
        with Session(engine) as session:
            for fetched in batch:
                message_id, sender, subject = _header_summary(fetched.raw)
                row = repository.record_fetched(
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
                )
                count += row is not None
            if next_cursor is not None:
                repository.set_cursor(
                    session, mailbox.source, next_cursor.uidvalidity, next_cursor.last_uid
                )
            session.commit()
        report.fetched += count


# --- process ----------------------------------------------------------------------------------


def _looks_like_submission(mail: ParsedEmail) -> bool:
    sheets = SPREADSHEET_EXTENSIONS | UNSUPPORTED_SPREADSHEET_EXTENSIONS | ARCHIVE_EXTENSIONS
    return any(a.extension in sheets or is_tnef(a) for a in mail.attachments)


def _answers_us(session: Session, mail: ParsedEmail) -> bool:
    """A message with nothing attached that replies to one of our own messages."""
    if mail.attachments:
        return False
    ids = set(mail.references.split()) | set(mail.headers.get("in-reply-to", "").split())
    return any(repository.outbound_exists(session, i) for i in ids if i)


def _reply_allowed(session: Session, ctx: Context, recipient: str, now: datetime) -> bool:
    local_midnight = now.astimezone(ctx.campaign.tz).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    sent_today = repository.replies_since(session, recipient, local_midnight.astimezone(UTC))
    return sent_today < ctx.settings.outgoing.max_replies_per_sender_per_day


def examine(
    mail: ParsedEmail, unit: Unit, campaign: Campaign, received_at: datetime
) -> tuple[list[Attachment], Extraction, Verdict]:
    """Unpack, extract and validate a unit's message; pure (no database, no mailbox). Returns
    the files as read (out of any archive), what was read from them, and the verdict."""
    unpacked = unpack(mail.attachments)
    extraction = extract(unpacked.attachments, campaign)
    extraction.findings[:0] = unpacked.findings  # about the containers: first in the reply
    return unpacked.attachments, extraction, validate(extraction, unit, campaign, received_at)


def _handle_submission(
    session: Session, ctx: Context, message: InboundMessage, mail: ParsedEmail, now: datetime
) -> None:
    campaign, mailbox = ctx.campaign, ctx.settings.mailbox
    unit = campaign.unit_by_sender[mail.from_address]
    received_at = message.received_at or message.fetched_at
    files, extraction, verdict = examine(mail, unit, campaign, received_at)
    late = any(f.code == "LATE_SUBMISSION" for f in verdict.findings)
    if not verdict.accepted:
        status = SubmissionStatus.REJECTED
    elif late:
        status = SubmissionStatus.ACCEPTED_LATE
    else:
        status = SubmissionStatus.ACCEPTED
    # The files as read (out of any archive); the containers stay in the stored raw message.
    stored = {a.sha256: ctx.files.put(a.payload) for a in files if not a.inline}
    submission, previous = repository.store_submission(
        session,
        message=message,
        campaign=campaign,
        unit=unit,
        received_at=received_at,
        extraction=extraction,
        findings=verdict.findings,
        rules_run=verdict.rules_run,
        status=status,
        late=late,
        stored_paths=stored,
        now=now,
    )
    message.outcome = Outcome.SUBMISSION
    message.outcome_detail = f"{unit.code} v{submission.version}: {status.value}"
    message.mailbox_folder = (
        mailbox.rejected_folder if status is SubmissionStatus.REJECTED else mailbox.processed_folder
    )
    if _reply_allowed(session, ctx, mail.from_address, now):
        reply = SubmissionReply(
            campaign=campaign,
            unit=unit,
            status=status.value,
            version=submission.version,
            received_at=received_at,
            counts=count_rows(extraction.nominees, unit, campaign),
            documents=extraction.documents,
            errors=group_findings(verdict.findings, Severity.ERROR),
            warnings=group_findings(verdict.findings, Severity.WARNING),
            superseded_version=previous.version if previous else None,
            superseded_at=previous.received_at if previous else None,
            annotated=annotated_copies(extraction.lists_read, verdict.findings),
        )
        kind = "error_report" if status is SubmissionStatus.REJECTED else "acknowledgement"
        if not mail.attachments:
            kind = NOTHING_ATTACHED
        answer = compose_submission_reply(reply, mail, ctx.settings.outgoing.from_name, now)
        queue_email(session, answer, kind, message.id)
    else:
        message.outcome_detail += REPLY_CAPPED


def _answer_too_large(
    session: Session,
    ctx: Context,
    message: InboundMessage,
    mail: ParsedEmail,
    size: int,
    now: datetime,
) -> None:
    """A unit's message over the size limit: kept, not unpacked, answered with the limit. It is
    no submission, so a dossier the unit sent earlier stands."""
    message.outcome = Outcome.TOO_LARGE
    message.mailbox_folder = ctx.settings.mailbox.rejected_folder
    message.outcome_detail = f"thư {megabytes(size)} MB, vượt giới hạn"
    if _reply_allowed(session, ctx, mail.from_address, now):
        answer = compose_too_large(
            mail,
            ctx.campaign,
            ctx.settings.outgoing.from_name,
            now,
            size=size,
            limit=ctx.settings.mailbox.max_message_bytes,
            received_at=message.received_at or message.fetched_at,
        )
        queue_email(session, answer, "too_large", message.id)
    else:
        message.outcome_detail += REPLY_CAPPED


def process_message(session: Session, ctx: Context, message: InboundMessage, now: datetime) -> None:
    """Decide what a stored message is and store the outcome (and its reply) in `session`."""
    mailbox = ctx.settings.mailbox
    raw = repository.raw_bytes(session, message.id or 0)
    too_large = len(raw) > mailbox.max_message_bytes
    mail = parse_headers(raw) if too_large else parse_message(raw)
    message.from_address = mail.from_address
    message.subject = mail.subject[:500]
    message.message_id = mail.message_id
    if message.received_at is None:  # a Maildir has no server time: trust the Date header
        message.received_at = mail.date or message.fetched_at
    earlier = repository.earlier_copy(session, message)
    robot = automatic_reason(mail, ctx.own_addresses)
    forged = forged_sender_reason(mail) if mailbox.check_authentication_results else None
    if earlier is not None:
        message.outcome, message.duplicate_of_id = Outcome.DUPLICATE, earlier.id
        message.outcome_detail = f"bản trùng của thư số {earlier.id}"
        message.mailbox_folder = mailbox.processed_folder
    elif mail.from_address not in ctx.campaign.unit_by_sender:
        message.outcome = Outcome.UNKNOWN_SENDER
        message.mailbox_folder = mailbox.rejected_folder
        if (
            robot is None
            and can_reply_to(mail.from_address)
            and _looks_like_submission(mail)
            and _reply_allowed(session, ctx, mail.from_address, now)
        ):
            reply = compose_how_to_submit(mail, ctx.campaign, ctx.settings.outgoing.from_name, now)
            queue_email(session, reply, "how_to_submit", message.id)
            message.outcome_detail = "đã gửi hướng dẫn nộp hồ sơ"
        else:
            message.outcome_detail = (
                f"không trả lời: thư tự động ({robot})"
                if robot
                else "không trả lời: thư không kèm bảng tính"
            )
    elif forged is not None:
        # Never answered: a reply would go to the real unit, about mail it did not send.
        message.outcome = Outcome.SUSPICIOUS
        message.outcome_detail = f"nghi giả mạo địa chỉ của đơn vị: {forged}"
        message.mailbox_folder = mailbox.rejected_folder
    elif robot is not None:
        message.outcome, message.outcome_detail = Outcome.AUTOMATIC, f"thư tự động ({robot})"
        message.mailbox_folder = mailbox.processed_folder
    elif too_large:
        _answer_too_large(session, ctx, message, mail, len(raw), now)
    elif not mail.attachments and repository.replies_since(
        session, mail.from_address, now - timedelta(hours=24), kind=NOTHING_ATTACHED
    ):
        message.outcome = Outcome.CORRESPONDENCE
        message.outcome_detail = (
            "không kèm tệp, đã trả lời thư như vậy trong 24 giờ qua: cần người đọc"
        )
        message.mailbox_folder = mailbox.processed_folder
    elif _answers_us(session, mail):
        message.outcome = Outcome.CORRESPONDENCE
        message.outcome_detail = "đơn vị trả lời thư của hệ thống, không kèm tệp: cần người đọc"
        message.mailbox_folder = mailbox.processed_folder
    else:
        _handle_submission(session, ctx, message, mail, now)
    message.state = MessageState.DONE
    message.updated_at = utcnow()
    session.add(message)


def process_pending(engine: Engine, ctx: Context, report: PollReport, now: datetime) -> None:
    max_attempts = ctx.settings.schedule.max_processing_attempts
    with Session(engine) as session:
        pending = repository.messages_to_process(session, max_attempts)
    for message_id in pending:
        with Session(engine) as session:
            message = session.get(InboundMessage, message_id)
            if message is None:
                continue
            try:
                process_message(session, ctx, message, now)
                session.commit()
                report.outcomes[str(message.outcome)] += 1
            except (OperationalError, InterfaceError):
                # The database, not the message: stop the cycle without counting an attempt,
                # or a long lock would quarantine good mail.
                raise
            except Exception as err:  # the program's own fault: record it, go on with the next
                session.rollback()
                log.exception("processing message %s failed", message_id)
                _record_failure(engine, message_id, err, max_attempts, report)


def _record_failure(
    engine: Engine, message_id: int, err: Exception, max_attempts: int, report: PollReport
) -> None:
    with Session(engine) as session:
        message = session.get(InboundMessage, message_id)
        if message is None:
            return
        message.attempts += 1
        message.last_error = f"{type(err).__name__}: {err}"[:2000]
        if message.attempts >= max_attempts:
            message.state = MessageState.QUARANTINED
            report.quarantined += 1
        else:
            message.state = MessageState.FAILED
            report.failed += 1
        message.updated_at = utcnow()
        session.add(message)
        session.commit()


# --- file away --------------------------------------------------------------------------------


def file_handled(engine: Engine, mailbox: Mailbox) -> int:
    filed = 0
    with Session(engine) as session:
        for message in repository.messages_awaiting_mailbox_action(session, mailbox.source):
            ref = MessageRef(
                message.source_key, message.uid, message.uidvalidity, message.message_id
            )
            done = mailbox.file_away(ref, message.mailbox_folder)
            message.mailbox_action = MailboxAction.DONE if done else MailboxAction.NOT_POSSIBLE
            session.add(message)
            session.commit()
            filed += done
    return filed


# --- the cycle --------------------------------------------------------------------------------


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
    holder = repository.lease_holder()
    with Session(engine) as session:
        got = repository.acquire_lease(
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
            repository.sync_units(session, ctx.campaign)
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
            repository.release_lease(session, POLL_LEASE, holder)
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
