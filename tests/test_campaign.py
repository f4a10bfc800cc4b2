import tomllib
from datetime import datetime
from typing import Any

import pytest

from config.campaign import CampaignError, parse_campaign
from domain.campaign import Campaign
from tests.conftest import CAMPAIGN_FILE, VN


def sample() -> dict[str, Any]:
    return tomllib.loads(CAMPAIGN_FILE.read_text(encoding="utf-8"))


def test_sample_campaign_matches_the_plan(campaign: Campaign) -> None:
    localities = [u for u in campaign.units if u.kind == "locality"]
    assert len(localities) == 8
    assert len(campaign.units) - len(localities) >= 15
    allocation = campaign.allocation
    assert sum(c.collectives for c in allocation.units.values()) == 89
    assert sum(c.individuals for c in allocation.units.values()) == 209
    assert allocation.illustrative
    pm = campaign.awards["pm"].province_quota
    assert pm is not None
    assert (pm.collectives, pm.individuals) == (3, 3)


def test_before_the_26th_excludes_the_26th(campaign: Campaign) -> None:
    assert campaign.closes_at == datetime(2021, 5, 26, 0, 0, tzinfo=VN)
    assert "23:59 ngày 25/05/2021" in campaign.last_moment_text


def test_including_the_stated_day_moves_the_deadline() -> None:
    data = sample()
    data["deadline"]["includes_date"] = True
    assert parse_campaign(data).closes_at == datetime(2021, 5, 27, 0, 0, tzinfo=VN)


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(CampaignError) as caught:
        parse_campaign(data)
    return caught.value.problems


def test_unknown_unit_in_allocation_is_named() -> None:
    data = sample()
    data["allocation"]["units"]["H-KHONGCO"] = {"collectives": 0, "individuals": 0}
    assert any(
        "H-KHONGCO" in p and "không có trong danh sách đơn vị" in p for p in problems_of(data)
    )


def test_totals_that_do_not_add_up_say_by_how_much() -> None:
    data = sample()
    data["allocation"]["units"]["SNV"] = {"collectives": 4, "individuals": 8}
    problems = problems_of(data)
    assert any("Tổng phân bổ tập thể là 90, khác tổng đã nêu 89 (chênh +1)" in p for p in problems)


def test_an_address_shared_by_two_units_is_refused() -> None:
    data = sample()
    data["units"][1]["senders"] = [data["units"][0]["senders"][0].upper()]
    assert any("được khai báo cho nhiều đơn vị" in p for p in problems_of(data))


def test_schema_errors_are_reported_in_vietnamese() -> None:
    data = sample()
    del data["deadline"]["late_policy"]
    data["deadline"]["late"] = "reject"
    problems = problems_of(data)
    assert "Thiếu mục 'deadline.late_policy'." in problems
    assert any("deadline.late" in p and "không được hỗ trợ" in p for p in problems)
