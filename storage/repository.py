"""The queries the pipeline and the CLI run. Each function takes an open session; the caller
decides where a transaction ends, so "store the submission and queue its reply" is one commit."""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config.campaign import Campaign, NomineeKind, Unit
from pipeline.consolidate import FailedMail, MessageEntry, Snapshot, SubmissionEntry, UnitEntry
from pipeline.model import Extraction, Finding, Location, Nominee, Severity
from pipeline.text import person_key
from pipeline.validate import distinct
from storage.models import (
    Dispatch,
    DocumentRecord,
    FindingRecord,
    InboundMessage,
    JobRun,
    Lease,
    MailboxAction,
    MailboxCursor,
    MailState,
    MessageState,
    NomineeRecord,
    OutboundMail,
    Outcome,
    RawMessage,
    Submission,
    SubmissionStatus,
    UnitRecord,
    utcnow,
)


def sync_units(session: Session, campaign: Campaign) -> None:
    """Mirror the campaign's units into the database, so stored rows can be read on their own."""
    existing = {
        u.code: u
        for u in session.exec(select(UnitRecord).where(UnitRecord.campaign_code == campaign.code))
    }
    for unit in campaign.units:
        record = existing.get(unit.code) or UnitRecord(
            campaign_code=campaign.code, code=unit.code, name="", kind=""
        )
        record.name, record.kind = unit.name, unit.kind.value
        session.add(record)


# --- the ledger -------------------------------------------------------------------------------


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
) -> InboundMessage | None:
    """Write the ledger row and the raw bytes; None when this mailbox entry is already known."""
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
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        received_at=received_at,
        from_address=from_address,
        subject=subject,
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    session.add(RawMessage(inbound_message_id=message.id, data=raw))
    return message


def get_cursor(session: Session, source: str) -> MailboxCursor | None:
    return session.get(MailboxCursor, source)


def set_cursor(session: Session, source: str, uidvalidity: int, last_uid: int) -> None:
    cursor = session.get(MailboxCursor, source) or MailboxCursor(
        source=source, uidvalidity=uidvalidity, last_uid=0
    )
    cursor.uidvalidity, cursor.last_uid, cursor.updated_at = uidvalidity, last_uid, utcnow()
    session.add(cursor)


def messages_to_process(session: Session, max_attempts: int) -> list[int]:
    rows = session.exec(
        select(InboundMessage.id)
        .where(
            or_(
                col(InboundMessage.state) == MessageState.RECEIVED,
                (col(InboundMessage.state) == MessageState.FAILED)
                & (col(InboundMessage.attempts) < max_attempts),
            )
        )
        .order_by(col(InboundMessage.id))
    ).all()
    return [r for r in rows if r is not None]


def raw_bytes(session: Session, message_id: int) -> bytes:
    raw = session.get(RawMessage, message_id)
    if raw is None:
        raise LookupError(f"raw message {message_id} missing")
    return raw.data


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


def messages_awaiting_mailbox_action(session: Session, source: str) -> Sequence[InboundMessage]:
    return session.exec(
        select(InboundMessage)
        .where(
            InboundMessage.source == source,
            InboundMessage.state == MessageState.DONE,
            InboundMessage.mailbox_action == MailboxAction.PENDING,
        )
        .order_by(col(InboundMessage.id))
    ).all()


# --- submissions ------------------------------------------------------------------------------


def current_submission(session: Session, campaign_code: str, unit_code: str) -> Submission | None:
    return session.exec(
        select(Submission).where(
            Submission.campaign_code == campaign_code,
            Submission.unit_code == unit_code,
            col(Submission.is_current),
        )
    ).first()


def store_submission(
    session: Session,
    *,
    message: InboundMessage,
    campaign: Campaign,
    unit: Unit,
    received_at: datetime,
    extraction: Extraction,
    findings: Sequence[Finding],
    rules_run: Sequence[str],
    status: SubmissionStatus,
    late: bool,
    stored_paths: dict[str, str],
    now: datetime,
) -> tuple[Submission, Submission | None]:
    """Store a submission with its nominees, documents and findings; it supersedes the unit's
    current one. Returns the new submission and the one it replaced, if any."""
    assert message.id is not None
    previous = current_submission(session, campaign.code, unit.code)
    last_version = session.exec(
        select(func.max(Submission.version)).where(
            Submission.campaign_code == campaign.code, Submission.unit_code == unit.code
        )
    ).one()
    if previous is not None:
        previous.is_current = False
        session.add(previous)
        session.flush()
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    submission = Submission(
        campaign_code=campaign.code,
        unit_code=unit.code,
        inbound_message_id=message.id,
        version=(last_version or 0) + 1,
        supersedes_id=previous.id if previous else None,
        status=status,
        late=late,
        received_at=received_at,
        collectives=len(distinct(extraction.nominees, NomineeKind.COLLECTIVE)),
        individuals=len(distinct(extraction.nominees, NomineeKind.INDIVIDUAL)),
        errors=errors,
        warnings=len(findings) - errors,
        rules_run=",".join(rules_run),
        created_at=now,
    )
    session.add(submission)
    session.flush()
    assert submission.id is not None
    for n in extraction.nominees:
        session.add(
            NomineeRecord(
                submission_id=submission.id,
                kind=n.kind.value,
                name=n.name,
                name_key=person_key(n.name),
                awards=",".join(sorted(n.awards)),
                position=n.position,
                workplace=n.workplace,
                birth_year=n.birth_year,
                gender=n.gender,
                summary=n.summary,
                turnout_percent=n.turnout_percent,
                note=n.note,
                source_file=n.location.file or "",
                source_sheet=n.location.sheet or "",
                source_row=n.location.row,
            )
        )
    for d in extraction.documents:
        session.add(
            DocumentRecord(
                submission_id=submission.id,
                filename=d.filename,
                kind=d.kind.value,
                content_type=d.content_type,
                size=d.size,
                sha256=d.sha256,
                stored_path=stored_paths.get(d.sha256, ""),
            )
        )
    for f in findings:
        loc = f.location
        session.add(
            FindingRecord(
                submission_id=submission.id,
                code=f.code,
                severity=f.severity.value,
                message=f.message,
                fix=f.fix,
                file=loc.file if loc else None,
                sheet=loc.sheet if loc else None,
                row=loc.row if loc else None,
                column=loc.column if loc else None,
                value=f.value,
            )
        )
    return submission, previous


# --- outgoing mail ----------------------------------------------------------------------------


def queue_mail(
    session: Session,
    *,
    inbound_message_id: int | None,
    kind: str,
    recipient: str,
    subject: str,
    message_id: str,
    data: bytes,
) -> OutboundMail:
    mail = OutboundMail(
        inbound_message_id=inbound_message_id,
        kind=kind,
        recipient=recipient,
        subject=subject,
        message_id=message_id,
        data=data,
    )
    session.add(mail)
    return mail


def replies_since(
    session: Session, recipient: str, since: datetime, kind: str | None = None
) -> int:
    query = (
        select(func.count())
        .select_from(OutboundMail)
        .where(OutboundMail.recipient == recipient, OutboundMail.created_at >= since)
    )
    if kind is not None:
        query = query.where(OutboundMail.kind == kind)
    return session.exec(query).one()


def mail_in_state(session: Session, state: MailState) -> Sequence[OutboundMail]:
    return session.exec(
        select(OutboundMail).where(OutboundMail.state == state).order_by(col(OutboundMail.id))
    ).all()


def mail_due(session: Session, now: datetime) -> list[int]:
    rows = session.exec(
        select(OutboundMail.id)
        .where(OutboundMail.state == MailState.QUEUED, OutboundMail.next_attempt_at <= now)
        .order_by(col(OutboundMail.id))
    ).all()
    return [r for r in rows if r is not None]


def retry_later(mail: OutboundMail, error: str, max_attempts: int, now: datetime) -> bool:
    """Count a failed attempt and back off exponentially; True when it has now given up."""
    mail.attempts += 1
    mail.last_error = error
    if mail.attempts >= max_attempts:
        mail.state = MailState.FAILED
        return True
    mail.next_attempt_at = now + timedelta(minutes=2 ** min(mail.attempts, 8))
    return False


# --- status -----------------------------------------------------------------------------------


def messages_with_outcome(session: Session, *outcomes: str) -> Sequence[InboundMessage]:
    return session.exec(
        select(InboundMessage)
        .where(InboundMessage.outcome.in_(outcomes))  # type: ignore[union-attr]
        .order_by(col(InboundMessage.id))
    ).all()


def messages_in_state(session: Session, *states: MessageState) -> Sequence[InboundMessage]:
    return session.exec(
        select(InboundMessage)
        .where(InboundMessage.state.in_(states))  # type: ignore[attr-defined]
        .order_by(col(InboundMessage.id))
    ).all()


# --- leases -----------------------------------------------------------------------------------


_live_holders: set[str] = set()  # holders created by this process that have not released


def lease_holder() -> str:
    """A name for one holder of a lease: this host and process, and a token of its own, so two
    threads of one process (the poll job and a digest job, say) never count as the same holder."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    _live_holders.add(holder)
    return holder


def _holder_is_dead(holder: str) -> bool:
    """Whether a lease's holder is known to be gone: a process of this host that no longer runs
    (killed, crashed, restarted), so its lease need not be waited out. Holders on other hosts
    are only ever replaced once their lease expires."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return holder not in _live_holders  # ours: dead unless still held by one of our threads
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it runs, as another user
    return False


def acquire_lease(session: Session, name: str, holder: str, until: datetime, now: datetime) -> bool:
    """Take (or renew) the named lease if it is free, expired or already ours; commit to hold it.

    The UPDATE's WHERE clause re-checks the condition in the database, so two processes racing
    for an expired lease cannot both win; a race on the first INSERT fails on the primary key.
    """
    updated = session.execute(
        update(Lease)
        .where(
            col(Lease.name) == name, or_(col(Lease.expires_at) < now, col(Lease.holder) == holder)
        )
        .values(holder=holder, expires_at=until)
    )
    if updated.rowcount == 1:  # type: ignore[attr-defined]
        return True
    current = session.get(Lease, name)
    if current is not None:
        if not _holder_is_dead(current.holder):
            return False
        taken = session.execute(
            update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == current.holder)
            .values(holder=holder, expires_at=until)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        return False
    return True


def release_lease(session: Session, name: str, holder: str) -> None:
    _live_holders.discard(holder)
    session.execute(delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder))


def outbound_exists(session: Session, message_id: str) -> bool:
    return (
        session.exec(select(OutboundMail.id).where(OutboundMail.message_id == message_id)).first()
        is not None
    )


def mail_counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(OutboundMail.state, func.count()).group_by(OutboundMail.state)).all()
    return {str(state): n for state, n in rows}


# --- the campaign at a glance -----------------------------------------------------------------


def _nominee(record: NomineeRecord) -> Nominee:
    return Nominee(
        kind=NomineeKind(record.kind),
        name=record.name,
        awards=frozenset(filter(None, record.awards.split(","))),
        location=Location(record.source_file, record.source_sheet, record.source_row),
        position=record.position,
        workplace=record.workplace,
        birth_year=record.birth_year,
        gender=record.gender,
        summary=record.summary,
        turnout_percent=record.turnout_percent,
        note=record.note,
    )


def _entry(session: Session, s: Submission) -> SubmissionEntry:
    assert s.id is not None
    errors = session.exec(
        select(FindingRecord.message)
        .where(FindingRecord.submission_id == s.id, FindingRecord.severity == Severity.ERROR.value)
        .order_by(col(FindingRecord.id))
    ).all()
    return SubmissionEntry(
        id=s.id,
        unit_code=s.unit_code,
        version=s.version,
        status=str(s.status),
        late=s.late,
        received_at=s.received_at,
        created_at=s.created_at,
        errors=s.errors,
        warnings=s.warnings,
        error_messages=tuple(errors),
    )


def _message_entry(m: InboundMessage) -> MessageEntry:
    return MessageEntry(
        id=m.id or 0,
        from_address=m.from_address,
        subject=m.subject,
        received_at=m.received_at or m.fetched_at,
        detail=m.last_error or m.outcome_detail,
    )


def snapshot(session: Session, campaign: Campaign, now: datetime) -> Snapshot:
    history = session.exec(
        select(Submission)
        .where(Submission.campaign_code == campaign.code)
        .order_by(col(Submission.id))
    ).all()
    entries = {s.id: _entry(session, s) for s in history}
    units = []
    for unit in campaign.units:
        mine = [s for s in history if s.unit_code == unit.code]
        current = next((s for s in mine if s.is_current), None)
        nominees: tuple[Nominee, ...] = ()
        if current is not None:
            records = session.exec(
                select(NomineeRecord)
                .where(NomineeRecord.submission_id == current.id)
                .order_by(col(NomineeRecord.id))
            ).all()
            nominees = tuple(_nominee(r) for r in records)
        units.append(UnitEntry(unit, entries[current.id] if current else None, len(mine), nominees))
    failed = session.exec(
        select(OutboundMail).where(
            col(OutboundMail.state).in_([MailState.FAILED, MailState.UNCERTAIN])
        )
    ).all()
    return Snapshot(
        campaign=campaign,
        taken_at=now,
        units=tuple(units),
        history=tuple(entries.values()),
        to_read=tuple(
            _message_entry(m)
            for m in messages_with_outcome(
                session, Outcome.UNKNOWN_SENDER, Outcome.SUSPICIOUS, Outcome.TOO_LARGE
            )
        ),
        not_processed=tuple(
            _message_entry(m)
            for m in messages_in_state(session, MessageState.QUARANTINED, MessageState.FAILED)
        ),
        failed_mail=tuple(FailedMail(m.recipient, m.subject, m.last_error) for m in failed),
    )


# --- things done once: digests, reminders ------------------------------------------------------


def dispatch_once(
    session: Session, campaign_code: str, kind: str, key: str, now: datetime, detail: str = ""
) -> bool:
    """Claim a once-only mailing; False when it was already claimed (by us or anyone else).

    Commit the session to make the claim stick, together with the mail it stands for.
    """
    try:
        with session.begin_nested():
            session.add(
                Dispatch(
                    campaign_code=campaign_code, kind=kind, key=key, created_at=now, detail=detail
                )
            )
    except IntegrityError:
        return False
    return True


def last_dispatch(
    session: Session, campaign_code: str, kind: str, before: datetime
) -> Dispatch | None:
    return session.exec(
        select(Dispatch)
        .where(
            Dispatch.campaign_code == campaign_code,
            Dispatch.kind == kind,
            col(Dispatch.created_at) < before,
        )
        .order_by(col(Dispatch.created_at).desc())
    ).first()


def dispatched_keys(session: Session, campaign_code: str, kind: str) -> set[str]:
    return set(
        session.exec(
            select(Dispatch.key).where(
                Dispatch.campaign_code == campaign_code, Dispatch.kind == kind
            )
        ).all()
    )


# --- job runs ---------------------------------------------------------------------------------


def start_job(session: Session, job: str) -> JobRun:
    run = JobRun(job=job)
    session.add(run)
    session.commit()
    return run


def finish_job(session: Session, run: JobRun, outcome: str, detail: str = "") -> None:
    run.finished_at, run.outcome, run.detail = utcnow(), outcome, detail[:2000]
    session.add(run)
    session.commit()


def last_job_runs(session: Session) -> list[JobRun]:
    latest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    return list(
        session.exec(
            select(JobRun).join(latest, col(JobRun.id) == latest.c.id).order_by(col(JobRun.job))
        ).all()
    )
