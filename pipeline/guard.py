"""May we answer this message? One function holds every reason not to (cf. Mailman's
`can_acknowledge`): automatic mail, mailing lists, bounces, our own address."""

from __future__ import annotations

import re

from domain.model import ParsedEmail

_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post")
_ROBOT_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply"})


def automatic_reason(mail: ParsedEmail, own_addresses: frozenset[str]) -> str | None:
    """Why this message must get no automatic answer, or None when it may get one."""
    headers = mail.headers
    auto = headers.get("auto-submitted", "").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = headers.get("precedence", "").lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _LIST_HEADERS:
        if name in headers:
            return f"mailing-list header {name}"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "X-Autoreply"
    if headers.get("return-path", "").strip() in {"<>", ""} and "return-path" in headers:
        return "empty Return-Path (a bounce)"
    if not mail.from_address:
        return "no sender address"
    if mail.from_address in own_addresses:
        return "sent from our own address"
    if mail.from_address.split("@", 1)[0] in _ROBOT_LOCALPARTS:
        return f"robot sender {mail.from_address}"
    return None


_AUTH_FAILURE = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*(fail|softfail|permerror)\b", re.IGNORECASE)


def _failed_checks(mail: ParsedEmail, checks: frozenset[str]) -> str | None:
    verdict = mail.headers.get("authentication-results", "")
    failed = sorted(
        {m.group(1).upper() for m in _AUTH_FAILURE.finditer(verdict)} & {c.upper() for c in checks}
    )
    return f"{' và '.join(failed)} không hợp lệ" if failed else None


def forged_sender_reason(mail: ParsedEmail) -> str | None:
    """Why a unit's address cannot be trusted, from the receiving server's verdict.

    The Department's server writes Authentication-Results when it checks DKIM and DMARC; a
    failure there means someone else may have used a unit's address. (SPF alone is not enough to
    doubt a unit: forwarding breaks it.) Without the header the address is trusted as before.
    """
    return _failed_checks(mail, frozenset({"dkim", "dmarc"}))


def unverified_sender_reason(mail: ParsedEmail) -> str | None:
    """Why an unregistered sender's address is probably not its own (SPF, DKIM or DMARC failed):
    an answer would be backscatter to whoever was impersonated."""
    return _failed_checks(mail, frozenset({"dkim", "dmarc", "spf"}))
