"""A campaign's schema: units, allocation, awards, deadline and thresholds as typed values.

A campaign is data (the same Department runs one every year): `config.campaign` loads a file
into these models and checks it as a whole; everything else only reads them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.kinds import DocumentKind, NomineeKind, UnitKind
from domain.text import fold
from domain.wording import deadline_text

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Counts(_Strict):
    collectives: int = Field(ge=0)
    individuals: int = Field(ge=0)

    def of(self, kind: NomineeKind) -> int:
        return self.collectives if kind is NomineeKind.COLLECTIVE else self.individuals


class Unit(_Strict):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]*$")
    name: str
    kind: UnitKind
    senders: list[str] = Field(min_length=1)
    # Other names the unit goes by in its certificates ("Ủy ban nhân dân huyện Tam Đường").
    aliases: list[str] = []
    # The first late instant for this unit when an officer extended its deadline (`amended`).
    closes_at: datetime | None = None

    @field_validator("senders")
    @classmethod
    def _lowercase_addresses(cls, senders: list[str]) -> list[str]:
        bad = [s for s in senders if not _EMAIL.match(s)]
        if bad:
            raise ValueError(f"địa chỉ thư không hợp lệ: {', '.join(bad)}")
        return [s.strip().lower() for s in senders]


class Award(_Strict):
    """One kind of certificate a unit may propose, with what the plan requires for it."""

    name: str
    aliases: list[str] = []
    # Province-wide quota (the PM certificate); allocated awards use the allocation table.
    province_quota: Counts | None = None
    # Another award every nominee for this one must also be proposed for.
    requires_award: str | None = None
    # Documents the unit sends once with its dossier, and one per nominee.
    documents: list[DocumentKind] = []
    document_per_nominee: DocumentKind | None = None
    # Minimum voter turnout (percent) for collectives of the unit kinds in `turnout_applies_to`.
    min_turnout_percent: float | None = Field(default=None, ge=0, le=100)
    # How many sets of paper originals a unit sends for it ("02 bộ bản chính").
    paper_sets: int = Field(default=0, ge=0)

    @cached_property
    def match_phrases(self) -> list[str]:
        """Folded names and aliases, longest first, as they are matched in an award cell."""
        phrases = {fold(self.name), *(fold(a) for a in self.aliases)}
        return sorted((p for p in phrases if p), key=len, reverse=True)


class Allocation(_Strict):
    """How the allocated award's quota is split between units ("danh sách phân bổ")."""

    award: str
    illustrative: bool = False
    total: Counts
    units: dict[str, Counts]


class Deadline(_Strict):
    """'Trước ngày 26/5/2021': whether the stated day itself is allowed is explicit."""

    stated: str
    date: date
    includes_date: bool
    late_policy: Literal["reject", "flag"]


class Reminders(_Strict):
    """Automatic reminders to units without an accepted submission, before the deadline."""

    # Days before the last day on which a reminder goes out; 0 is the morning of the last day.
    days_before: list[int] = Field(default=[7, 3, 1, 0])
    # Time of day (campaign time zone) at which each reminder becomes due.
    at: time = time(8, 0)

    @field_validator("days_before")
    @classmethod
    def _distinct_non_negative(cls, days: list[int]) -> list[int]:
        if any(d < 0 for d in days) or len(set(days)) != len(days):
            raise ValueError("các số ngày phải khác nhau và không âm")
        return sorted(days, reverse=True)


class RewardPeriod(_Strict):
    """The amounts in force from a date: the base salary, each award's multiple of it for an
    individual, a collective's factor, and how the decree rounds an amount."""

    since: date
    basis: str  # the decrees, as the Tờ trình cites them
    base_salary_vnd: int = Field(gt=0)
    multipliers: dict[str, float]  # award code -> multiple of the base salary, for an individual
    collective_factor: float = Field(default=2.0, gt=0)
    round_up_to_vnd: int = Field(default=0, ge=0)  # 10000: "làm tròn lên hàng chục nghìn đồng"

    def amount(self, award: str, collective: bool) -> int:
        raw = self.multipliers.get(award, 0) * self.base_salary_vnd
        raw *= self.collective_factor if collective else 1.0
        step = self.round_up_to_vnd
        exact = round(raw)
        return -(-exact // step) * step if step else exact


class Rewards(_Strict):
    """Reward amounts by the date of the decision (they changed with later decrees)."""

    periods: list[RewardPeriod] = Field(min_length=1)

    def in_force(self, day: date) -> RewardPeriod:
        """The period in force on `day` (the earliest one for a day before all of them)."""
        ordered = sorted(self.periods, key=lambda p: p.since)
        current = ordered[0]
        for period in ordered:
            if period.since <= day:
                current = period
        return current


class Contact(_Strict):
    """The officer a unit calls about its dossier."""

    name: str
    phone: str = ""
    email: str = ""


class Department(_Strict):
    name: str  # "Sở Nội vụ tỉnh Lai Châu": as a sentence names it
    office: str
    intake_address: str
    digest_recipients: list[str] = []
    # The title block of its documents (Nghị định 30/2020/NĐ-CP): the parent body over the issuing
    # body, upper-cased when printed: "UBND TỈNH LAI CHÂU" / "SỞ NỘI VỤ".
    parent_body: str = ""
    issuing_body: str = ""
    place: str = ""  # "Lai Châu, ngày 26 tháng 5 năm 2021"
    document_code: str = ""  # "…/TTr-SNV"
    # The signature block: the title lines ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC") and the signer.
    signer_titles: list[str] = []
    signer: str = ""
    # To whom the Department's Tờ trình goes ("Chủ tịch UBND tỉnh Lai Châu").
    submits_to: str = ""
    contact: Contact | None = None


class SignaturePolicy(_Strict):
    """What a digital signature on a PDF paper (or its absence) means for a dossier."""

    # A paper without a signature: accepted silently, warned about, or (for the Tờ trình only)
    # an error: "require_to_trinh".
    unsigned: Literal["accept", "warn", "require_to_trinh"] = "accept"
    # A paper changed after it was signed, or whose signature no longer matches its bytes.
    modified: Literal["error", "warning"] = "error"
    # A signature of an organisation that does not look like the sending unit.
    other_organisation: Literal["warning", "ignore"] = "warning"


class Campaign(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str
    timezone: str = "Asia/Ho_Chi_Minh"
    department: Department
    deadline: Deadline
    turnout_applies_to: list[UnitKind] = [UnitKind.LOCALITY]
    units: list[Unit]
    awards: dict[str, Award]
    allocation: Allocation
    rewards: Rewards
    reminders: Reminders = Reminders()
    signatures: SignaturePolicy = SignaturePolicy()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def closes_at(self) -> datetime:
        """The first instant (aware) at which a submission is late."""
        last_day = self.deadline.date + timedelta(days=1 if self.deadline.includes_date else 0)
        return datetime.combine(last_day, time(0, 0), tzinfo=self.tz)

    @property
    def last_day(self) -> date:
        """The last calendar day (campaign time zone) on which a submission is on time."""
        return (self.closes_at - timedelta(microseconds=1)).date()

    def closes_at_for(self, unit_code: str) -> datetime:
        """The first instant at which this unit's submission is late: its extension, if any."""
        unit = self.units_by_code.get(unit_code)
        return unit.closes_at if unit is not None and unit.closes_at else self.closes_at

    def last_day_for(self, unit_code: str) -> date:
        return (
            (self.closes_at_for(unit_code) - timedelta(microseconds=1)).astimezone(self.tz).date()
        )

    def reminder_due_at(self, days_before: int, unit_code: str | None = None) -> datetime:
        last_day = self.last_day_for(unit_code) if unit_code else self.last_day
        day = last_day - timedelta(days=days_before)
        return datetime.combine(day, self.reminders.at, tzinfo=self.tz)

    @property
    def last_moment_text(self) -> str:
        """The deadline as a person reads it, e.g. '23:59 ngày 25/05/2021, giờ Việt Nam'."""
        return deadline_text(self.closes_at - timedelta(minutes=1), self.tz)

    def last_moment_text_for(self, unit_code: str) -> str:
        """This unit's deadline as a person reads it (its extension, if it has one)."""
        return deadline_text(self.closes_at_for(unit_code) - timedelta(minutes=1), self.tz)

    def extended(self, unit_code: str) -> bool:
        return self.closes_at_for(unit_code) != self.closes_at

    def amended(
        self, senders: Mapping[str, Sequence[str]], closes_at: Mapping[str, datetime]
    ) -> Campaign:
        """The campaign with officers' decisions applied: addresses registered for a unit, and
        units whose deadline was extended. The file stays as it is; decisions live in the
        database and are applied wherever a unit's senders or deadline are read."""
        if not senders and not closes_at:
            return self
        units = [
            u.model_copy(
                update={
                    "senders": [
                        *u.senders,
                        *(a for a in senders.get(u.code, ()) if a not in u.senders),
                    ],
                    "closes_at": closes_at.get(u.code, u.closes_at),
                }
            )
            for u in self.units
        ]
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return Campaign(**{**fields, "units": units})

    @cached_property
    def units_by_code(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    @cached_property
    def unit_by_sender(self) -> dict[str, Unit]:
        return {addr: u for u in self.units for addr in u.senders}

    def allocation_for(self, unit_code: str) -> Counts:
        return self.allocation.units.get(unit_code, Counts(collectives=0, individuals=0))

    @property
    def allocated_award(self) -> Award:
        return self.awards[self.allocation.award]
