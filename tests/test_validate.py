"""The rules over plain data: no files, no servers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from domain.campaign import Campaign
from domain.kinds import DocumentKind, NomineeKind, Severity
from domain.model import Document, Extraction, Location, Nominee
from pipeline.validate import Verdict, validate
from tests.conftest import vn

ON_TIME = vn(20)
COLLECTIVE, INDIVIDUAL = NomineeKind.COLLECTIVE, NomineeKind.INDIVIDUAL


def nominee(
    name: str,
    kind: NomineeKind = INDIVIDUAL,
    awards: Iterable[str] = ("provincial",),
    row: int = 5,
    turnout: float | None = None,
    summary: str = "Thành tích",
) -> Nominee:
    return Nominee(
        kind=kind,
        name=name,
        awards=frozenset(awards),
        location=Location("DS.xlsx", "Sheet1", row),
        turnout_percent=turnout,
        summary=summary,
    )


def doc(name: str, kind: DocumentKind) -> Document:
    return Document(filename=name, kind=kind, content_type="application/pdf", size=10, sha256=name)


BASIC_DOCS = [
    doc("Tờ trình.pdf", DocumentKind.TO_TRINH),
    doc("Biên bản.pdf", DocumentKind.BIEN_BAN),
]


def check(
    campaign: Campaign,
    nominees: list[Nominee],
    documents: list[Document] | None = None,
    unit: str = "SNV",
    when: datetime = ON_TIME,
) -> Verdict:
    extraction = Extraction(
        nominees=nominees, documents=BASIC_DOCS if documents is None else documents
    )
    return validate(extraction, campaign.units_by_code[unit], campaign, when)


def codes(verdict: Verdict) -> list[str]:
    return [f.code for f in verdict.findings]


def test_a_complete_submission_within_allocation_is_accepted(campaign: Campaign) -> None:
    verdict = check(
        campaign,
        [
            nominee("Phòng Xây dựng chính quyền", COLLECTIVE),
            nominee("Trần Thị An"),
            nominee("Lê Văn Bình"),
        ],
    )
    assert verdict.accepted
    assert verdict.findings == ()
    assert "within_allocation" in verdict.rules_run


def test_over_allocation_says_by_how_many(campaign: Campaign) -> None:
    allowed = campaign.allocation_for("SNV").collectives
    verdict = check(
        campaign, [nominee(f"Phòng {i}", COLLECTIVE, row=i) for i in range(allowed + 2)]
    )
    assert not verdict.accepted
    over = [f for f in verdict.findings if f.code == "QUOTA_EXCEEDED"]
    assert len(over) == 1
    assert f"{allowed + 2} tập thể" in over[0].message
    assert f"Bớt 2 tập thể để số đề nghị không quá {allowed}" in over[0].fix


def test_same_person_listed_twice_is_a_duplicate_even_with_other_case_and_tone_placement(
    campaign: Campaign,
) -> None:
    verdict = check(campaign, [nominee("Hoàng Thị Hoà", row=7), nominee("HOÀNG THỊ HÒA", row=9)])
    duplicate = [f for f in verdict.findings if f.code == "DUPLICATE_NOMINEE"]
    assert len(duplicate) == 1
    assert duplicate[0].location and duplicate[0].location.row == 9
    assert "dòng 7" in duplicate[0].message


def test_a_duplicate_on_another_sheet_names_that_sheet(campaign: Campaign) -> None:
    first = nominee("Lò Văn Bình", row=10)
    again = replace(nominee("Lò Văn Bình", row=4), location=Location("DS.xlsx", "Đợt 2", 4))
    [duplicate] = [
        f for f in check(campaign, [first, again]).findings if f.code == "DUPLICATE_NOMINEE"
    ]
    assert "trùng với trang tính Sheet1, dòng 10" in duplicate.message


def test_pm_and_provincial_rows_for_one_person_are_not_duplicates(campaign: Campaign) -> None:
    verdict = check(
        campaign,
        [nominee("Lò Thị Mai", row=5), nominee("Lò Thị Mai", awards=["pm"], row=6)],
        BASIC_DOCS + [doc("Báo cáo thành tích Lò Thị Mai.pdf", DocumentKind.BAO_CAO_THANH_TICH)],
    )
    assert codes(verdict) == []


def test_pm_nominee_must_also_be_proposed_for_the_provincial_award(campaign: Campaign) -> None:
    verdict = check(
        campaign,
        [nominee("Đặng Văn Quân", awards=["pm"])],
        BASIC_DOCS + [doc("BCTT Dang Van Quan.pdf", DocumentKind.BAO_CAO_THANH_TICH)],
    )
    assert codes(verdict) == ["AWARD_PREREQUISITE_MISSING"]


def test_each_pm_nominee_needs_an_achievement_report(campaign: Campaign) -> None:
    pm = ["pm", "provincial"]
    nominees = [nominee("Lò Thị Mai", awards=pm, row=5), nominee("Vàng A Dế", awards=pm, row=6)]
    reports = [doc("Báo cáo thành tích Lò Thị Mai.docx", DocumentKind.BAO_CAO_THANH_TICH)]
    verdict = check(campaign, nominees, BASIC_DOCS + reports)
    missing = [f for f in verdict.findings if f.code == "NOMINEE_DOCUMENT_MISSING"]
    assert [f.location.row for f in missing if f.location] == [6]
    assert "Vàng A Dế" in missing[0].message
    assert "Báo cáo thành tích" in missing[0].message


def test_an_unnamed_report_covers_one_nominee(campaign: Campaign) -> None:
    pm = ["pm", "provincial"]
    verdict = check(
        campaign,
        [nominee("Lò Thị Mai", awards=pm)],
        BASIC_DOCS + [doc("Bao cao thanh tich.pdf", DocumentKind.BAO_CAO_THANH_TICH)],
    )
    assert codes(verdict) == []


def test_letter_and_minutes_are_required(campaign: Campaign) -> None:
    verdict = check(campaign, [nominee("Trần Thị An")], documents=[])
    missing = [f for f in verdict.findings if f.code == "DOCUMENT_MISSING"]
    assert sorted(f.message for f in missing) == [
        "Hồ sơ đề nghị Bằng khen của Chủ tịch UBND tỉnh thiếu Biên bản họp Hội đồng Thi đua – Khen thưởng.",
        "Hồ sơ đề nghị Bằng khen của Chủ tịch UBND tỉnh thiếu Tờ trình.",
    ]


def test_summary_from_the_list_or_a_file(campaign: Campaign) -> None:
    no_summary = nominee("Trần Thị An", summary="")
    assert codes(check(campaign, [no_summary])) == ["NOMINEE_DOCUMENT_MISSING"]
    with_file = BASIC_DOCS + [doc("Tóm tắt thành tích.docx", DocumentKind.TOM_TAT_THANH_TICH)]
    assert codes(check(campaign, [no_summary], with_file)) == []


def test_turnout_thresholds_for_localities(campaign: Campaign) -> None:
    nominees = [
        nominee("UBND xã A", COLLECTIVE, turnout=99.0, row=5),
        nominee("UBND xã B", COLLECTIVE, turnout=96.5, row=6),
        nominee("UBND xã C", COLLECTIVE, awards=["pm", "provincial"], turnout=97.5, row=7),
        nominee("Phòng Nội vụ huyện", COLLECTIVE, row=8),
    ]
    reports = BASIC_DOCS + [
        doc("Báo cáo thành tích UBND xã C.pdf", DocumentKind.BAO_CAO_THANH_TICH)
    ]
    verdict = check(campaign, nominees, reports, unit="H-TAMDUONG")
    found = [(f.code, f.location.row if f.location else None) for f in verdict.findings]
    assert ("TURNOUT_BELOW_THRESHOLD", 6) in found
    assert ("TURNOUT_BELOW_THRESHOLD", 7) in found  # 97.5 % is enough for the province, not the PM
    assert ("TURNOUT_MISSING", 8) in found
    below = next(f for f in verdict.findings if f.code == "TURNOUT_BELOW_THRESHOLD")
    assert "96,5%" in below.message and "97%" in below.message


def test_turnout_is_not_asked_of_provincial_bodies(campaign: Campaign) -> None:
    assert codes(check(campaign, [nominee("Phòng Tham mưu", COLLECTIVE)], unit="CAT")) == []


def test_late_submission_follows_the_late_policy(campaign: Campaign) -> None:
    last_minute = check(campaign, [nominee("Trần Thị An")], when=vn(25, 23, 59))
    assert codes(last_minute) == []
    late = check(campaign, [nominee("Trần Thị An")], when=vn(26, 0, 0))
    assert codes(late) == ["LATE_SUBMISSION"]
    assert late.findings[0].severity is Severity.WARNING  # the sample campaign flags late ones
    assert late.accepted
    strict = campaign.model_copy(
        update={"deadline": campaign.deadline.model_copy(update={"late_policy": "reject"})}
    )
    rejected = validate(
        Extraction(nominees=[nominee("Trần Thị An")], documents=BASIC_DOCS),
        campaign.units_by_code["SNV"],
        strict,
        vn(26, 8),
    )
    assert not rejected.accepted
    assert "00:00 ngày 26/05/2021" not in rejected.findings[0].message
    assert "08:00 ngày 26/05/2021" in rejected.findings[0].message


def test_errors_come_before_warnings(campaign: Campaign) -> None:
    verdict = check(
        campaign,
        [
            nominee("UBND xã Z", COLLECTIVE, row=3),
            nominee("UBND xã Y", COLLECTIVE, turnout=90, row=4),
        ],
        unit="H-TAMDUONG",
    )
    severities = [f.severity for f in verdict.findings]
    assert severities == sorted(severities, key=lambda s: s is Severity.WARNING)
    assert severities[0] is Severity.ERROR
