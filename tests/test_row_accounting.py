"""No row left behind: every nominee row of a generated list comes back as exactly one nominee,
and every other non-empty row as exactly one structural role or one finding on that row.

Lists are built in the layouts the corpus has (title block, numbering row, sections, sub-groups,
blank lines, totals, signature block), with names drawn from the province's family names,
including those that fold like labels: Tòng ("tong" as in "Tổng cộng"), Tổng, Công, Cộng.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.campaign import load_campaign
from domain.kinds import RowRole
from domain.model import Attachment
from pipeline.extract import read_nomination_list
from samples.factories import PROVINCIAL, XLSX
from tests.conftest import CAMPAIGN_FILE
from tests.corpus.cases import HEADER, SUMMARY, xlsx

CAMPAIGN = load_campaign(CAMPAIGN_FILE)
FAMILY = (
    "Tòng", "Tổng", "Tô", "Công", "Cộng", "Lò", "Lường", "Vàng", "Giàng", "Hoàng", "Tổ", "Tẩn",
    "Sùng", "Pờ", "Chu", "Ly", "Lù", "Nguyễn", "Trần", "Đèo", "Cầm",
)  # fmt: skip
MIDDLE = ("Văn", "Thị", "Công", "Cộng", "Tổng", "A", "Seo", "Quang")
GIVEN = ("Tùng", "Số", "Cộng", "Mai", "Chứ", "Páo", "Lan", "Dín", "Sơn", "Tổng", "Hòa")

name_of = st.builds(
    lambda f, m, g: f"{f} {m} {g}",
    st.sampled_from(FAMILY),
    st.sampled_from(MIDDLE),
    st.sampled_from(GIVEN),
)


@dataclass
class Generated:
    rows: list[list[object]]
    nominee_rows: dict[int, str]  # 1-based row -> name


@st.composite
def lists(draw: st.DrawFn) -> Generated:
    rows: list[list[object]] = []
    nominees: dict[int, str] = {}
    if draw(st.booleans()):
        rows += [["UBND HUYỆN THAN UYÊN"], ["DANH SÁCH ĐỀ NGHỊ TẶNG BẰNG KHEN"], []]
    rows.append(list(HEADER))
    if draw(st.booleans()):
        rows.append([1, 2, 3, 4, 5, 6])
    number = 0
    sections: list[str | None] = draw(st.sampled_from([["II. CÁ NHÂN"], ["CÁ NHÂN"], [None]]))
    for section in sections:
        if section:
            rows.append([section])
        for group in range(draw(st.integers(1, 3))):
            if draw(st.booleans()):
                rows.append([f"{group + 1}. Phòng {group + 1}"])
            for _ in range(draw(st.integers(1, 6))):
                number += 1
                name = draw(name_of)
                rows.append([number, name, 1980, "Chuyên viên", PROVINCIAL, SUMMARY])
                nominees[len(rows)] = name
            if draw(st.booleans()):
                rows.append([])
    if draw(st.booleans()):
        rows.append([f"Tổng cộng: {number} cá nhân"])
    if draw(st.booleans()):
        rows += [[], [None, None, None, "Người lập biểu", None, "Thủ trưởng đơn vị"]]
    return Generated(rows, nominees)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lists())
def test_every_row_of_a_generated_list_is_accounted_for(generated: Generated) -> None:
    attachment = Attachment("DS.xlsx", XLSX, xlsx({"Cá nhân": generated.rows}))
    nominees, findings, read = read_nomination_list(attachment, CAMPAIGN)
    roles = read.rows["Cá nhân"]
    by_row = {n.location.row: n.name for n in nominees}
    # Every nominee row comes back as exactly that nominee.
    assert by_row == generated.nominee_rows
    assert len(nominees) == len(generated.nominee_rows)
    non_empty = {
        i for i, row in enumerate(generated.rows, 1) if any(c not in (None, "") for c in row)
    }
    # Every non-empty row has exactly one role; none is dropped.
    assert set(roles) == non_empty
    assert {r for r, role in roles.items() if role is RowRole.NOMINEE} == set(
        generated.nominee_rows
    )
    flagged = {f.location.row for f in findings if f.location and f.location.row}
    for row, role in roles.items():
        if role in (RowRole.UNRECOGNISED, RowRole.NOMINEE_WITH_FAULT):
            assert row in flagged  # a row not read says so
    assert not any(f.code == "ROW_UNRECOGNISED" for f in findings)  # the layouts are all known


def test_a_totals_line_is_known_by_its_shape_not_by_a_name() -> None:
    from pipeline.layout import is_totals_row

    assert is_totals_row(["Tổng cộng: 05 tập thể, 12 cá nhân"])
    assert is_totals_row(["Tổng cộng", None, None, 5, 12])
    assert is_totals_row(["Cộng:", "7"])
    assert not is_totals_row([6, "Tòng Công Tùng", 1980, "Chuyên viên", PROVINCIAL])
    assert not is_totals_row(["Tổng Văn Số"])


def test_a_row_inside_the_table_that_is_nobody_is_quoted_not_dropped() -> None:
    rows: list[list[object]] = [
        list(HEADER),
        [1, "Lò Văn Bình", 1980, "Chuyên viên", PROVINCIAL, SUMMARY],
        [None, None, 1979, "Phó trưởng phòng", None, "Hoàn thành xuất sắc"],
        [2, "Tòng Công Tùng", 1981, "Chuyên viên", PROVINCIAL, SUMMARY],
    ]
    nominees, findings, read = read_nomination_list(
        Attachment("DS.xlsx", XLSX, xlsx({"Cá nhân": rows})), CAMPAIGN
    )
    assert [n.name for n in nominees] == ["Lò Văn Bình", "Tòng Công Tùng"]
    [quoted] = [f for f in findings if f.code == "ROW_UNRECOGNISED"]
    assert quoted.location is not None and quoted.location.row == 3
    assert "Phó trưởng phòng" in quoted.message and "Cá nhân" in quoted.message
    assert read.rows["Cá nhân"][3] is RowRole.UNRECOGNISED


def test_a_sheet_with_a_table_but_no_name_column_is_an_error_naming_it() -> None:
    people_without_names: list[list[object]] = [
        ["STT", "Giới tính", "Ngày sinh", "Chức vụ", "Hình thức khen thưởng"],
        [1, "Nam", "12/03/1979", "Chuyên viên", PROVINCIAL],
        [2, "Nữ", "01/01/1985", "Kế toán", PROVINCIAL],
    ]
    collectives: list[list[object]] = [
        ["STT", "Tên tập thể", "Hình thức khen thưởng", "Tóm tắt thành tích"],
        [1, "Phòng Tổng hợp", PROVINCIAL, SUMMARY],
    ]
    payload = xlsx({"Tập thể": collectives, "Cá nhân": people_without_names})
    nominees, findings, _ = read_nomination_list(Attachment("DS.xlsx", XLSX, payload), CAMPAIGN)
    assert [n.name for n in nominees] == ["Phòng Tổng hợp"]
    [missing] = [f for f in findings if f.code == "NAME_COLUMN_NOT_FOUND"]
    assert missing.severity == "error"
    assert "Cá nhân" in missing.message and '"Giới tính"' in missing.message


def test_every_row_of_every_corpus_list_is_accounted_for() -> None:
    """The corpus's lists, as read from its mails: the non-empty rows of every sheet that holds a
    list, and the rows with a role, are the same rows."""
    from pipeline.extract import extract
    from pipeline.parse import parse_message
    from pipeline.unpack import unpack
    from tests.corpus.cases import all_cases

    generated = accounted = 0
    for case in all_cases():
        mail = parse_message(case.build(f"<{case.name}@corpus.test>"))
        extraction = extract(unpack(mail.attachments).attachments, CAMPAIGN)
        for read in extraction.lists_read:
            for sheet in read.sheets:
                roles = read.rows.get(sheet.name, {})
                if not roles:
                    continue  # no list on this sheet (an instructions sheet, say)
                rows = {
                    i
                    for i, row in enumerate(sheet.rows, 1)
                    if any(str(c or "").strip() for c in row)
                }
                assert set(roles) == rows, (case.name, sheet.name, sorted(rows - set(roles)))
                generated += len(rows)
                accounted += len(roles)
    print(f"\ncorpus rows: {generated} non-empty rows in lists, {accounted} accounted for")
    assert generated == accounted > 0


def test_a_title_asking_for_one_award_over_rows_naming_another_says_which_was_understood() -> None:
    rows: list[list[object]] = [
        ["DANH SÁCH ĐỀ NGHỊ TẶNG BẰNG KHEN CỦA THỦ TƯỚNG CHÍNH PHỦ"],
        list(HEADER),
        [1, "Lò Văn Bình", 1980, "Chuyên viên", PROVINCIAL, SUMMARY],
    ]
    nominees, findings, _ = read_nomination_list(
        Attachment("DS.xlsx", XLSX, xlsx({"Cá nhân": rows})), CAMPAIGN
    )
    assert [sorted(n.awards) for n in nominees] == [["provincial"]]
    [differs] = [f for f in findings if f.code == "AWARD_TITLE_DIFFERS"]
    assert "Thủ tướng" in differs.message and "ghi nhận theo cột" in differs.message
