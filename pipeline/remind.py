"""Deadline reminders: which unit is due which reminder now, and the message it gets.

A reminder becomes due at each offset of the campaign (e.g. 7, 3 and 1 days before the last day
and that morning). Only units without an accepted submission are reminded, never after the
deadline, and only the most recent offset that is due: after an outage the unit gets the one
reminder that is still useful, not all the ones it missed. Each (unit, offset) is sent once; the
caller records that in the database in the same transaction that queues the mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

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
        return f"{self.entry.unit.code}/{when}"

    def dispatch_key(self, now: datetime) -> str:
        """What makes it once-only: the offset, or the moment the operator asked for it."""
        if self.days_before is None:
            return f"{self.entry.unit.code}/manual-{now:%Y%m%dT%H%M%S}"
        return self.key


def current_offset(snapshot: Snapshot, now: datetime) -> int | None:
    """The most recent reminder offset that is due at `now`, or None (none yet, or too late)."""
    c = snapshot.campaign
    if now >= c.closes_at:
        return None
    due = [d for d in c.reminders.days_before if c.reminder_due_at(d) <= now]
    return min(due) if due else None


def due_reminders(snapshot: Snapshot, already_sent: set[str], now: datetime) -> list[Reminder]:
    offset = current_offset(snapshot, now)
    if offset is None:
        return []
    reminders = [Reminder(entry, offset) for entry in snapshot.units if not entry.accepted]
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
        days=days_left(c, now),
        late=now >= c.closes_at,
    )
