"""Turn raw message bytes into a `ParsedEmail`: headers, body text and attachments.

mail-parser does the MIME walk (bodies, attachments, RFC 2231 file names). Two of its habits are
corrected here: header words folded over lines are joined without their space ("Quảng Nam"
becomes "QuảngNam"), so headers are decoded with the standard library's `policy.default`; and a
forwarded message (message/rfc822) is listed both as a text attachment and flattened into the
outer list, so the container entry is dropped and its attachments are taken once.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.parser
import email.utils
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

import mailparser
from mailparser.exceptions import MailParserRecursionError

from domain.model import Attachment, ParsedEmail
from domain.text import clean, safe_filename

# Headers the guards and the reply need; everything else stays in the stored raw message.
KEPT_HEADERS = (
    "auto-submitted",
    "precedence",
    "list-id",
    "list-unsubscribe",
    "list-post",
    "return-path",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "authentication-results",
    "reply-to",
    "in-reply-to",
)


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header is as good as none
        return ""
    return clean(value) if value is not None else ""


def _printable(text: str) -> str:
    """A display name fit for a header: no line breaks or other control characters, which an
    encoded word can smuggle in ("=?utf-8?q?V=C4=83n=0D=0A...?=")."""
    return clean("".join(" " if unicodedata.category(c) in {"Cc", "Cf"} else c for c in text))


def _sender(msg: EmailMessage) -> tuple[str, str]:
    try:
        header = msg["From"]
        addresses: tuple[Address, ...] = header.addresses if header is not None else ()
    except (ValueError, IndexError, TypeError, AttributeError):
        addresses = ()
    if addresses and addresses[0].addr_spec.strip("<> "):
        return addresses[0].addr_spec.strip().lower(), _printable(addresses[0].display_name)
    # The decoded header did not parse (a display name whose encoded words decode to a line
    # break or a colon, say): take the address from the raw header, where the name is still
    # encoded and cannot get in the way, and decode the name on its own.
    raw = next((str(v) for k, v in msg.raw_items() if k.lower() == "from"), "")
    name, addr = email.utils.parseaddr(" ".join(raw.split()))
    try:
        decoded = str(make_header(decode_header(name)))
    except (ValueError, LookupError, UnicodeError):
        decoded = name
    return addr.strip().lower(), _printable(decoded)


def _date(msg: EmailMessage) -> datetime | None:
    raw = _header(msg, "Date")
    try:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
    except (ValueError, TypeError):
        return None
    if parsed is None:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _payload(entry: dict[str, Any]) -> bytes:
    payload = entry.get("payload") or ""
    if entry.get("binary"):
        try:
            return base64.b64decode(payload)
        except (binascii.Error, ValueError):
            return b""
    charset = entry.get("charset") or "utf-8"
    try:
        return str(payload).encode(charset, errors="replace")
    except LookupError:
        return str(payload).encode("utf-8", errors="replace")


def _attachments(parsed: Any) -> tuple[Attachment, ...]:
    result = []
    for entry in parsed.attachments:
        content_type = str(entry.get("mail_content_type") or "application/octet-stream").lower()
        if content_type == "message/rfc822":
            continue  # its attachments are already in the list, flattened by mail-parser
        disposition = str(entry.get("content-disposition") or "").lower()
        inline = bool(entry.get("content-id")) and not disposition.startswith("attachment")
        result.append(
            Attachment(
                filename=safe_filename(entry.get("filename")),
                content_type=content_type,
                payload=_payload(entry),
                inline=inline,
            )
        )
    return tuple(result)


def parse_headers(raw: bytes) -> ParsedEmail:
    """Only the headers: for a message too large to unpack, enough to decide whether and how to
    answer it without holding its attachments in memory."""
    msg = email.parser.BytesHeaderParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return _from_headers(msg, body="", attachments=(), defects=())


def parse_message(raw: bytes) -> ParsedEmail:
    """The message: its MIME tree parsed once, by mail-parser; the headers read again on their
    own by the standard library's modern parser, which decodes addresses and encoded words."""
    headers_only = parse_headers(raw)
    try:
        parsed = mailparser.parse_from_bytes(raw)
    except (MailParserRecursionError, RecursionError):
        # Parts nested hundreds deep (a mail forwarded in a loop, or made to hurt): the headers
        # still say who sent it, and the reply says why its files were not read.
        return replace(headers_only, defects=("nesting too deep",), structure_unreadable=True)
    body = parsed.text_plain[0] if parsed.text_plain else ""
    return replace(
        headers_only,
        body_text=body,
        attachments=_attachments(parsed),
        defects=tuple(str(d) for d in (parsed.defects or ())),
    )


def _from_headers(
    msg: EmailMessage, body: str, attachments: tuple[Attachment, ...], defects: tuple[str, ...]
) -> ParsedEmail:
    from_address, from_name = _sender(msg)
    return ParsedEmail(
        message_id=_header(msg, "Message-ID"),
        from_address=from_address,
        from_name=from_name,
        subject=_header(msg, "Subject"),
        date=_date(msg),
        references=_header(msg, "References"),
        headers={h: _header(msg, h) for h in KEPT_HEADERS if msg.get(h) is not None},
        body_text=body,
        attachments=attachments,
        defects=defects,
    )
