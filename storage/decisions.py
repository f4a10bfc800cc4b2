"""What officers decided that changes how mail is judged later: deadline extensions, addresses
registered for a unit, the nominees chosen for a province-quota award, and a submission's
status set by hand. The audit row of each is written by the caller in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select

from domain.campaign import Campaign
from domain.kinds import Severity, SubmissionStatus
from storage.models import (
    DeadlineExtension,
    FindingRecord,
    NomineeSelection,
    SenderRegistration,
    Submission,
    utcnow,
)


def effective_campaign(session: Session, campaign: Campaign) -> Campaign:
    """The campaign with every extension and registered address applied (two small queries)."""
    senders: dict[str, list[str]] = defaultdict(list)
    for r in session.exec(
        select(SenderRegistration)
        .where(SenderRegistration.campaign_code == campaign.code)
        .order_by(col(SenderRegistration.id))
    ).all():
        senders[r.unit_code].append(r.address)
    closes_at: dict[str, datetime] = {}
    for e in session.exec(
        select(DeadlineExtension)
        .where(DeadlineExtension.campaign_code == campaign.code)
        .order_by(col(DeadlineExtension.id))
    ).all():
        closes_at[e.unit_code] = e.closes_at  # the latest decision wins
    return campaign.amended(senders, closes_at)


def extend_deadline(
    session: Session, campaign: Campaign, unit_code: str, closes_at: datetime, by: str, reason: str
) -> DeadlineExtension:
    extension = DeadlineExtension(
        campaign_code=campaign.code,
        unit_code=unit_code,
        closes_at=closes_at,
        decided_by=by,
        reason=reason,
    )
    session.add(extension)
    return extension


def register_sender(
    session: Session, campaign: Campaign, unit_code: str, address: str, by: str, reason: str
) -> SenderRegistration:
    registration = SenderRegistration(
        campaign_code=campaign.code,
        unit_code=unit_code,
        address=address,
        decided_by=by,
        reason=reason,
    )
    session.add(registration)
    return registration


def submission_for_decision(session: Session, submission_id: int) -> Submission | None:
    """The submission, locked until the decision commits (two officers at once: one wins)."""
    return session.exec(
        select(Submission)
        .where(col(Submission.id) == submission_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def open_errors(session: Session, submission_id: int) -> list[FindingRecord]:
    return list(
        session.exec(
            select(FindingRecord)
            .where(
                FindingRecord.submission_id == submission_id,
                FindingRecord.severity == Severity.ERROR.value,
                col(FindingRecord.waived).is_(False),
            )
            .order_by(col(FindingRecord.id))
        ).all()
    )


def set_status(
    session: Session,
    submission: Submission,
    status: SubmissionStatus,
    by: str,
    reason: str,
    waived: Sequence[FindingRecord] = (),
) -> None:
    for finding in waived:
        finding.waived = True
        session.add(finding)
    submission.status, submission.decision_by, submission.decision_reason = status, by, reason
    session.add(submission)


@dataclass(frozen=True)
class Pick:
    """One nominee chosen for a province-quota award, by who proposed them and their name."""

    unit_code: str
    kind: str
    name_key: str
    name: str


def selections(session: Session, campaign_code: str) -> list[NomineeSelection]:
    return list(
        session.exec(
            select(NomineeSelection)
            .where(NomineeSelection.campaign_code == campaign_code)
            .order_by(col(NomineeSelection.id))
        ).all()
    )


def replace_selection(
    session: Session, campaign_code: str, award: str, picks: Sequence[Pick], by: str
) -> None:
    """The award's selection becomes exactly `picks` (the form shows the whole choice)."""
    session.exec(
        delete(NomineeSelection).where(
            col(NomineeSelection.campaign_code) == campaign_code,
            col(NomineeSelection.award) == award,
        )
    )
    for p in picks:
        session.add(
            NomineeSelection(
                campaign_code=campaign_code,
                award=award,
                unit_code=p.unit_code,
                kind=p.kind,
                name_key=p.name_key,
                name=p.name,
                selected_by=by,
                created_at=utcnow(),
            )
        )
