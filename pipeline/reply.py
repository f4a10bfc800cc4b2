"""Compose the emails a unit receives: an acknowledgement, an error report, or how to submit.

The wording lives in Jinja2 templates (`pipeline/templates`), a plain-text and an HTML version of
each; this module only gathers the facts they show and builds a threaded, auto-replied message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from itertools import groupby

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from config.campaign import Campaign, NomineeKind, Unit
from pipeline.annotate import AnnotatedCopy
from pipeline.model import Document, Finding, Nominee, ParsedEmail, Severity
from pipeline.validate import distinct

_templates = Environment(
    loader=PackageLoader("pipeline", "templates"),
    autoescape=select_autoescape(["html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


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
class FindingGroup:
    title: str
    findings: list[Finding]


@dataclass(frozen=True)
class SubmissionReply:
    """The facts a reply to a unit's submission states."""

    campaign: Campaign
    unit: Unit
    status: str  # accepted | accepted_late | rejected
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

    @property
    def accepted(self) -> bool:
        return self.status != "rejected"


def message_bytes(msg: EmailMessage) -> bytes:
    """The wire form of an outgoing message.

    CPython 3.11's header folder can drop the space between two encoded words at a fold
    ("bầu cử" arrives as "bầucử"), so the Subject is encoded by the legacy `Header` class,
    which keeps spaces inside the encoded words.
    """
    raw = msg.as_bytes(policy=policy.SMTP)
    subject = msg["Subject"]
    if subject is None:
        return raw
    head, _, body = raw.partition(b"\r\n\r\n")
    kept: list[bytes] = []
    in_subject = False
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):
            if not in_subject:
                kept.append(line)
            continue
        in_subject = line.lower().startswith(b"subject:")
        if not in_subject:
            kept.append(line)
    encoded = Header(str(subject), "utf-8", header_name="Subject").encode(linesep="\r\n")
    kept.append(b"Subject: " + encoded.encode("ascii"))
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def local_time(moment: datetime, campaign: Campaign) -> str:
    local = moment.astimezone(campaign.tz)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def count_rows(nominees: Sequence[Nominee], unit: Unit, campaign: Campaign) -> list[CountRow]:
    rows = []
    for code, award in campaign.awards.items():
        for kind in NomineeKind:
            proposed = len(distinct(nominees, kind, code))
            if code == campaign.allocation.award:
                allowed = campaign.allocation_for(unit.code).of(kind)
                rows.append(
                    CountRow(
                        award.name, kind.label, proposed, allowed, "phân bổ", proposed > allowed
                    )
                )
            elif proposed:
                quota = award.province_quota.of(kind) if award.province_quota else None
                rows.append(CountRow(award.name, kind.label, proposed, quota, "toàn tỉnh"))
    return rows


def group_findings(findings: Sequence[Finding], severity: Severity) -> list[FindingGroup]:
    """Findings of one severity grouped by file; the ones about the whole dossier first."""
    chosen = [f for f in findings if f.severity is severity]

    def file_of(f: Finding) -> str:
        return f.location.file if f.location and f.location.file else ""

    chosen.sort(key=lambda f: (file_of(f), f.location.row or 0 if f.location else 0))
    groups = []
    for file, items in groupby(chosen, key=file_of):
        groups.append(FindingGroup(f"Tệp {file}" if file else "Hồ sơ chung", list(items)))
    return groups


def can_reply_to(address: str) -> bool:
    """Whether an address taken from a From header is one a reply can be sent to."""
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, TypeError):
        return False
    return bool(parsed.username and parsed.domain)


def _base_message(
    original: ParsedEmail, campaign: Campaign, from_name: str, now: datetime
) -> EmailMessage:
    department = campaign.department
    msg = EmailMessage()
    local, _, domain = department.intake_address.partition("@")
    msg["From"] = Address(from_name, local, domain)
    msg["To"] = Address(original.from_name, addr_spec=original.from_address)
    subject = original.subject or "Hồ sơ đề nghị khen thưởng"
    msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    msg["Date"] = format_datetime(now.astimezone(campaign.tz))
    msg["Message-ID"] = make_msgid(domain=domain)
    if original.message_id:
        msg["In-Reply-To"] = original.message_id
        msg["References"] = f"{original.references} {original.message_id}".strip()
    # RFC 3834: an automatic answer; Outlook's header asks it not to auto-answer us in turn.
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Content-Language"] = "vi"
    return msg


def render_templates(template: str, **context: object) -> tuple[str, str]:
    """The plain-text and HTML renderings of a template pair."""
    text = _templates.get_template(f"{template}.txt.j2").render(**context)
    html = _templates.get_template(f"{template}.html.j2").render(**context)
    return text, html


def _render(msg: EmailMessage, template: str, **context: object) -> EmailMessage:
    text, html = render_templates(template, **context)
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


def compose_submission_reply(
    reply: SubmissionReply, original: ParsedEmail, from_name: str, now: datetime
) -> EmailMessage:
    msg = _base_message(original, reply.campaign, from_name, now)
    _render(
        msg,
        "submission_reply",
        r=reply,
        c=reply.campaign,
        received=local_time(reply.received_at, reply.campaign),
        superseded_at=local_time(reply.superseded_at, reply.campaign)
        if reply.superseded_at
        else "",
    )
    for copy in reply.annotated:
        msg.add_attachment(
            copy.payload,
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename=copy.filename,
        )
    return msg


def compose_how_to_submit(
    original: ParsedEmail, campaign: Campaign, from_name: str, now: datetime
) -> EmailMessage:
    msg = _base_message(original, campaign, from_name, now)
    return _render(msg, "how_to_submit", c=campaign, sender=original.from_address)


def megabytes(size: int) -> str:
    """A size as a Vietnamese reader writes it: "31,5"."""
    return f"{size / 1024 / 1024:.1f}".replace(".", ",")


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
    msg = _base_message(original, campaign, from_name, now)
    return _render(
        msg,
        "too_large",
        c=campaign,
        size=megabytes(size),
        limit=megabytes(limit),
        received=local_time(received_at, campaign),
    )
