"""Deadline reminders: which unit is due which reminder now, and the message it gets.

A reminder becomes due at each offset of the campaign (e.g. 7, 3 and 1 days before the last day
and that morning). Only units without an accepted submission are reminded, never after the
deadline, and only the most recent offset that is due: after an outage the unit gets the one
reminder that is still useful, not all the ones it missed. Each (unit, offset) is sent once; the
caller records that in the database in the same transaction that queues the mail.

A unit whose deadline an officer extended is reminded against its own last day, and its keys
carry that deadline, so the reminders it had for the old one do not stand in for the new ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from domain.campaign import Campaign
from domain.snapshot import Snapshot, UnitEntry
from pipeline.consolidate import days_left
from pipeline.envelope import Envelope, addresses, compose


@dataclass(frozen=True)
class Reminder:
    entry: UnitEntry
    days_before: int | None  # None: asked for by the operator

    @property
    def key(self) -> str:
        when = "manual" if self.days_before is None else f"{self.days_before}d"
        unit = self.entry.unit
        extended = f"/{unit.closes_at:%Y%m%dT%H%M}" if unit.closes_at else ""
        return f"{unit.code}{extended}/{when}"

    def dispatch_key(self, now: datetime) -> str:
        """What makes it once-only: the offset, or the moment the operator asked for it."""
        if self.days_before is None:
            return f"{self.entry.unit.code}/manual-{now:%Y%m%dT%H%M%S}"
        return self.key


def current_offset(campaign: Campaign, unit_code: str, now: datetime) -> int | None:
    """The most recent reminder offset due at `now` against this unit's deadline, or None
    (none yet, or too late)."""
    if now >= campaign.closes_at_for(unit_code):
        return None
    due = [
        d for d in campaign.reminders.days_before if campaign.reminder_due_at(d, unit_code) <= now
    ]
    return min(due) if due else None


def due_reminders(snapshot: Snapshot, already_sent: set[str], now: datetime) -> list[Reminder]:
    reminders = []
    for entry in snapshot.units:
        offset = current_offset(snapshot.campaign, entry.unit.code, now)
        if offset is not None and not entry.accepted:
            reminders.append(Reminder(entry, offset))
    return [r for r in reminders if r.key not in already_sent]


def compose_reminder(
    reminder: Reminder, snapshot: Snapshot, from_name: str, now: datetime
) -> EmailMessage:
    c = snapshot.campaign
    unit = reminder.entry.unit
    envelope = Envelope(
        from_name=from_name,
        from_address=c.department.intake_address,
        to=addresses(unit.senders),
        date=now,
        tz=c.tz,
        auto_submitted="auto-generated",
    )
    return compose(
        envelope,
        "reminder",
        c=c,
        unit=unit,
        entry=reminder.entry,
        allocation=c.allocation_for(unit.code),
        days=days_left(c, now, unit.code),
        late=now >= c.closes_at_for(unit.code),
    )
