"""Check an extracted submission against the campaign: quotas, deadline, dossier, criteria.

Each rule is a small named function over plain data that returns findings; `RULES` lists them in
the order they run, so this file alone says what is checked. `validate` adds the rules' findings
to the extraction's own, errors first, and records which rules ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.campaign import Campaign, Unit
from domain.counting import distinct
from domain.kinds import DocumentKind, NomineeKind, Severity, SubmissionStatus
from domain.model import Document, Extraction, Finding, Location, Nominee
from domain.text import person_key
from domain.wording import moment_text, percent_text, place_in_file
from pipeline.documents import mentions_name
from pipeline.findings import clause, finding
from pipeline.signatures import looks_like


@dataclass(frozen=True)
class Dossier:
    """What a rule sees: who sent what, when, for which campaign."""

    unit: Unit
    campaign: Campaign
    received_at: datetime
    nominees: tuple[Nominee, ...]
    documents: tuple[Document, ...]
    trust_configured: bool = False  # the operator gave trust roots: untrusted means something


Rule = Callable[[Dossier], Iterator[Finding]]


def _award_name(s: Dossier, code: str) -> str:
    return s.campaign.awards[code].name


def _where_else(other: Location, here: Location) -> str:
    """Where the first of two duplicates is, as seen from the second: "dòng 10", or with the
    sheet (and file) when they differ, so the clerk can find it."""
    other_file = other.file if other.file != here.file else None
    other_sheet = other.sheet if other_file or other.sheet != here.sheet else None
    return place_in_file(other_file, other_sheet, other.row, None)


def no_duplicate_nominees(s: Dossier) -> Iterator[Finding]:
    seen: dict[tuple[NomineeKind, str, str], Nominee] = {}
    for n in s.nominees:
        for award in sorted(n.awards):
            key = (n.kind, person_key(n.name), award)
            first = seen.setdefault(key, n)
            if first is not n:
                yield finding(
                    "DUPLICATE_NOMINEE",
                    location=n.location,
                    kind=n.kind.label.capitalize(),
                    name=n.name,
                    award=_award_name(s, award),
                    other=_where_else(first.location, n.location),
                )


def _distinct(s: Dossier, award: str, kind: NomineeKind) -> list[Nominee]:
    return distinct(s.nominees, kind, award)


def within_allocation(s: Dossier) -> Iterator[Finding]:
    award = s.campaign.allocation.award
    allowed = s.campaign.allocation_for(s.unit.code)
    for kind in NomineeKind:
        count = len(_distinct(s, award, kind))
        if count > allowed.of(kind):
            yield finding(
                "QUOTA_EXCEEDED",
                kind=kind.label,
                count=count,
                allowed=allowed.of(kind),
                excess=count - allowed.of(kind),
                award=_award_name(s, award),
            )


def within_province_quota(s: Dossier) -> Iterator[Finding]:
    for code, award in s.campaign.awards.items():
        if award.province_quota is None:
            continue
        for kind in NomineeKind:
            count = len(_distinct(s, code, kind))
            if count > award.province_quota.of(kind):
                yield finding(
                    "PROVINCE_QUOTA_EXCEEDED",
                    kind=kind.label,
                    count=count,
                    allowed=award.province_quota.of(kind),
                    award=award.name,
                )


def prerequisite_awards(s: Dossier) -> Iterator[Finding]:
    """The PM certificate is chosen among those proposed for the provincial one."""
    awards_of: dict[tuple[NomineeKind, str], set[str]] = {}
    for n in s.nominees:
        awards_of.setdefault((n.kind, person_key(n.name)), set()).update(n.awards)
    for code, award in s.campaign.awards.items():
        required = award.requires_award
        if required is None:
            continue
        for kind in NomineeKind:
            for n in _distinct(s, code, kind):
                if required not in awards_of[(n.kind, person_key(n.name))]:
                    yield finding(
                        "AWARD_PREREQUISITE_MISSING",
                        location=n.at("award"),
                        kind=kind.label.capitalize(),
                        name=n.name,
                        award=award.name,
                        required=_award_name(s, required),
                    )


def _proposed_awards(s: Dossier) -> list[str]:
    codes = {a for n in s.nominees for a in n.awards}
    return [code for code in s.campaign.awards if code in codes]


def dossier_documents(s: Dossier) -> Iterator[Finding]:
    present = {d.kind for d in s.documents}
    reported: set[DocumentKind] = set()
    for code in _proposed_awards(s):
        for kind in s.campaign.awards[code].documents:
            if kind not in present and kind not in reported:
                reported.add(kind)
                yield finding(
                    "DOCUMENT_MISSING",
                    award=_award_name(s, code),
                    document=kind.label,
                    document_short=kind.short_label,
                )


def nominee_documents(s: Dossier) -> Iterator[Finding]:
    """One summary or report per nominee: matched by name, else one unnamed file each.

    A summary may also be written in the list's "Tóm tắt thành tích" column, and a single
    summary file that names nobody is taken as covering everyone (units often send one file).
    """
    for code in _proposed_awards(s):
        award = s.campaign.awards[code]
        doc_kind = award.document_per_nominee
        if doc_kind is None:
            continue
        files = [d for d in s.documents if d.kind is doc_kind]
        nominees = [n for kind in NomineeKind for n in _distinct(s, code, kind)]
        unnamed = [d for d in files if not any(mentions_name(d.filename, n.name) for n in nominees)]
        summary_kind = doc_kind is DocumentKind.TOM_TAT_THANH_TICH
        for n in nominees:
            if summary_kind and (n.summary or unnamed):
                continue
            if any(mentions_name(d.filename, n.name) for d in files):
                continue
            if unnamed and not summary_kind:
                unnamed.pop(0)
                continue
            yield finding(
                "NOMINEE_DOCUMENT_MISSING",
                location=n.location,
                document=doc_kind.label,
                document_short=doc_kind.short_label,
                kind=n.kind.label,
                name=n.name,
                award=award.name,
                alternative=clause("summary_in_list") if summary_kind else "",
            )


def turnout_thresholds(s: Dossier) -> Iterator[Finding]:
    if s.unit.kind not in s.campaign.turnout_applies_to:
        return
    for n in s.nominees:
        if n.kind is not NomineeKind.COLLECTIVE:
            continue
        for code in sorted(n.awards):
            award = s.campaign.awards[code]
            threshold = award.min_turnout_percent
            if threshold is None:
                continue
            if n.turnout_percent is None:
                yield finding(
                    "TURNOUT_MISSING", location=n.at("turnout"), name=n.name, award=award.name
                )
            elif n.turnout_percent < threshold:
                yield finding(
                    "TURNOUT_BELOW_THRESHOLD",
                    location=n.at("turnout"),
                    name=n.name,
                    turnout=percent_text(n.turnout_percent),
                    threshold=percent_text(threshold),
                    award=award.name,
                )


def signed_papers(s: Dossier) -> Iterator[Finding]:
    """Each PDF paper's signatures, against the campaign's policy (`SignaturePolicy`)."""
    policy = s.campaign.signatures
    names = [s.unit.name, *s.unit.aliases]
    office = s.campaign.department.office
    for d in s.documents:
        checked = d.signatures
        if checked is None or d.kind is DocumentKind.NOMINATION_LIST:
            continue
        if checked.unreadable:  # none, or only some, of its signatures could be checked
            yield finding("SIGNATURE_UNREADABLE", file=d.filename)
            if not checked.signed:
                continue
        if not checked.signed:
            required = policy.unsigned == "require_to_trinh" and d.kind is DocumentKind.TO_TRINH
            if required or policy.unsigned == "warn":
                yield finding(
                    "SIGNATURE_MISSING",
                    severity=Severity.ERROR if required else Severity.WARNING,
                    file=d.filename,
                    document=d.kind.label,
                )
            continue
        for sig in checked.signatures:
            who: dict[str, Any] = {
                "file": d.filename,
                "signer": sig.signer or "người ký",
                "organisation": sig.organisation or "không rõ đơn vị",
            }
            if not sig.intact or sig.modified:
                how = "tệp đã bị sửa" if sig.intact else "nội dung không khớp chữ ký"
                yield finding(
                    "SIGNATURE_MODIFIED",
                    severity=Severity.ERROR if policy.modified == "error" else Severity.WARNING,
                    how=how,
                    **who,
                )
                continue
            if not sig.whole:
                yield finding("SIGNATURE_PARTIAL", **who)
            if s.trust_configured and not sig.trusted:
                yield finding("SIGNATURE_UNTRUSTED", office=office, **who)
            if policy.other_organisation == "warning" and not looks_like(sig.organisation, names):
                yield finding("SIGNATURE_OTHER_ORGANISATION", unit=s.unit.name, **who)


def on_time(s: Dossier) -> Iterator[Finding]:
    campaign = s.campaign
    if s.received_at < campaign.closes_at_for(s.unit.code):
        return
    reject = campaign.deadline.late_policy == "reject"
    department = campaign.department
    yield finding(
        "LATE_SUBMISSION",
        severity=Severity.ERROR if reject else Severity.WARNING,
        received=moment_text(s.received_at, campaign.tz),
        deadline=campaign.last_moment_text_for(s.unit.code),
        stated=campaign.deadline.stated,
        late_fix=clause("late_rejected", office=department.office, department=department.name)
        if reject
        else clause("late_flagged"),
    )


RULES: tuple[tuple[str, Rule], ...] = (
    ("on_time", on_time),
    ("no_duplicate_nominees", no_duplicate_nominees),
    ("within_allocation", within_allocation),
    ("within_province_quota", within_province_quota),
    ("prerequisite_awards", prerequisite_awards),
    ("dossier_documents", dossier_documents),
    ("nominee_documents", nominee_documents),
    ("turnout_thresholds", turnout_thresholds),
    ("signed_papers", signed_papers),
)


@dataclass(frozen=True)
class Verdict:
    findings: tuple[Finding, ...]
    rules_run: tuple[str, ...]
    late: bool = False  # received at or after the deadline (whatever the late policy)

    @property
    def accepted(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def status(self) -> SubmissionStatus:
        if not self.accepted:
            return SubmissionStatus.REJECTED
        return SubmissionStatus.ACCEPTED_LATE if self.late else SubmissionStatus.ACCEPTED


def _order(f: Finding) -> tuple[int, str, str, int]:
    loc = f.location
    return (
        0 if f.severity is Severity.ERROR else 1,
        (loc.file or "") if loc else "",
        (loc.sheet or "") if loc else "",
        (loc.row or 0) if loc else 0,
    )


def validate(
    extraction: Extraction,
    unit: Unit,
    campaign: Campaign,
    received_at: datetime,
    trust_configured: bool = False,
) -> Verdict:
    """All findings for a submission: the extraction's own, then every rule's, errors first."""
    dossier = Dossier(
        unit=unit,
        campaign=campaign,
        received_at=received_at,
        nominees=tuple(extraction.nominees),
        documents=tuple(extraction.documents),
        trust_configured=trust_configured,
    )
    findings = list(extraction.findings)
    for _, rule in RULES:
        findings.extend(rule(dossier))
    return Verdict(
        tuple(sorted(findings, key=_order)),
        tuple(name for name, _ in RULES),
        late=received_at >= campaign.closes_at_for(unit.code),
    )
