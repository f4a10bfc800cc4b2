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

import email
import email.parser
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from config.settings import Settings
from domain.campaign import Campaign
from domain.kinds import MailKind, MessageState, Severity, SubmissionStatus
from domain.model import ParsedEmail
from pipeline.annotate import annotated_copies
from pipeline.examine import examine, looks_like_submission
from pipeline.fetch import Cursor, Mailbox, MailboxUnavailable, MessageRef
from pipeline.findings import outcome_detail
from pipeline.guard import automatic_reason, forged_sender_reason
from pipeline.parse import parse_headers, parse_message
from pipeline.reply import (
    SubmissionReply,
    can_reply_to,
    compose_how_to_submit,
    compose_submission_reply,
    compose_too_large,
    count_rows,
    group_findings,
)
from pipeline.send import Transport
from pipeline.triage import (
    Decision,
    Facts,
    Folder,
    ReplyHistory,
    ReplyPolicy,
    ReplyRefusal,
    reply_refusal,
    triage,
)
from service.outbox import deliver_due, queue_email
from storage import inbound, leases, outbox, submissions
from storage.files import FileStore
from storage.models import InboundMessage

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_LEASE = "poll"


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

    @property
    def reply_policy(self) -> ReplyPolicy:
        return ReplyPolicy(per_sender_per_day=self.settings.outgoing.max_replies_per_sender_per_day)

    def folder(self, folder: Folder) -> str:
        mailbox = self.settings.mailbox
        return mailbox.rejected_folder if folder is Folder.REJECTED else mailbox.processed_folder


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
        stored = inbound.get_cursor(session, mailbox.source)
        cursor = Cursor(stored.uidvalidity, stored.last_uid) if stored else None
    for batch, next_cursor in mailbox.batches(cursor):
        count = 0
        with Session(engine) as session:
            for fetched in batch:
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
                )
                count += row is not None
            if next_cursor is not None:
                inbound.set_cursor(
                    session, mailbox.source, next_cursor.uidvalidity, next_cursor.last_uid
                )
            session.commit()
        report.fetched += count


# --- process ----------------------------------------------------------------------------------


def _reply_history(session: Session, ctx: Context, address: str, now: datetime) -> ReplyHistory:
    local_midnight = now.astimezone(ctx.campaign.tz).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return ReplyHistory(
        today=outbox.replies_since(session, address, local_midnight.astimezone(UTC)),
        last_24h=outbox.replies_by_kind_since(session, address, now - timedelta(hours=24)),
    )


def _answers_us(session: Session, mail: ParsedEmail) -> bool:
    """It refers (In-Reply-To, References) to one of our own messages."""
    ids = set(mail.references.split()) | set(mail.headers.get("in-reply-to", "").split())
    return any(outbox.outbound_exists(session, i) for i in ids if i)


def gather_facts(
    session: Session, ctx: Context, message: InboundMessage, mail: ParsedEmail, now: datetime
) -> Facts:
    check_auth = ctx.settings.mailbox.check_authentication_results
    earlier = inbound.earlier_copy(session, message)
    return Facts(
        mail=mail,
        size=message.size,
        too_large=message.size > ctx.settings.mailbox.max_message_bytes,
        registered=mail.from_address in ctx.campaign.unit_by_sender,
        earlier_copy_id=earlier.id if earlier else None,
        answers_us=not mail.attachments and _answers_us(session, mail),
        automatic=automatic_reason(mail, ctx.own_addresses),
        forged=forged_sender_reason(mail) if check_auth else None,
        can_reply=can_reply_to(mail.from_address),
        looks_like_submission=looks_like_submission(mail),
        replies=_reply_history(session, ctx, mail.from_address, now),
        policy=ctx.reply_policy,
    )


_HELD_BACK = {
    ReplyRefusal.DAILY_CAP: "reply_capped",
    ReplyRefusal.ALREADY_ANSWERED: "reply_already_sent",
}


def _allowed(facts: Facts, kind: MailKind | None, detail: str) -> tuple[MailKind | None, str]:
    """The reply kind if the policy lets it go now, else None and the detail says why not."""
    if kind is None:
        return None, detail
    refusal = reply_refusal(kind, facts.replies, facts.policy)
    if refusal is None:
        return kind, detail
    return None, detail + outcome_detail(_HELD_BACK[refusal])


def _handle_submission(
    session: Session,
    ctx: Context,
    message: InboundMessage,
    mail: ParsedEmail,
    facts: Facts,
    decision: Decision,
    now: datetime,
) -> None:
    campaign = ctx.campaign
    unit = campaign.unit_by_sender[mail.from_address]
    received_at = message.received_at or message.fetched_at
    files, extraction, verdict = examine(mail, unit, campaign, received_at)
    status = verdict.status
    # The files as read (out of any archive); the containers stay in the stored raw message.
    stored = {a.sha256: ctx.files.put(a.payload) for a in files if not a.inline}
    submission, previous = submissions.store_submission(
        session,
        message=message,
        campaign=campaign,
        unit=unit,
        received_at=received_at,
        extraction=extraction,
        findings=verdict.findings,
        rules_run=verdict.rules_run,
        status=status,
        late=verdict.late,
        stored_paths=stored,
        now=now,
    )
    wanted = decision.reply or (
        MailKind.ERROR_REPORT if status is SubmissionStatus.REJECTED else MailKind.ACKNOWLEDGEMENT
    )
    detail = outcome_detail(
        "submission", unit=unit.code, version=submission.version, status=status.value
    )
    kind, detail = _allowed(facts, wanted, detail)
    folder = Folder.REJECTED if status is SubmissionStatus.REJECTED else Folder.PROCESSED
    inbound.mark_handled(
        session,
        message,
        inbound.Handled(decision.rule, decision.outcome, detail, ctx.folder(folder)),
    )
    if kind is None:
        return
    reply = SubmissionReply(
        campaign=campaign,
        unit=unit,
        status=status,
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
    answer = compose_submission_reply(reply, mail, ctx.settings.outgoing.from_name, now)
    queue_email(session, answer, kind, message.id)


def _compose_answer(
    ctx: Context, kind: MailKind, message: InboundMessage, mail: ParsedEmail, now: datetime
) -> EmailMessage:
    """The answer to a message that is not a submission."""
    from_name = ctx.settings.outgoing.from_name
    if kind is MailKind.HOW_TO_SUBMIT:
        return compose_how_to_submit(mail, ctx.campaign, from_name, now)
    if kind is MailKind.TOO_LARGE:
        return compose_too_large(
            mail,
            ctx.campaign,
            from_name,
            now,
            size=message.size,
            limit=ctx.settings.mailbox.max_message_bytes,
            received_at=message.received_at or message.fetched_at,
        )
    raise AssertionError(f"no composer for {kind}")


def process_message(session: Session, ctx: Context, message: InboundMessage, now: datetime) -> None:
    """Decide what a stored message is and store the outcome (and its reply) in `session`."""
    raw = inbound.raw_bytes(session, message.id or 0)
    too_large = len(raw) > ctx.settings.mailbox.max_message_bytes
    mail = parse_headers(raw) if too_large else parse_message(raw)
    inbound.note_headers(
        message,
        from_address=mail.from_address,
        subject=mail.subject[:500],
        message_id=mail.message_id,
        date=mail.date,
    )
    facts = gather_facts(session, ctx, message, mail, now)
    decision = triage(facts)
    if decision.is_submission:
        _handle_submission(session, ctx, message, mail, facts, decision, now)
        return
    kind, detail = _allowed(facts, decision.reply, decision.detail)
    inbound.mark_handled(
        session,
        message,
        inbound.Handled(
            decision.rule,
            decision.outcome,
            detail,
            ctx.folder(decision.folder),
            decision.duplicate_of_id,
        ),
    )
    if kind is not None:
        queue_email(session, _compose_answer(ctx, kind, message, mail, now), kind, message.id)


def process_pending(engine: Engine, ctx: Context, report: PollReport, now: datetime) -> None:
    max_attempts = ctx.settings.schedule.max_processing_attempts
    with Session(engine) as session:
        pending = inbound.messages_to_process(session, max_attempts)
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
        state = inbound.record_failure(
            session, message_id, f"{type(err).__name__}: {err}", max_attempts
        )
        session.commit()
    if state is MessageState.QUARANTINED:
        report.quarantined += 1
    elif state is MessageState.FAILED:
        report.failed += 1


# --- file away --------------------------------------------------------------------------------


def file_handled(engine: Engine, mailbox: Mailbox) -> int:
    filed = 0
    with Session(engine) as session:
        for message in inbound.messages_awaiting_mailbox_action(session, mailbox.source):
            ref = MessageRef(
                message.source_key, message.uid, message.uidvalidity, message.message_id
            )
            done = mailbox.file_away(ref, message.mailbox_folder)
            inbound.mark_filed(session, message, done)
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
