"""Every outgoing message is built here: headers, the text and HTML bodies from templates, and
attachments. Replies to units, the Department's digest and the reminders differ only in what
`Envelope` says.

Texts live in Jinja2 templates (`pipeline/templates`): `<name>.txt.j2` and `<name>.html.j2` for
the body, `<name>.subject.j2` for the subject line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import Literal

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)

from domain.model import ParsedEmail

_BUILT_IN = PackageLoader("pipeline", "templates")
_templates = Environment(
    loader=_BUILT_IN,
    autoescape=select_autoescape(["html.j2"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def use_templates_from(folder: Path | None) -> None:
    """Look for each template in `folder` first (the Department's own wording), then among the
    built-in ones; None: built-in only. Called once at start-up (`service.runtime.App`)."""
    loaders: list[BaseLoader] = [FileSystemLoader(folder)] if folder else []
    _templates.loader = ChoiceLoader([*loaders, _BUILT_IN])
    _templates.cache = {} if _templates.cache is not None else None


def render_templates(template: str, **context: object) -> tuple[str, str]:
    """The plain-text and HTML renderings of a template pair."""
    text = _templates.get_template(f"{template}.txt.j2").render(**context)
    html = _templates.get_template(f"{template}.html.j2").render(**context)
    return text, html


def render_subject(template: str, **context: object) -> str:
    """A one-line subject from `<template>.subject.j2`."""
    rendered = _templates.get_template(f"{template}.subject.j2").render(**context)
    return " ".join(rendered.split())


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    payload: bytes
    media_type: str

    @property
    def maintype(self) -> str:
        return self.media_type.partition("/")[0]

    @property
    def subtype(self) -> str:
        return self.media_type.partition("/")[2]


@dataclass(frozen=True)
class Envelope:
    """Who a message is from and to, when, and what it answers."""

    from_name: str
    from_address: str
    to: Sequence[Address]
    date: datetime
    tz: tzinfo
    # RFC 3834: "auto-replied" for answers to a unit's mail, "auto-generated" for the rest.
    auto_submitted: Literal["auto-replied", "auto-generated"]
    answering: ParsedEmail | None = None
    files: Sequence[OutgoingFile] = field(default_factory=tuple)


def reply_envelope(
    original: ParsedEmail,
    from_name: str,
    from_address: str,
    now: datetime,
    tz: tzinfo,
    files: Sequence[OutgoingFile] = (),
) -> Envelope:
    """An automatic answer to the sender of `original`, threaded under it."""
    return Envelope(
        from_name=from_name,
        from_address=from_address,
        to=(Address(original.from_name, addr_spec=original.from_address),),
        date=now,
        tz=tz,
        auto_submitted="auto-replied",
        answering=original,
        files=files,
    )


# "Re:", "Fwd:", "TL:" and our own outcome tags ("[Đã tiếp nhận]", "[Chưa tiếp nhận – 3 lỗi]")
# at the front of a subject: a unit answering our answer must not pile them up.
_SUBJECT_PREFIXES = re.compile(
    r"^\s*(?:(?:re|aw|fw|fwd|tl|tr|trả lời|chuyển tiếp)\s*:\s*|\[[^\]]*tiếp nhận[^\]]*\]\s*)+",
    re.IGNORECASE,
)


def thread_subject(subject: str) -> str:
    """The subject a reply quotes: the unit's own words, without reply prefixes or our tags."""
    return _SUBJECT_PREFIXES.sub("", subject).strip()


def addresses(recipients: Sequence[str]) -> tuple[Address, ...]:
    return tuple(Address(addr_spec=r) for r in recipients)


def compose(envelope: Envelope, template: str, **context: object) -> EmailMessage:
    """The message: headers from the envelope, subject and bodies from the templates."""
    local, _, domain = envelope.from_address.partition("@")
    msg = EmailMessage()
    msg["From"] = Address(envelope.from_name, local, domain)
    msg["To"] = envelope.to
    original = envelope.answering
    msg["Subject"] = render_subject(
        template, original_subject=thread_subject(original.subject) if original else "", **context
    )
    msg["Date"] = format_datetime(envelope.date.astimezone(envelope.tz))
    msg["Message-ID"] = make_msgid(domain=domain)
    if original is not None and original.message_id:
        msg["In-Reply-To"] = original.message_id
        msg["References"] = f"{original.references} {original.message_id}".strip()
    msg["Auto-Submitted"] = envelope.auto_submitted
    if envelope.auto_submitted == "auto-replied":
        # Outlook's header: please do not auto-answer our answer in turn.
        msg["X-Auto-Response-Suppress"] = "All"
    msg["Content-Language"] = "vi"
    text, html = render_templates(template, **context)
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    for file in envelope.files:
        msg.add_attachment(
            file.payload, maintype=file.maintype, subtype=file.subtype, filename=file.filename
        )
    return msg


class _WirePolicy(EmailPolicy):
    """`policy.SMTP`, except for the Subject and the address headers.

    CPython 3.11's header folder can drop the space between two encoded words at a fold ("bầu
    cử" arrives as "bầucử"), and takes about 12 ms to fold one address with a long Vietnamese
    display name, most of the time it took to build a reply. The Subject is encoded by the legacy
    `Header` class, which keeps spaces inside its encoded words; a display name is one encoded
    word (`formataddr`), which every reader decodes alike, where several words at a fold are read
    with or without a space between them depending on the reader. Each takes a fraction of a
    millisecond.
    """

    def fold_binary(self, name: str, value: str) -> bytes:
        lowered = name.lower()
        if lowered == "subject":
            encoded = Header(str(value), "utf-8", header_name=name).encode(linesep=self.linesep)
            return f"{name}: {encoded}{self.linesep}".encode("ascii")
        if lowered in _ADDRESS_HEADERS and not str(value).isascii():
            mailboxes = getattr(value, "addresses", ())
            ungrouped = all(g.display_name is None for g in getattr(value, "groups", ()))
            if mailboxes and ungrouped and all(a.addr_spec.isascii() for a in mailboxes):
                separator = f",{self.linesep} "
                listed = separator.join(
                    formataddr((a.display_name, a.addr_spec), "utf-8") for a in mailboxes
                )
                return f"{name}: {listed}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})
_WIRE = _WirePolicy(linesep="\r\n")


def message_bytes(msg: EmailMessage) -> bytes:
    """The wire form of an outgoing message (see `_WirePolicy`)."""
    return msg.as_bytes(policy=_WIRE)
