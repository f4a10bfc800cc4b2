"""The campaign file: units, allocation, awards, deadline and thresholds, loaded and checked.

A campaign is data: the same Department runs one every year. Loading checks the file as a whole
and raises `CampaignError` with every problem, in Vietnamese, because the operator who edits it
reads these messages.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.text import fold

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class CampaignError(Exception):
    """The campaign file is wrong; `problems` says how, one Vietnamese sentence each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Tệp chiến dịch {source} có {len(problems)} lỗi:\n{lines}")


class UnitKind(StrEnum):
    LOCALITY = "locality"
    PROVINCIAL_BODY = "provincial_body"
    MASS_ORGANISATION = "mass_organisation"
    ARMED_FORCES = "armed_forces"

    @property
    def label(self) -> str:
        return {
            UnitKind.LOCALITY: "huyện, thành phố",
            UnitKind.PROVINCIAL_BODY: "sở, ban, ngành tỉnh",
            UnitKind.MASS_ORGANISATION: "đoàn thể tỉnh",
            UnitKind.ARMED_FORCES: "lực lượng vũ trang",
        }[self]


class NomineeKind(StrEnum):
    COLLECTIVE = "collective"
    INDIVIDUAL = "individual"

    @property
    def label(self) -> str:
        return "tập thể" if self is NomineeKind.COLLECTIVE else "cá nhân"


class DocumentKind(StrEnum):
    TO_TRINH = "to_trinh"
    BIEN_BAN = "bien_ban"
    TOM_TAT_THANH_TICH = "tom_tat_thanh_tich"
    BAO_CAO_THANH_TICH = "bao_cao_thanh_tich"
    NOMINATION_LIST = "nomination_list"
    OTHER = "other"

    @property
    def short_label(self) -> str:
        """What a file name should contain for the document to be recognised."""
        return self.label.split(" họp")[0]

    @property
    def label(self) -> str:
        return {
            DocumentKind.TO_TRINH: "Tờ trình",
            DocumentKind.BIEN_BAN: "Biên bản họp Hội đồng Thi đua – Khen thưởng",
            DocumentKind.TOM_TAT_THANH_TICH: "Tóm tắt thành tích",
            DocumentKind.BAO_CAO_THANH_TICH: "Báo cáo thành tích",
            DocumentKind.NOMINATION_LIST: "Danh sách đề nghị",
            DocumentKind.OTHER: "Tài liệu khác",
        }[self]


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
    # Reward as a multiple of the base salary for an individual (Decree 91/2017).
    reward_multiplier: float = Field(default=0, ge=0)

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


class Rewards(_Strict):
    base_salary_vnd: int = Field(gt=0)
    collective_factor: float = Field(default=2.0, gt=0)


class Department(_Strict):
    name: str
    office: str
    intake_address: str
    digest_recipients: list[str] = []


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

    def reminder_due_at(self, days_before: int) -> datetime:
        day = self.last_day - timedelta(days=days_before)
        return datetime.combine(day, self.reminders.at, tzinfo=self.tz)

    @property
    def last_moment_text(self) -> str:
        """The deadline as a person reads it, e.g. '23:59 ngày 25/05/2021, giờ Việt Nam'."""
        last = self.closes_at - timedelta(minutes=1)
        return f"{last:%H:%M} ngày {last:%d/%m/%Y}, giờ Việt Nam"

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


def _semantic_problems(c: Campaign) -> list[str]:
    problems: list[str] = []
    try:
        ZoneInfo(c.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"Múi giờ '{c.timezone}' không tồn tại (dùng 'Asia/Ho_Chi_Minh').")
    for code, n in Counter(u.code for u in c.units).items():
        if n > 1:
            problems.append(f"Mã đơn vị '{code}' bị khai báo {n} lần.")
    owners: dict[str, list[str]] = {}
    for u in c.units:
        for addr in u.senders:
            owners.setdefault(addr, []).append(u.code)
    for addr, codes in owners.items():
        if len(codes) > 1:
            problems.append(
                f"Địa chỉ {addr} được khai báo cho nhiều đơn vị ({', '.join(codes)}): "
                "mỗi địa chỉ chỉ thuộc một đơn vị."
            )
    intake = c.department.intake_address.lower()
    if intake in owners:
        problems.append(f"Địa chỉ hộp thư tiếp nhận {intake} không được là địa chỉ của đơn vị.")
    known = {u.code for u in c.units}
    for code in c.allocation.units:
        if code not in known:
            problems.append(f"Bảng phân bổ có đơn vị '{code}' không có trong danh sách đơn vị.")
    if c.allocation.award not in c.awards:
        problems.append(f"Bảng phân bổ dùng hình thức '{c.allocation.award}' chưa được khai báo.")
    for label, attr in (("tập thể", "collectives"), ("cá nhân", "individuals")):
        summed = sum(getattr(n, attr) for n in c.allocation.units.values())
        stated = getattr(c.allocation.total, attr)
        if summed != stated:
            problems.append(
                f"Tổng phân bổ {label} là {summed}, khác tổng đã nêu {stated} "
                f"(chênh {summed - stated:+d})."
            )
    seen_phrases: dict[str, str] = {}
    for code, award in c.awards.items():
        if award.requires_award and award.requires_award not in c.awards:
            problems.append(
                f"Hình thức '{code}' yêu cầu hình thức '{award.requires_award}' chưa được khai báo."
            )
        if award.province_quota is None and code != c.allocation.award:
            problems.append(
                f"Hình thức '{code}' không có chỉ tiêu toàn tỉnh cũng không có bảng phân bổ."
            )
        for phrase in award.match_phrases:
            other = seen_phrases.setdefault(phrase, code)
            if other != code:
                problems.append(
                    f"Tên gọi '{phrase}' dùng cho cả hai hình thức '{other}' và '{code}'."
                )
    return problems


def _describe_validation_error(err: ValidationError) -> list[str]:
    problems = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(gốc)"
        if e["type"] == "missing":
            problems.append(f"Thiếu mục '{where}'.")
        elif e["type"] == "extra_forbidden":
            problems.append(f"Mục '{where}' không được hỗ trợ (kiểm tra chính tả).")
        else:
            problems.append(
                f"Mục '{where}' không hợp lệ: {e['msg']} (giá trị: {e.get('input')!r})."
            )
    return problems


def parse_campaign(data: dict[str, object], source: str = "<dữ liệu>") -> Campaign:
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as err:
        raise CampaignError(source, _describe_validation_error(err)) from None
    problems = _semantic_problems(campaign)
    if problems:
        raise CampaignError(source, problems)
    return campaign


def load_campaign(path: Path) -> Campaign:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignError(str(path), ["Không tìm thấy tệp."]) from None
    except tomllib.TOMLDecodeError as err:
        raise CampaignError(str(path), [f"Sai cú pháp TOML: {err}"]) from None
    return parse_campaign(data, str(path))
