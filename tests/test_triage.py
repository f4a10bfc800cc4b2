"""Triage: the table of rules decides what a message is, and says why it is (not) answered."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.kinds import MailKind, Outcome
from domain.model import Attachment, ParsedEmail
from pipeline.triage import (
    RULES,
    Facts,
    Folder,
    ReplyHistory,
    ReplyPolicy,
    ReplyRefusal,
    UnregisteredReplies,
    reply_refusal,
    triage,
)
from samples.factories import XLSX


def mail(sender: str = "vanthu@example.vn", *, attached: bool = True) -> ParsedEmail:
    files = (Attachment("Danh sach.xlsx", XLSX, b"PK\x03\x04"),) if attached else ()
    return ParsedEmail(
        message_id="<1@example.vn>",
        from_address=sender,
        from_name="",
        subject="Hồ sơ",
        date=None,
        references="",
        headers={},
        body_text="",
        attachments=files,
    )


def facts(**changes: object) -> Facts:
    base = Facts(
        mail=mail(),
        size=1000,
        too_large=False,
        registered=True,
        earlier_copy_id=None,
        answers_us=False,
        automatic=None,
        forged=None,
        can_reply=True,
        unverified=None,
        looks_like_submission=True,
        replies=ReplyHistory(),
        policy=ReplyPolicy(per_sender_per_day=5),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_table_is_read_in_order_and_the_deciding_rule_is_named() -> None:
    names = [name for name, _ in RULES]
    assert names[0] == "duplicate" and names[-1] == "submission"
    # A copy of an unknown sender's mail is a copy first.
    decision = triage(facts(registered=False, earlier_copy_id=7))
    assert (decision.rule, decision.outcome, decision.duplicate_of_id) == (
        "duplicate",
        Outcome.DUPLICATE,
        7,
    )
    assert triage(facts()).rule == "submission"


def test_an_unknown_sender_with_a_spreadsheet_is_told_how_to_submit() -> None:
    decision = triage(facts(registered=False))
    assert decision.outcome is Outcome.UNKNOWN_SENDER
    assert decision.reply is MailKind.HOW_TO_SUBMIT
    assert decision.folder is Folder.REJECTED


@pytest.mark.parametrize(
    ("changes", "says", "never_says"),
    [
        # The bug: these two were recorded as "no spreadsheet attached".
        ({"can_reply": False}, "địa chỉ người gửi không dùng được", "không kèm bảng tính"),
        (
            {"replies": ReplyHistory(today=5)},
            "đã đủ số thư trả lời trong ngày",
            "không kèm bảng tính",
        ),
        ({"automatic": "Auto-Submitted: auto-replied"}, "thư tự động", "không kèm bảng tính"),
        ({"looks_like_submission": False}, "không kèm bảng tính", "đã gửi"),
    ],
)
def test_an_unanswered_unknown_sender_is_recorded_with_the_true_reason(
    changes: dict[str, object], says: str, never_says: str
) -> None:
    decision = triage(facts(registered=False, **changes))
    assert decision.outcome is Outcome.UNKNOWN_SENDER
    assert decision.reply is None
    assert says in decision.detail
    assert never_says not in decision.detail


def test_one_reply_policy_for_every_kind() -> None:
    policy = ReplyPolicy(per_sender_per_day=3)
    assert reply_refusal(MailKind.ACKNOWLEDGEMENT, ReplyHistory(today=2), policy) is None
    assert (
        reply_refusal(MailKind.ACKNOWLEDGEMENT, ReplyHistory(today=3), policy)
        is ReplyRefusal.DAILY_CAP
    )
    once = ReplyHistory(today=1, last_24h={MailKind.NOTHING_ATTACHED: 1})
    assert reply_refusal(MailKind.NOTHING_ATTACHED, once, policy) is ReplyRefusal.ALREADY_ANSWERED
    assert reply_refusal(MailKind.ACKNOWLEDGEMENT, once, policy) is None


def test_a_second_mail_with_nothing_attached_in_a_day_goes_to_a_person() -> None:
    first = triage(facts(mail=mail(attached=False)))
    assert (first.outcome, first.reply) == (Outcome.SUBMISSION, MailKind.NOTHING_ATTACHED)
    answered = ReplyHistory(today=1, last_24h={MailKind.NOTHING_ATTACHED: 1})
    again = triage(facts(mail=mail(attached=False), replies=answered))
    assert (again.rule, again.outcome) == ("nothing_attached_again", Outcome.CORRESPONDENCE)
    assert "cần người đọc" in again.detail


def test_forged_mail_from_a_unit_is_never_answered() -> None:
    decision = triage(facts(forged="DKIM không hợp lệ", automatic="x"))
    assert (decision.outcome, decision.reply) == (Outcome.SUSPICIOUS, None)


def test_too_large_mail_is_answered_with_the_limit_not_examined() -> None:
    decision = triage(facts(too_large=True, size=40 * 1024 * 1024))
    assert (decision.outcome, decision.reply) == (Outcome.TOO_LARGE, MailKind.TOO_LARGE)
    assert "40,0 MB" in decision.detail


def test_backscatter_is_bounded_for_all_unregistered_senders_together() -> None:
    policy = ReplyPolicy(per_sender_per_day=5, unregistered_per_hour=2, unregistered_per_day=3)
    fresh = triage(facts(registered=False, policy=policy))
    assert fresh.reply is MailKind.HOW_TO_SUBMIT
    hour = triage(
        facts(
            registered=False,
            policy=policy,
            unregistered_replies=UnregisteredReplies(last_hour=2, today=2),
        )
    )
    day = triage(
        facts(
            registered=False,
            policy=policy,
            unregistered_replies=UnregisteredReplies(last_hour=0, today=3),
        )
    )
    assert (hour.reply, day.reply) == (None, None)
    assert "trong một giờ" in hour.detail and "trong một ngày" in day.detail


def test_an_unregistered_sender_the_server_doubts_is_not_answered() -> None:
    decision = triage(facts(registered=False, unverified="SPF không hợp lệ"))
    assert decision.reply is None
    assert "SPF không hợp lệ" in decision.detail and "giả mạo" in decision.detail
