"""Build `Snapshot`s from plain data, for tests of the digest, the workbook and the reminders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.campaign import Campaign
from domain.kinds import NomineeKind, SubmissionStatus
from domain.model import Location, Nominee
from domain.snapshot import Snapshot, SubmissionEntry, UnitEntry


def person(
    name: str, *awards: str, kind: NomineeKind = NomineeKind.INDIVIDUAL, **fields: object
) -> Nominee:
    return Nominee(
        kind=kind,
        name=name,
        awards=frozenset(awards or ("provincial",)),
        location=Location("DS.xlsx", "S", 5),
        **fields,  # type: ignore[arg-type]
    )


def group(name: str, *awards: str, **fields: object) -> Nominee:
    return person(name, *awards, kind=NomineeKind.COLLECTIVE, **fields)


def make_snapshot(
    campaign: Campaign,
    now: datetime,
    submissions: dict[str, tuple[str, Iterable[Nominee]]],
    errors: tuple[str, ...] = (),
) -> Snapshot:
    """`submissions` maps a unit code to (status, nominees) of its current submission."""
    units = []
    history = []
    for i, unit in enumerate(campaign.units, 1):
        if unit.code not in submissions:
            units.append(UnitEntry(unit, None, 0))
            continue
        status, nominees = submissions[unit.code]
        entry = SubmissionEntry(
            id=i,
            unit_code=unit.code,
            version=1,
            status=SubmissionStatus(status),
            late=status == "accepted_late",
            received_at=now,
            created_at=now,
            errors=len(errors) if status == "rejected" else 0,
            warnings=0,
            error_messages=errors if status == "rejected" else (),
        )
        history.append(entry)
        units.append(UnitEntry(unit, entry, 1, tuple(nominees)))
    return Snapshot(campaign=campaign, taken_at=now, units=tuple(units), history=tuple(history))
