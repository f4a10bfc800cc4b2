"""The campaign file (`config/campaigns/*.toml`) loaded into `domain.campaign` and checked.

Loading checks the file as a whole and raises `CampaignError` with every problem, in Vietnamese,
because the operator who edits it reads these messages.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from config.errors import describe_toml_error, describe_validation_error
from domain.campaign import Campaign


class CampaignError(Exception):
    """The campaign file is wrong; `problems` says how, one Vietnamese sentence each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"Tệp chiến dịch {source} có {len(problems)} lỗi:\n{lines}")


def _semantic_problems(c: Campaign) -> list[str]:
    problems: list[str] = []
    try:
        ZoneInfo(c.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"Múi giờ '{c.timezone}' không tồn tại (dùng 'Asia/Ho_Chi_Minh').")
    for code, n in Counter(u.code for u in c.units).items():
        if n > 1:
            problems.append(f"Mã đơn vị '{code}' bị khai báo {n} lần.")
    owners: dict[str, list[str]] = {}
    for u in c.units:
        for addr in u.senders:
            owners.setdefault(addr, []).append(u.code)
    for addr, codes in owners.items():
        if len(codes) > 1:
            problems.append(
                f"Địa chỉ {addr} được khai báo cho nhiều đơn vị ({', '.join(codes)}): "
                "mỗi địa chỉ chỉ thuộc một đơn vị."
            )
    intake = c.department.intake_address.lower()
    if intake in owners:
        problems.append(f"Địa chỉ hộp thư tiếp nhận {intake} không được là địa chỉ của đơn vị.")
    known = {u.code for u in c.units}
    for code in c.allocation.units:
        if code not in known:
            problems.append(f"Bảng phân bổ có đơn vị '{code}' không có trong danh sách đơn vị.")
    if c.allocation.award not in c.awards:
        problems.append(f"Bảng phân bổ dùng hình thức '{c.allocation.award}' chưa được khai báo.")
    for label, attr in (("tập thể", "collectives"), ("cá nhân", "individuals")):
        summed = sum(getattr(n, attr) for n in c.allocation.units.values())
        stated = getattr(c.allocation.total, attr)
        if summed != stated:
            problems.append(
                f"Tổng phân bổ {label} là {summed}, khác tổng đã nêu {stated} "
                f"(chênh {summed - stated:+d})."
            )
    seen_phrases: dict[str, str] = {}
    for code, award in c.awards.items():
        if award.requires_award and award.requires_award not in c.awards:
            problems.append(
                f"Hình thức '{code}' yêu cầu hình thức '{award.requires_award}' chưa được khai báo."
            )
        if award.province_quota is None and code != c.allocation.award:
            problems.append(
                f"Hình thức '{code}' không có chỉ tiêu toàn tỉnh cũng không có bảng phân bổ."
            )
        for phrase in award.match_phrases:
            other = seen_phrases.setdefault(phrase, code)
            if other != code:
                problems.append(
                    f"Tên gọi '{phrase}' dùng cho cả hai hình thức '{other}' và '{code}'."
                )
    return problems


def parse_campaign(data: dict[str, object], source: str = "<dữ liệu>") -> Campaign:
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as err:
        raise CampaignError(source, describe_validation_error(err)) from None
    problems = _semantic_problems(campaign)
    if problems:
        raise CampaignError(source, problems)
    return campaign


def load_campaign(path: Path) -> Campaign:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignError(str(path), ["Không tìm thấy tệp."]) from None
    except tomllib.TOMLDecodeError as err:
        raise CampaignError(str(path), [describe_toml_error(err)]) from None
    return parse_campaign(data, str(path))
