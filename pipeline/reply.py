"""Compose the emails a unit receives: an acknowledgement, an error report, how to submit, or
that its mail was too large.

The wording lives in Jinja2 templates (`pipeline/templates`); this module only gathers the facts
they show, and `pipeline.envelope` builds the threaded, auto-replied message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from itertools import groupby

from domain.campaign import Campaign, Unit
from domain.counting import distinct, proposed
from domain.kinds import XLSX_MEDIA_TYPE, NomineeKind, Severity, SubmissionStatus
from domain.model import Document, Finding, Nominee, ParsedEmail
from domain.wording import megabytes, moment_text
from pipeline.annotate import AnnotatedCopy
from pipeline.envelope import OutgoingFile, compose, reply_envelope


@dataclass(frozen=True)
class CountRow:
    award: str
    kind: str
    proposed: int
    allowed: int | None  # None: no limit applies
    limit_label: str  # "phân bổ" (the unit's own allocation) or "toàn tỉnh"
    # Over the unit's own allocation; going over the province-wide quota is only a warning.
    over: bool = False


@dataclass(frozen=True)
class ReadBackGroup:
    """The nominees read for one award and kind, as the unit's clerk checks them against the
    list: the same distinct nominees `count_rows` counts."""

    award: str
    kind: str
    nominees: list[Nominee]


@dataclass(frozen=True)
class FindingGroup:
    file: str  # empty: about the dossier as a whole
    findings: list[Finding]


@dataclass(frozen=True)
class SubmissionReply:
    """The facts a reply to a unit's submission states."""

    campaign: Campaign
    unit: Unit
    status: SubmissionStatus
    version: int
    received_at: datetime
    counts: list[CountRow]
    documents: list[Document]
    errors: list[FindingGroup]
    warnings: list[FindingGroup]
    superseded_version: int | None = None
    superseded_at: datetime | None = None
    # The unit's lists with the problems marked, sent back as attachments.
    annotated: Sequence[AnnotatedCopy] = ()
    # Every nominee read, by award and kind, with sheet and row (several list files: with file).
    read_back: Sequence[ReadBackGroup] = ()
    several_files: bool = False

    @property
    def accepted(self) -> bool:
        return self.status.accepted


def count_rows(nominees: Sequence[Nominee], unit: Unit, campaign: Campaign) -> list[CountRow]:
    rows = []
    for code, award in campaign.awards.items():
        for kind in NomineeKind:
            count = proposed(nominees, code, kind)
            if code == campaign.allocation.award:
                allowed = campaign.allocation_for(unit.code).of(kind)
                rows.append(
                    CountRow(award.name, kind.label, count, allowed, "phân bổ", count > allowed)
                )
            elif count:
                quota = award.province_quota.of(kind) if award.province_quota else None
                rows.append(CountRow(award.name, kind.label, count, quota, "toàn tỉnh"))
    return rows


def read_back(nominees: Sequence[Nominee], campaign: Campaign) -> list[ReadBackGroup]:
    """Every nominee read, numbered per award and kind in the list's order."""
    groups = []
    for code, award in campaign.awards.items():
        for kind in NomineeKind:
            chosen = sorted(
                distinct(nominees, kind, code),
                key=lambda n: (n.location.file or "", n.location.sheet or "", n.location.row or 0),
            )
            if chosen:
                groups.append(ReadBackGroup(award.name, kind.label, chosen))
    return groups


def group_findings(findings: Sequence[Finding], severity: Severity) -> list[FindingGroup]:
    """Findings of one severity grouped by file; the ones about the whole dossier first."""
    chosen = [f for f in findings if f.severity is severity]

    def file_of(f: Finding) -> str:
        return f.location.file if f.location and f.location.file else ""

    chosen.sort(key=lambda f: (file_of(f), f.location.row or 0 if f.location else 0))
    groups = []
    for file, items in groupby(chosen, key=file_of):
        groups.append(FindingGroup(file, list(items)))
    return groups


def can_reply_to(address: str) -> bool:
    """Whether an address taken from a From header is one a reply can be sent to."""
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, TypeError):
        return False
    return bool(parsed.username and parsed.domain)


def compose_submission_reply(
    reply: SubmissionReply, original: ParsedEmail, from_name: str, now: datetime
) -> EmailMessage:
    c = reply.campaign
    copies = [OutgoingFile(a.filename, a.payload, XLSX_MEDIA_TYPE) for a in reply.annotated]
    return compose(
        reply_envelope(original, from_name, c.department.intake_address, now, c.tz, copies),
        "submission_reply",
        r=reply,
        c=c,
        received=moment_text(reply.received_at, c.tz),
        superseded_at=moment_text(reply.superseded_at, c.tz) if reply.superseded_at else "",
    )


def compose_how_to_submit(
    original: ParsedEmail, campaign: Campaign, from_name: str, now: datetime
) -> EmailMessage:
    envelope = reply_envelope(
        original, from_name, campaign.department.intake_address, now, campaign.tz
    )
    return compose(envelope, "how_to_submit", c=campaign, sender=original.from_address)


def compose_too_large(
    original: ParsedEmail,
    campaign: Campaign,
    from_name: str,
    now: datetime,
    *,
    size: int,
    limit: int,
    received_at: datetime,
) -> EmailMessage:
    envelope = reply_envelope(
        original, from_name, campaign.department.intake_address, now, campaign.tz
    )
    return compose(
        envelope,
        "too_large",
        c=campaign,
        size=megabytes(size),
        limit=megabytes(limit),
        received=moment_text(received_at, campaign.tz),
    )
