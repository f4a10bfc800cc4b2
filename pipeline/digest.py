"""The Department's daily digest: every unit at a glance, the province's totals against the
quotas, what changed since the previous digest, what needs a person, and the consolidated
workbook attached. The facts come from `pipeline.consolidate`; the wording is in templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from domain.kinds import XLSX_MEDIA_TYPE, NomineeKind
from domain.snapshot import Selected, Snapshot, UnitEntry
from domain.wording import format_vnd, moment_text, short_moment_text, status_label
from pipeline.consolidate import (
    Change,
    RewardLine,
    SharedNominee,
    accepted_totals,
    changes_since,
    days_left,
    proposed_by_several_units,
    reward_estimate,
)
from pipeline.envelope import (
    Envelope,
    OutgoingFile,
    addresses,
    compose,
    render_subject,
    render_templates,
)


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    status: str
    status_label: str
    version: int | None
    resubmissions: int
    received: str
    collectives: int
    collectives_allowed: int
    individuals: int
    individuals_allowed: int
    pm_collectives: int
    pm_individuals: int
    open_errors: int
    warnings: int = 0

    @property
    def over(self) -> bool:
        return (
            self.collectives > self.collectives_allowed
            or self.individuals > self.individuals_allowed
        )


@dataclass(frozen=True)
class QuotaRow:
    award: str
    collectives: int
    collectives_quota: int
    individuals: int
    individuals_quota: int


@dataclass(frozen=True)
class SelectionView:
    """The Department's choice for a province-quota award, against its quota."""

    award: str
    collectives: list[str]  # "Name (unit name)", in the order chosen
    individuals: list[str]
    quota_collectives: int
    quota_individuals: int
    gone: list[str]  # chosen, but no longer in the unit's accepted list: a person must look


@dataclass(frozen=True)
class DigestView:
    snapshot: Snapshot
    since: datetime | None
    rows: list[UnitRow]
    quotas: list[QuotaRow]
    changes: list[Change]
    missing: list[UnitEntry]
    days_left: int
    shared: list[SharedNominee]
    rewards: list[RewardLine]
    selections: list[SelectionView]
    package: str = ""  # where the forward package was written, once it has been

    @property
    def submitted(self) -> int:
        return sum(1 for entry in self.snapshot.units if entry.current is not None)

    @property
    def accepted(self) -> int:
        return len(self.snapshot.accepted_units)

    @property
    def reward_total(self) -> str:
        return format_vnd(sum(line.amount for line in self.rewards))


def _row(entry: UnitEntry, snapshot: Snapshot) -> UnitRow:
    c = snapshot.campaign
    allocated = c.allocation.award
    others = [code for code in c.awards if code != allocated]
    allowed = c.allocation_for(entry.unit.code)
    cur = entry.current
    received = short_moment_text(cur.received_at, c.tz) if cur else ""
    return UnitRow(
        code=entry.unit.code,
        name=entry.unit.name,
        status=cur.status if cur else "none",
        status_label=status_label(cur.status if cur else None),
        version=cur.version if cur else None,
        resubmissions=max(0, entry.submissions - 1),
        received=received,
        collectives=entry.proposed(allocated, NomineeKind.COLLECTIVE),
        collectives_allowed=allowed.collectives,
        individuals=entry.proposed(allocated, NomineeKind.INDIVIDUAL),
        individuals_allowed=allowed.individuals,
        pm_collectives=sum(entry.proposed(o, NomineeKind.COLLECTIVE) for o in others),
        pm_individuals=sum(entry.proposed(o, NomineeKind.INDIVIDUAL) for o in others),
        open_errors=cur.errors if cur and not cur.accepted else 0,
        warnings=cur.warnings if cur else 0,
    )


def build_digest(snapshot: Snapshot, since: datetime | None, package: str = "") -> DigestView:
    c = snapshot.campaign
    totals = accepted_totals(snapshot)
    quotas = []
    for code, award in c.awards.items():
        quota = award.province_quota or c.allocation.total
        quotas.append(
            QuotaRow(
                award.name,
                totals[code][NomineeKind.COLLECTIVE],
                quota.collectives,
                totals[code][NomineeKind.INDIVIDUAL],
                quota.individuals,
            )
        )
    return DigestView(
        snapshot=snapshot,
        since=since,
        rows=[_row(entry, snapshot) for entry in snapshot.units],
        quotas=quotas,
        changes=changes_since(snapshot, since),
        missing=[entry for entry in snapshot.units if not entry.accepted],
        days_left=days_left(c, snapshot.taken_at),
        shared=proposed_by_several_units(snapshot),
        rewards=reward_estimate(snapshot),
        selections=_selections(snapshot),
        package=package,
    )


def _selections(snapshot: Snapshot) -> list[SelectionView]:
    c = snapshot.campaign
    views = []
    for code, award in c.awards.items():
        if award.province_quota is None:
            continue
        chosen = snapshot.selected_for(code)

        def named(kind: NomineeKind, chosen: tuple[Selected, ...] = chosen) -> list[str]:
            return [
                f"{s.name} ({c.units_by_code[s.unit_code].name})"
                for s in chosen
                if s.kind is kind and s.nominee is not None
            ]

        views.append(
            SelectionView(
                award=award.name,
                collectives=named(NomineeKind.COLLECTIVE),
                individuals=named(NomineeKind.INDIVIDUAL),
                quota_collectives=award.province_quota.collectives,
                quota_individuals=award.province_quota.individuals,
                gone=[f"{s.name} ({s.unit_code})" for s in chosen if s.nominee is None],
            )
        )
    return views


def _context(view: DigestView) -> dict[str, object]:
    c = view.snapshot.campaign

    def local(moment: datetime) -> str:
        return moment_text(moment, c.tz)

    return {
        "v": view,
        "c": c,
        "local": local,
        "vnd": format_vnd,
        "day": f"{view.snapshot.taken_at.astimezone(c.tz):%d/%m/%Y}",
        "taken": local(view.snapshot.taken_at),
        "since": local(view.since) if view.since else "",
    }


def digest_subject(view: DigestView) -> str:
    return render_subject("digest", **_context(view))


def render_digest(view: DigestView) -> tuple[str, str]:
    """The digest's plain text and HTML."""
    return render_templates("digest", **_context(view))


def compose_digest(
    view: DigestView, recipients: list[str], from_name: str, workbook: bytes
) -> EmailMessage:
    c = view.snapshot.campaign
    day = view.snapshot.taken_at.astimezone(c.tz)
    attached = OutgoingFile(f"Tong-hop-khen-thuong-{day:%Y-%m-%d}.xlsx", workbook, XLSX_MEDIA_TYPE)
    envelope = Envelope(
        from_name=from_name,
        from_address=c.department.intake_address,
        to=addresses(recipients),
        date=view.snapshot.taken_at,
        tz=c.tz,
        auto_submitted="auto-generated",
        files=(attached,),
    )
    return compose(envelope, "digest", **_context(view))
