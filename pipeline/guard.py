"""May we answer this message? One function holds every reason not to (cf. Mailman's
`can_acknowledge`): automatic mail, mailing lists, bounces, our own address."""

from __future__ import annotations

from pipeline.model import ParsedEmail

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
