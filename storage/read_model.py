"""The one read model: the campaign at a glance (`domain.snapshot.Snapshot`) from the database.

The digest, the workbook, the reminders, `intake status` and the desk all read this, so they
agree on what a unit's current submission is, what needs a person and what was not processed.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from domain.campaign import Campaign
from domain.kinds import (
    NEEDS_PERSON,
    MailState,
    MessageState,
    NomineeKind,
    Outcome,
    Severity,
    SubmissionStatus,
)
from domain.model import Location, Nominee
from domain.snapshot import FailedMail, MessageEntry, Snapshot, SubmissionEntry, UnitEntry
from storage.inbound import messages_in_state, messages_with_outcome
from storage.models import FindingRecord, InboundMessage, NomineeRecord, Submission
from storage.outbox import mail_in_state


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
        status=SubmissionStatus(s.status),
        late=s.late,
        received_at=s.received_at,
        created_at=s.created_at,
        errors=s.errors,
        warnings=s.warnings,
        error_messages=tuple(errors),
    )


def message_entry(m: InboundMessage) -> MessageEntry:
    return MessageEntry(
        id=m.id or 0,
        from_address=m.from_address,
        subject=m.subject,
        received_at=m.received_at or m.fetched_at,
        state=MessageState(m.state),
        outcome=Outcome(m.outcome) if m.outcome else None,
        outcome_detail=m.outcome_detail,
        error=m.last_error,
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
    failed = mail_in_state(session, MailState.UNCERTAIN, MailState.FAILED)
    return Snapshot(
        campaign=campaign,
        taken_at=now,
        units=tuple(units),
        history=tuple(entries.values()),
        to_read=tuple(message_entry(m) for m in messages_with_outcome(session, *NEEDS_PERSON)),
        not_processed=tuple(
            message_entry(m)
            for m in messages_in_state(session, MessageState.QUARANTINED, MessageState.FAILED)
        ),
        failed_mail=tuple(
            FailedMail(m.id or 0, m.recipient, m.subject, MailState(m.state), m.last_error)
            for m in failed
        ),
    )
