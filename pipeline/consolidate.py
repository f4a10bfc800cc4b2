"""What can be worked out from the campaign at one moment (`domain.snapshot.Snapshot`): totals
against the quotas, what changed since a given time, nominees proposed by more than one unit,
the estimated reward total. Pure functions over plain data; the digest, the workbook and the
reminders use the results."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.campaign import Campaign, Unit
from domain.kinds import NomineeKind, SubmissionStatus
from domain.snapshot import Snapshot, SubmissionEntry
from domain.text import person_key, vietnamese_sort_key


@dataclass(frozen=True)
class Change:
    unit: Unit
    submission: SubmissionEntry

    @property
    def label(self) -> str:
        if self.submission.status is SubmissionStatus.REJECTED:
            return "có lỗi, bị trả lại"
        return (
            "nộp lần đầu"
            if self.submission.version == 1
            else f"nộp lại (lần {self.submission.version})"
        )


def accepted_totals(snapshot: Snapshot) -> dict[str, dict[NomineeKind, int]]:
    """Nominees of accepted submissions, by award and kind, province-wide."""
    totals: dict[str, dict[NomineeKind, int]] = {
        code: dict.fromkeys(NomineeKind, 0) for code in snapshot.campaign.awards
    }
    for entry in snapshot.units:
        if entry.accepted:
            for code in totals:
                for kind in NomineeKind:
                    totals[code][kind] += entry.proposed(code, kind)
    return totals


def changes_since(snapshot: Snapshot, since: datetime | None) -> list[Change]:
    """Submissions stored since `since`, in the order they were received (not processed)."""
    units = snapshot.campaign.units_by_code
    changed = [
        Change(units[s.unit_code], s)
        for s in snapshot.history
        if (since is None or s.created_at > since) and s.unit_code in units
    ]
    return sorted(changed, key=lambda c: (c.submission.received_at, c.submission.id))


@dataclass(frozen=True)
class SharedNominee:
    """One collective or person proposed by more than one unit."""

    name: str
    kind: NomineeKind
    units: tuple[str, ...] = field(default_factory=tuple)


def proposed_by_several_units(snapshot: Snapshot) -> list[SharedNominee]:
    seen: dict[tuple[NomineeKind, str], dict[str, str]] = defaultdict(dict)
    for entry in snapshot.units:
        if entry.current is None:
            continue
        for n in entry.nominees:
            seen[(n.kind, person_key(n.name))].setdefault(entry.unit.code, n.name)
    shared = [
        SharedNominee(
            next(iter(by_unit.values())),
            kind,
            tuple(snapshot.campaign.units_by_code[c].name for c in by_unit),
        )
        for (kind, _), by_unit in seen.items()
        if len(by_unit) > 1
    ]
    return sorted(shared, key=lambda s: vietnamese_sort_key(s.name))


@dataclass(frozen=True)
class RewardLine:
    award: str
    kind: NomineeKind
    count: int
    amount_each: float

    @property
    def amount(self) -> float:
        return self.count * self.amount_each


def reward_estimate(snapshot: Snapshot, decided_on: date | None = None) -> list[RewardLine]:
    """Money for the accepted nominees: multiples of the base salary in force on the day of the
    decision (`decided_on`, by default the snapshot's day), rounded as that period's decree says.

    An award with a province-wide quota counts the Department's selection once it has made one,
    else at most the quota, since only that many are chosen.
    """
    campaign = snapshot.campaign
    day = decided_on or snapshot.taken_at.astimezone(campaign.tz).date()
    period = campaign.rewards.in_force(day)
    totals = accepted_totals(snapshot)
    lines = []
    for code, award in campaign.awards.items():
        chosen = [s for s in snapshot.selected_for(code) if s.nominee is not None]
        for kind in NomineeKind:
            count = totals[code][kind]
            if award.province_quota is not None:
                picked = sum(1 for s in chosen if s.kind is kind)
                count = picked if chosen else min(count, award.province_quota.of(kind))
            each = period.amount(code, collective=kind is NomineeKind.COLLECTIVE)
            if count:
                lines.append(RewardLine(award.name, kind, count, each))
    return lines


def days_left(campaign: Campaign, now: datetime, unit_code: str | None = None) -> int:
    """Whole calendar days from today (campaign time zone) to the last day; negative once past."""
    last_day = campaign.last_day_for(unit_code) if unit_code else campaign.last_day
    return (last_day - now.astimezone(campaign.tz).date()).days
