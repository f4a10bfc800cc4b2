"""The one read model: the campaign at a glance (`domain.snapshot.Snapshot`) from the database.

The digest, the workbook, the reminders, `intake status` and the desk all read this, so they
agree on what a unit's current submission is, what needs a person and what was not processed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_
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
from domain.model import Finding, Location, Nominee
from domain.snapshot import (
    FailedMail,
    FindingEntry,
    MessageEntry,
    PaperEntry,
    ReplyEntry,
    Selected,
    Snapshot,
    SubmissionEntry,
    UnitEntry,
    UnitHistory,
    VersionDetail,
)
from domain.text import person_key
from storage.decisions import effective_campaign, selections
from storage.inbound import messages_in_state, messages_with_outcome
from storage.models import (
    DocumentRecord,
    FindingRecord,
    InboundMessage,
    NomineeRecord,
    OutboundMail,
    Submission,
)
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


def _entry(s: Submission, errors: Sequence[str]) -> SubmissionEntry:
    assert s.id is not None
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
        message_id=s.inbound_message_id,
        decision_by=s.decision_by,
        decision_reason=s.decision_reason,
    )


def _error_messages(session: Session, submission_ids: Sequence[int]) -> dict[int, list[str]]:
    """Every error's message of these submissions, in one query."""
    by_submission: dict[int, list[str]] = defaultdict(list)
    if submission_ids:
        rows = session.exec(
            select(FindingRecord.submission_id, FindingRecord.message)
            .where(
                col(FindingRecord.submission_id).in_(submission_ids),
                FindingRecord.severity == Severity.ERROR.value,
            )
            .order_by(col(FindingRecord.id))
        ).all()
        for submission_id, message in rows:
            by_submission[submission_id].append(message)
    return by_submission


def _nominees_of(session: Session, submission_ids: Sequence[int]) -> dict[int, list[Nominee]]:
    by_submission: dict[int, list[Nominee]] = defaultdict(list)
    if submission_ids:
        records = session.exec(
            select(NomineeRecord)
            .where(col(NomineeRecord.submission_id).in_(submission_ids))
            .order_by(col(NomineeRecord.id))
        ).all()
        for record in records:
            by_submission[record.submission_id].append(_nominee(record))
    return by_submission


def _papers_of(session: Session, submission_ids: Sequence[int]) -> dict[int, list[PaperEntry]]:
    by_submission: dict[int, list[PaperEntry]] = defaultdict(list)
    if submission_ids:
        for d in session.exec(
            select(DocumentRecord)
            .where(col(DocumentRecord.submission_id).in_(submission_ids))
            .order_by(col(DocumentRecord.id))
        ).all():
            by_submission[d.submission_id].append(
                PaperEntry(
                    d.id or 0, d.filename, d.kind, d.size, d.sha256, d.stored_path, d.signature
                )
            )
    return by_submission


def _selected(session: Session, campaign: Campaign, units: Sequence[UnitEntry]) -> list[Selected]:
    """The Department's choices, each matched to the nominee in its unit's current accepted list."""
    accepted = {
        (u.unit.code, n.kind.value, person_key(n.name)): n
        for u in units
        if u.accepted
        for n in u.nominees
    }
    return [
        Selected(
            award=s.award,
            unit_code=s.unit_code,
            kind=NomineeKind(s.kind),
            name=s.name,
            nominee=accepted.get((s.unit_code, s.kind, s.name_key)),
            selected_by=s.selected_by,
        )
        for s in selections(session, campaign.code)
    ]


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


def snapshot(session: Session, campaign: Campaign, now: datetime, as_of: bool = False) -> Snapshot:
    """The campaign at a glance, in a fixed number of queries whatever the number of units, with
    the officers' extensions and registered addresses applied to the campaign it carries.

    `as_of`: only what had been received by `now` (an operator's "as if at" moment): each unit's
    current version is its latest received by then. Otherwise everything stored, whatever the
    mail server's clock said (a server a few minutes ahead must not hide a dossier)."""
    campaign = effective_campaign(session, campaign)
    query = select(Submission).where(Submission.campaign_code == campaign.code)
    if as_of:
        query = query.where(col(Submission.received_at) <= now)
    history = session.exec(query.order_by(col(Submission.id))).all()
    errors = _error_messages(session, [s.id for s in history if s.id is not None])
    entries = {s.id: _entry(s, errors.get(s.id or 0, ())) for s in history}
    current: dict[str, Submission] = {}
    for s in history:  # the latest version of each unit (by then)
        if s.unit_code not in current or s.version > current[s.unit_code].version:
            current[s.unit_code] = s
    current_ids = [s.id for s in current.values() if s.id is not None]
    nominees = _nominees_of(session, current_ids)
    papers = _papers_of(session, current_ids)
    count = Counter(s.unit_code for s in history)
    units = []
    for unit in campaign.units:
        mine = current.get(unit.code)
        units.append(
            UnitEntry(
                unit,
                entries[mine.id] if mine else None,
                count[unit.code],
                tuple(nominees.get(mine.id or 0, ())) if mine else (),
                tuple(papers.get(mine.id or 0, ())) if mine else (),
            )
        )
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
        selected=tuple(_selected(session, campaign, units)),
    )


def unit_history(session: Session, campaign: Campaign, unit_code: str) -> UnitHistory | None:
    """Every version a unit sent, newest first, with nominees, findings, papers and the replies
    it got: a fixed number of queries whatever the number of versions."""
    campaign = effective_campaign(session, campaign)
    unit = campaign.units_by_code.get(unit_code)
    if unit is None:
        return None
    history = session.exec(
        select(Submission)
        .where(Submission.campaign_code == campaign.code, Submission.unit_code == unit_code)
        .order_by(col(Submission.version).desc())
    ).all()
    ids = [s.id for s in history if s.id is not None]
    nominees = _nominees_of(session, ids)
    findings: dict[int, list[FindingEntry]] = defaultdict(list)
    papers = _papers_of(session, ids)
    if ids:
        for f in session.exec(
            select(FindingRecord)
            .where(col(FindingRecord.submission_id).in_(ids))
            .order_by(col(FindingRecord.id))
        ).all():
            finding = Finding(
                f.code,
                Severity(f.severity),
                f.message,
                f.fix,
                Location(f.file, f.sheet, f.row, f.column),
                f.value,
            )
            findings[f.submission_id].append(FindingEntry(f.id or 0, finding, f.waived))
    messages = [s.inbound_message_id for s in history]
    recipients = [",".join(unit.senders), *unit.senders]
    replies = session.exec(
        select(OutboundMail)
        .where(
            or_(
                col(OutboundMail.inbound_message_id).in_(messages or [-1]),
                col(OutboundMail.recipient).in_(recipients),
                col(OutboundMail.unit_code) == unit_code,
            )
        )
        .order_by(col(OutboundMail.id).desc())
    ).all()
    errors = {
        i: [f.finding.message for f in fs if f.finding.severity is Severity.ERROR]
        for i, fs in findings.items()
    }
    return UnitHistory(
        campaign=campaign,
        unit=unit,
        versions=tuple(
            VersionDetail(
                entry=_entry(s, errors.get(s.id or 0, [])),
                message_id=s.inbound_message_id,
                nominees=tuple(nominees.get(s.id or 0, ())),
                findings=tuple(findings.get(s.id or 0, ())),
                papers=tuple(papers.get(s.id or 0, ())),
            )
            for s in history
        ),
        replies=tuple(
            ReplyEntry(m.id or 0, m.kind, m.subject, MailState(m.state), m.created_at, m.sent_at)
            for m in replies
        ),
    )


def last_replies(session: Session, message_ids: Sequence[int]) -> dict[int, ReplyEntry]:
    """The latest mail sent in answer to each of these inbound messages, in one query."""
    latest: dict[int, ReplyEntry] = {}
    if message_ids:
        for m in session.exec(
            select(OutboundMail)
            .where(col(OutboundMail.inbound_message_id).in_(message_ids))
            .order_by(col(OutboundMail.id))
        ).all():
            latest[m.inbound_message_id or 0] = ReplyEntry(
                m.id or 0, m.kind, m.subject, MailState(m.state), m.created_at, m.sent_at
            )
    return latest
