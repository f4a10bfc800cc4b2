"""Submissions: a unit's versioned dossier with its nominees, papers and findings.

A unit's new submission supersedes its current one in the same transaction, so a unit has at
most one current submission whatever happens between the two writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from domain.campaign import Campaign, Unit
from domain.counting import distinct
from domain.kinds import NomineeKind, Severity, SubmissionStatus
from domain.model import Extraction, Finding
from domain.text import person_key
from storage.models import (
    DocumentRecord,
    FindingRecord,
    InboundMessage,
    NomineeRecord,
    Submission,
    UnitRecord,
)


def sync_units(session: Session, campaign: Campaign) -> None:
    """Mirror the campaign's units into the database, so stored rows can be read on their own.
    An upsert: instances starting together on a new database both get there."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for unit in campaign.units:
        row = {"campaign_code": campaign.code, "code": unit.code}
        names = {"name": unit.name, "kind": unit.kind.value}
        session.execute(
            insert(UnitRecord)
            .values(**row, **names)
            .on_conflict_do_update(index_elements=list(row), set_=names)
        )


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
    if extraction.nominees:
        # One statement for the whole list, not one a row: a list has tens or hundreds of rows
        # and nothing here reads them back as objects.
        session.execute(
            insert(NomineeRecord),
            [
                {
                    "submission_id": submission.id,
                    "kind": n.kind.value,
                    "name": n.name,
                    "name_key": person_key(n.name),
                    "awards": ",".join(sorted(n.awards)),
                    "position": n.position,
                    "workplace": n.workplace,
                    "birth_year": n.birth_year,
                    "gender": n.gender,
                    "summary": n.summary,
                    "turnout_percent": n.turnout_percent,
                    "note": n.note,
                    "source_file": n.location.file or "",
                    "source_sheet": n.location.sheet or "",
                    "source_row": n.location.row,
                }
                for n in extraction.nominees
            ],
        )
    # Like the nominees: one statement each, nothing reads these back as objects.
    documents = [
        {
            "submission_id": submission.id,
            "filename": d.filename,
            "kind": d.kind.value,
            "content_type": d.content_type,
            "size": d.size,
            "sha256": d.sha256,
            "stored_path": stored_paths.get(d.sha256, ""),
            "signature": d.signatures.describe(campaign.tz) if d.signatures else "",
        }
        for d in extraction.documents
    ]
    if documents:
        session.execute(insert(DocumentRecord), documents)
    finding_rows = [
        {
            "submission_id": submission.id,
            "code": f.code,
            "severity": f.severity.value,
            "message": f.message,
            "fix": f.fix,
            "file": f.location.file if f.location else None,
            "sheet": f.location.sheet if f.location else None,
            "row": f.location.row if f.location else None,
            "column": f.location.column if f.location else None,
            "value": f.value,
            "waived": False,
        }
        for f in findings
    ]
    if finding_rows:
        session.execute(insert(FindingRecord), finding_rows)
    return submission, previous
