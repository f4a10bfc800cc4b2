"""The Department's choice for a province-quota award (the Prime Minister's 3 + 3): who may be
chosen (every nominee an accepted unit proposed for it), and the choice itself, within the quota,
as a decision like the others (`service.decisions`: a reason, a refusal that says why, an audit
row). Stored by unit, kind and name, so it survives an unchanged resubmission."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.campaign import Unit
from domain.kinds import AuditAction, NomineeKind
from domain.snapshot import Snapshot
from domain.text import person_key
from pipeline.documents import mentions_name
from service.context import Context
from service.decisions import Decided, DecisionRefused, reason_given
from storage import audit, decisions, read_model
from storage.db import claiming_session


@dataclass(frozen=True)
class Candidate:
    """A nominee a unit proposed for a province-quota award, from an accepted submission."""

    unit: Unit
    kind: NomineeKind
    name: str
    name_key: str
    summary: str
    turnout_percent: float | None
    report_files: tuple[str, ...]  # the unit's papers that name them (their Báo cáo thành tích)
    selected: bool


def candidates(snapshot: Snapshot, award: str) -> list[Candidate]:
    """Everyone proposed for `award` in an accepted current submission, in the campaign's unit
    order and each unit's own order."""
    chosen = {(s.unit_code, s.kind, person_key(s.name)) for s in snapshot.selected_for(award)}
    document = snapshot.campaign.awards[award].document_per_nominee
    found = []
    for entry in snapshot.accepted_units:
        seen = set()
        for n in entry.nominees:
            key = person_key(n.name)
            if award not in n.awards or (n.kind, key) in seen:
                continue
            seen.add((n.kind, key))
            files = tuple(
                p.filename
                for p in entry.papers
                if document and p.kind == document.value and mentions_name(p.filename, n.name)
            )
            found.append(
                Candidate(
                    entry.unit,
                    n.kind,
                    n.name,
                    key,
                    n.summary,
                    n.turnout_percent,
                    files,
                    (entry.unit.code, n.kind, key) in chosen,
                )
            )
    return found


def select_nominees(
    engine: Engine,
    ctx: Context,
    actor: str,
    award: str,
    picks: Collection[tuple[str, NomineeKind, str]],
    reason: str,
    now: datetime,
) -> Decided:
    """The award's whole selection becomes `picks` ((unit code, kind, name) each, the name as
    written or as its `person_key`), within its province quota; the audit row says who was
    added and who removed."""
    reason = reason_given(reason)
    definition = ctx.campaign.awards.get(award)
    if definition is None or definition.province_quota is None:
        raise DecisionRefused("no_quota_award", award=award)
    quota = definition.province_quota
    count = Counter(kind for _, kind, _ in picks)
    for kind in NomineeKind:
        if count[kind] > quota.of(kind):
            raise DecisionRefused(
                "over_quota",
                quota=quota.of(kind),
                kind=kind.label,
                award=definition.name,
                n=count[kind],
            )
    with Session(engine) as session:
        snapshot = read_model.snapshot(session, ctx.campaign, now)
    pool = {(c.unit.code, c.kind, c.name_key): c for c in candidates(snapshot, award)}
    keys = [(unit_code, kind, person_key(name)) for unit_code, kind, name in picks]
    for (unit_code, _, name), key in zip(picks, keys, strict=True):
        if key not in pool:
            raise DecisionRefused("not_candidate", name=name, unit=unit_code, award=definition.name)
    chosen = [pool[k] for k in keys]
    before = {(c.unit.code, c.kind, c.name_key): c for c in pool.values() if c.selected}
    with claiming_session(engine) as session:
        decisions.replace_selection(
            session,
            ctx.campaign.code,
            award,
            [decisions.Pick(c.unit.code, c.kind.value, c.name_key, c.name) for c in chosen],
            actor,
        )
        row = audit.append(
            session,
            actor=actor,
            action=AuditAction.SELECT_NOMINEES,
            subject=audit.Subject("selection", award),
            reason=reason,
            details={
                "selected": [f"{c.name} ({c.unit.code})" for c in chosen],
                "added": [
                    f"{c.name} ({c.unit.code})"
                    for c in chosen
                    if (c.unit.code, c.kind, c.name_key) not in before
                ],
                "removed": [
                    f"{c.name} ({c.unit.code})" for k, c in before.items() if k not in keys
                ],
            },
            at=now,
        )
        decided = Decided(row.seq)
        session.commit()
        return decided
