"""Which reminders are due when: frozen times around the offsets, the deadline and midnight."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.campaign import Campaign
from domain.text import clean
from pipeline.remind import compose_reminder, due_reminders
from tests.conftest import vn
from tests.snapshots import make_snapshot, person

ERRORS = (
    "Đơn vị đề nghị 10 cá nhân tặng Bằng khen của Chủ tịch UBND tỉnh, vượt chỉ tiêu được phân bổ là 8.",
)


def snapshot(campaign: Campaign, now: datetime):  # type: ignore[no-untyped-def]
    return make_snapshot(
        campaign,
        now,
        {"SNV": ("rejected", [person("A")]), "STP": ("accepted", [person("B")])},
        ERRORS,
    )


def due(campaign: Campaign, now: datetime, sent: set[str] | None = None) -> list[str]:
    return [r.key for r in due_reminders(snapshot(campaign, now), sent or set(), now)]


def test_nothing_before_the_first_offset(campaign: Campaign) -> None:
    assert due(campaign, vn(18, 7, 59)) == []


def test_each_offset_reminds_every_unit_without_an_accepted_submission(campaign: Campaign) -> None:
    keys = due(campaign, vn(18, 8, 0))
    assert len(keys) == len(campaign.units) - 1  # STP is accepted
    assert "SNV/7d" in keys and "TP-LAICHAU/7d" in keys
    assert not any(k.startswith("STP/") for k in keys)


def test_a_reminder_already_sent_is_not_sent_again(campaign: Campaign) -> None:
    first = set(due(campaign, vn(22, 8, 5)))
    assert due(campaign, vn(22, 15), first) == []


def test_after_an_outage_only_the_latest_useful_reminder_goes_out(campaign: Campaign) -> None:
    # Down from the 17th to the morning of the 24th: the 7- and 3-day reminders were missed.
    keys = due(campaign, vn(24, 9))
    assert keys and all(k.endswith("/1d") for k in keys)


def test_last_morning_and_midnight_in_vietnam_time(campaign: Campaign) -> None:
    assert all(k.endswith("/0d") for k in due(campaign, vn(25, 23, 59)))
    assert due(campaign, vn(26, 0, 0)) == []  # the deadline has passed: no more automatic mail
    # 17:00 UTC on the 25th is already midnight of the 26th in Vietnam.
    assert due(campaign, datetime(2021, 5, 25, 17, 0, tzinfo=UTC)) == []
    # 00:59 UTC on the 24th is 07:59 in Vietnam: the 1-day reminder (08:00) is not due yet.
    assert all(k.endswith("/3d") for k in due(campaign, datetime(2021, 5, 24, 0, 59, tzinfo=UTC)))


def test_a_rejected_unit_is_told_what_is_still_wrong(campaign: Campaign) -> None:
    now = vn(24, 8)
    snap = snapshot(campaign, now)
    reminder = next(r for r in due_reminders(snap, set(), now) if r.entry.unit.code == "SNV")
    msg = compose_reminder(reminder, snap, "Sở Nội vụ", now)
    text = clean(msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]
    assert "Còn 1 ngày đến hạn gửi hồ sơ đề nghị khen thưởng: 23:59 ngày 25/05/2021" in text
    assert ERRORS[0] in text
    assert "3 tập thể, 8 cá nhân" in text
    assert "pxdcq.sonv@laichau.gov.vn" in text
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["To"].addresses[0].addr_spec == "vanphong.snv@laichau.gov.vn"
