"""Handling one stored message: parse it, gather the facts, triage it (`pipeline.triage.RULES`),
examine and store a submission, and queue the reply the policy allows, all in the caller's
transaction, so the outcome and its reply land together or not at all.

A message the program fails on (its own fault, never the database's) is counted as an attempt
and quarantined after `schedule.max_processing_attempts`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from domain.kinds import (
    SYSTEM_ACTOR,
    AuditAction,
    MailKind,
    MessageState,
    Severity,
    SubmissionStatus,
)
from domain.model import ParsedEmail
from domain.wording import status_label
from pipeline.annotate import annotated_copies
from pipeline.examine import examine, looks_like_submission
from pipeline.findings import outcome_detail
from pipeline.guard import automatic_reason, forged_sender_reason, unverified_sender_reason
from pipeline.parse import parse_headers, parse_message
from pipeline.reply import (
    SubmissionReply,
    can_reply_to,
    compose_how_to_submit,
    compose_submission_reply,
    compose_too_large,
    count_rows,
    group_findings,
    read_back,
)
from pipeline.triage import (
    Decision,
    Facts,
    Folder,
    ReplyHistory,
    ReplyRefusal,
    UnregisteredReplies,
    reply_refusal,
    triage,
)
from service.context import Context, PollReport
from service.outbox import queue_email
from storage import audit, inbound, outbox, submissions
from storage.db import claiming_session
from storage.decisions import effective_campaign
from storage.files import StorageUnavailable
from storage.models import InboundMessage

log = logging.getLogger(__name__)


def _local_midnight(ctx: Context, now: datetime) -> datetime:
    local = now.astimezone(ctx.campaign.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)


def _reply_history(session: Session, ctx: Context, address: str, now: datetime) -> ReplyHistory:
    return ReplyHistory(
        today=outbox.replies_since(session, address, _local_midnight(ctx, now)),
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
    registered = mail.from_address in ctx.campaign.unit_by_sender
    return Facts(
        mail=mail,
        size=message.size,
        too_large=message.size > ctx.settings.mailbox.max_message_bytes,
        registered=registered,
        earlier_copy_id=earlier.id if earlier else None,
        answers_us=not mail.attachments and _answers_us(session, mail),
        automatic=automatic_reason(mail, ctx.own_addresses),
        forged=forged_sender_reason(mail) if check_auth else None,
        can_reply=can_reply_to(mail.from_address),
        unverified=unverified_sender_reason(mail) if check_auth else None,
        looks_like_submission=looks_like_submission(mail),
        replies=_reply_history(session, ctx, mail.from_address, now),
        policy=ctx.reply_policy,
        # Only an unknown sender's answer counts against the caps on them (`triage.unknown_sender`).
        unregistered_replies=UnregisteredReplies()
        if registered
        else UnregisteredReplies(
            last_hour=outbox.count_since(session, MailKind.HOW_TO_SUBMIT, now - timedelta(hours=1)),
            today=outbox.count_since(session, MailKind.HOW_TO_SUBMIT, _local_midnight(ctx, now)),
        ),
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
) -> Processed:
    campaign = ctx.campaign
    unit = campaign.unit_by_sender[mail.from_address]
    received_at = message.received_at or message.fetched_at
    files, extraction, verdict = examine(mail, unit, campaign, received_at, ctx.trust_roots)
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
        "submission", unit=unit.code, version=submission.version, status=status_label(status)
    )
    kind, detail = _allowed(facts, wanted, detail)
    folder = Folder.REJECTED if status is SubmissionStatus.REJECTED else Folder.PROCESSED
    inbound.mark_handled(
        session,
        message,
        inbound.Handled(decision.rule, decision.outcome, detail, ctx.folder(folder)),
    )
    handled = Processed(decision.rule, unit.code, tuple(sorted({f.code for f in verdict.findings})))
    if kind is None:
        return handled
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
        read_back=read_back(extraction.nominees, campaign),
        several_files=len(extraction.list_files) > 1,
    )
    answer = compose_submission_reply(reply, mail, ctx.settings.outgoing.from_name, now)
    return replace(handled, reply_id=queue_email(session, answer, kind, message.id, unit.code).id)


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


@dataclass(frozen=True)
class Processed:
    """What handling a message did, for its log line (no nominee data: codes and numbers)."""

    rule: str
    unit: str = "-"
    codes: tuple[str, ...] = ()
    reply_id: int | None = None


def process_message(
    session: Session, ctx: Context, message: InboundMessage, now: datetime
) -> Processed:
    """Decide what a stored message is and store the outcome (and its reply) in `session`,
    with its audit row last."""
    # The officers' decisions (registered addresses, extended deadlines) apply to this message.
    ctx = replace(ctx, campaign=effective_campaign(session, ctx.campaign))
    done = _process(session, ctx, message, now)
    audit.append(
        session,
        actor=SYSTEM_ACTOR,
        action=AuditAction.MESSAGE_HANDLED,
        subject=audit.Subject("message", message.id or 0, "" if done.unit == "-" else done.unit),
        details={
            "outcome": str(message.outcome),
            "rule": done.rule,
            "from": message.from_address,
            "detail": message.outcome_detail,
            "findings": list(done.codes),
            "reply": done.reply_id,
        },
        at=now,
    )
    return done


def _process(session: Session, ctx: Context, message: InboundMessage, now: datetime) -> Processed:
    stored = inbound.stored_raw(session, message.id or 0)
    too_large = message.size > ctx.settings.mailbox.max_message_bytes
    if too_large:  # its head is enough: what a person needs is who sent it, and the limit
        mail = parse_headers(stored.data)
    else:
        raw = ctx.files.read(stored.stored_path) if stored.stored_path else stored.data
        mail = parse_message(raw)
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
        return _handle_submission(session, ctx, message, mail, facts, decision, now)
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
        answer = _compose_answer(ctx, kind, message, mail, now)
        return Processed(decision.rule, reply_id=queue_email(session, answer, kind, message.id).id)
    return Processed(decision.rule)


@dataclass
class Backlog:
    """How far a cycle has walked the stored messages: every id up to `after_id` was tried this
    cycle (handled, left to the instance holding it, or failed, which waits for the next cycle,
    so a failing message does not spend its attempts at once)."""

    after_id: int = 0
    tried: int = 0


def process_pending(
    engine: Engine,
    ctx: Context,
    report: PollReport,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
    backlog: Backlog | None = None,
) -> int:
    """Handle every stored message that needs it, each under its own claim, so several
    instances share a backlog and none handles a message another has; the number taken.

    The messages are read a page at a time, in the order they were stored, until none is left
    after the last one tried: what another instance stores meanwhile is taken too. `backlog`
    carries the place across calls of one cycle."""
    max_attempts = ctx.settings.schedule.max_processing_attempts
    backlog = Backlog() if backlog is None else backlog
    taken = 0
    while True:
        with Session(engine) as session:
            page = inbound.messages_to_process(session, max_attempts, backlog.after_id)
            waiting = (
                inbound.count_to_process(session, max_attempts, backlog.after_id)
                if page and progress is not None
                else 0
            )
        if not page:
            return taken
        for position, message_id in enumerate(page, 1):
            backlog.after_id = message_id
            backlog.tried += 1
            taken += 1
            if not _process_claimed(engine, ctx, message_id, report, now, max_attempts):
                return taken
            if progress is not None:
                progress(backlog.tried, backlog.tried + waiting - position)


def _process_claimed(
    engine: Engine,
    ctx: Context,
    message_id: int,
    report: PollReport,
    now: datetime,
    max_attempts: int,
) -> bool:
    """Handle one message under its claim (skipped when another instance holds it or has
    finished it). False when the cycle must stop: the file store is unavailable."""
    with claiming_session(engine) as session:
        message = inbound.claim(session, message_id, max_attempts)
        if message is None:
            return True  # another instance is on it, or has finished it
        try:
            done = process_message(session, ctx, message, now)
            outcome = str(message.outcome)  # read before the commit expires it
            session.commit()
        except (OperationalError, InterfaceError):
            # The database, not the message: stop the cycle without counting an attempt,
            # or a long lock would quarantine good mail.
            raise
        except StorageUnavailable as err:
            # The disk, not the message: the same, with one clear word for the operator.
            session.rollback()
            log.error("files directory unavailable, processing stopped: %s", err)
            report.problems.append(
                f"Không ghi được tệp vào thư mục lưu trữ {err.root} ({err.reason}). Thư chưa "
                "xử lý vẫn được giữ nguyên và sẽ được xử lý ở lượt sau, khi thư mục ghi được "
                "trở lại (kiểm tra chỗ trống và quyền ghi)."
            )
            return False
        except Exception as err:  # the program's own fault: record it, go on with the next
            session.rollback()
            log.exception("processing message %s failed", message_id)
            _record_failure(engine, message_id, err, max_attempts, report)
            return True
        report.outcomes[outcome] += 1
        log.info(
            "message %s: unit=%s outcome=%s rule=%s findings=%s reply=%s",
            message_id,
            done.unit,
            outcome,
            done.rule,
            ",".join(done.codes) or "-",
            done.reply_id or "-",
        )
    return True


def _record_failure(
    engine: Engine, message_id: int, err: Exception, max_attempts: int, report: PollReport
) -> None:
    with claiming_session(engine) as session:
        state = inbound.record_failure(
            session, message_id, f"{type(err).__name__}: {err}", max_attempts
        )
        session.commit()
    if state is MessageState.QUARANTINED:
        report.quarantined += 1
    elif state is MessageState.FAILED:
        report.failed += 1
