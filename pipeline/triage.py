"""Triage: what a stored message is, decided by an ordered table of small named rules.

Like Mailman's built-in chain, `RULES` is read top to bottom and the first rule that answers
decides; the stored message records its name (`InboundMessage.decided_by`), so "why was this not
answered?" is read off the message. Rules are pure: the service gathers the `Facts` (earlier
copies, replies already sent) from the database first.

The reply policy is one function of (sender, kind): at most `per_sender_per_day` replies of any
kind to an address a day, and, per kind, at most so many in 24 hours (one "nothing attached"
answer, so an auto-responder that echoes us without saying so gets one answer, not a loop).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from domain.kinds import MailKind, Outcome
from domain.model import ParsedEmail
from domain.wording import megabytes
from pipeline.findings import outcome_detail


class Folder(StrEnum):
    """Where handled mail is filed in the mailbox (the names come from the settings)."""

    PROCESSED = "processed"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ReplyHistory:
    """Replies already queued to one address."""

    today: int = 0  # since midnight, campaign time
    last_24h: Mapping[MailKind, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReplyPolicy:
    per_sender_per_day: int
    per_kind_per_24h: Mapping[MailKind, int] = field(
        default_factory=lambda: {MailKind.NOTHING_ATTACHED: 1}
    )
    # Answers to addresses no unit registered, all of them together (backscatter).
    unregistered_per_hour: int = 10
    unregistered_per_day: int = 30


@dataclass(frozen=True)
class UnregisteredReplies:
    """ "How to submit" answers queued to any unregistered address."""

    last_hour: int = 0
    today: int = 0


class ReplyRefusal(StrEnum):
    ALREADY_ANSWERED = "already_answered"  # this kind's 24-hour allowance is used
    DAILY_CAP = "daily_cap"  # the address's daily cap is reached


def reply_refusal(
    kind: MailKind, history: ReplyHistory, policy: ReplyPolicy
) -> ReplyRefusal | None:
    """Why a reply of `kind` may not go to this address now, or None when it may."""
    allowance = policy.per_kind_per_24h.get(kind)
    if allowance is not None and history.last_24h.get(kind, 0) >= allowance:
        return ReplyRefusal.ALREADY_ANSWERED
    if history.today >= policy.per_sender_per_day:
        return ReplyRefusal.DAILY_CAP
    return None


@dataclass(frozen=True)
class Facts:
    """All a rule may look at."""

    mail: ParsedEmail
    size: int
    too_large: bool
    registered: bool  # the sender is one of a unit's addresses
    earlier_copy_id: int | None  # the first handled message with the same bytes or Message-ID
    answers_us: bool  # it refers to a message we sent
    automatic: str | None  # why it is automatic mail (`pipeline.guard`), if it is
    forged: str | None  # why it looks forged (`pipeline.guard`), if it does
    can_reply: bool  # the From address is one a reply can go to
    unverified: str | None  # why the receiving server doubts the sender (SPF/DKIM/DMARC), if so
    looks_like_submission: bool  # it carries a spreadsheet, an archive or a winmail.dat
    replies: ReplyHistory
    policy: ReplyPolicy
    unregistered_replies: UnregisteredReplies = field(default_factory=UnregisteredReplies)


@dataclass(frozen=True)
class Decision:
    """A rule's answer. `reply` is the kind of answer to queue, if the policy allows it; a
    submission's answer depends on its verdict and is chosen when it has been examined."""

    outcome: Outcome
    folder: Folder
    detail: str
    reply: MailKind | None = None
    duplicate_of_id: int | None = None
    rule: str = ""

    @property
    def is_submission(self) -> bool:
        return self.outcome is Outcome.SUBMISSION


Rule = Callable[[Facts], Decision | None]


def duplicate(f: Facts) -> Decision | None:
    if f.earlier_copy_id is None:
        return None
    return Decision(
        Outcome.DUPLICATE,
        Folder.PROCESSED,
        outcome_detail("duplicate", original=f.earlier_copy_id),
        duplicate_of_id=f.earlier_copy_id,
    )


def unknown_sender(f: Facts) -> Decision | None:
    if f.registered:
        return None
    if f.automatic is not None:
        why = outcome_detail("unknown_automatic", robot=f.automatic)
    elif not f.can_reply:
        why = outcome_detail("unknown_unusable_address")
    elif not f.looks_like_submission:
        why = outcome_detail("unknown_no_spreadsheet")
    elif f.unverified is not None:
        why = outcome_detail("unknown_unverified", reason=f.unverified)
    elif reply_refusal(MailKind.HOW_TO_SUBMIT, f.replies, f.policy) is not None:
        why = outcome_detail("unknown_reply_capped")
    elif f.unregistered_replies.last_hour >= f.policy.unregistered_per_hour:
        why = outcome_detail("unknown_global_cap", count=f.policy.unregistered_per_hour, per="giờ")
    elif f.unregistered_replies.today >= f.policy.unregistered_per_day:
        why = outcome_detail("unknown_global_cap", count=f.policy.unregistered_per_day, per="ngày")
    else:
        return Decision(
            Outcome.UNKNOWN_SENDER,
            Folder.REJECTED,
            outcome_detail("how_to_submit_sent"),
            reply=MailKind.HOW_TO_SUBMIT,
        )
    return Decision(Outcome.UNKNOWN_SENDER, Folder.REJECTED, why)


def forged(f: Facts) -> Decision | None:
    # Never answered: a reply would go to the real unit, about mail it did not send.
    if f.forged is None:
        return None
    return Decision(
        Outcome.SUSPICIOUS, Folder.REJECTED, outcome_detail("suspicious", reason=f.forged)
    )


def automatic(f: Facts) -> Decision | None:
    if f.automatic is None:
        return None
    return Decision(
        Outcome.AUTOMATIC, Folder.PROCESSED, outcome_detail("automatic", robot=f.automatic)
    )


def too_large(f: Facts) -> Decision | None:
    # No submission: a dossier the unit sent earlier stands.
    if not f.too_large:
        return None
    return Decision(
        Outcome.TOO_LARGE,
        Folder.REJECTED,
        outcome_detail("too_large", size=megabytes(f.size)),
        reply=MailKind.TOO_LARGE,
    )


def nothing_attached_again(f: Facts) -> Decision | None:
    if f.mail.attachments:
        return None
    if reply_refusal(MailKind.NOTHING_ATTACHED, f.replies, f.policy) is not (
        ReplyRefusal.ALREADY_ANSWERED
    ):
        return None
    return Decision(Outcome.CORRESPONDENCE, Folder.PROCESSED, outcome_detail("nothing_again"))


def answers_us(f: Facts) -> Decision | None:
    if f.mail.attachments or not f.answers_us:
        return None
    return Decision(Outcome.CORRESPONDENCE, Folder.PROCESSED, outcome_detail("answers_us"))


def submission(f: Facts) -> Decision:
    # The folder and the detail follow from the verdict; these are placeholders until then.
    return Decision(
        Outcome.SUBMISSION,
        Folder.PROCESSED,
        "",
        reply=MailKind.NOTHING_ATTACHED if not f.mail.attachments else None,
    )


# The chain, in order. The last rule always answers.
RULES: tuple[tuple[str, Rule], ...] = (
    ("duplicate", duplicate),
    ("unknown_sender", unknown_sender),
    ("forged", forged),
    ("automatic", automatic),
    ("too_large", too_large),
    ("nothing_attached_again", nothing_attached_again),
    ("answers_us", answers_us),
    ("submission", submission),
)


def triage(facts: Facts) -> Decision:
    for name, rule in RULES:
        decision = rule(facts)
        if decision is not None:
            return replace(decision, rule=name)
    raise AssertionError("the last rule always decides")
