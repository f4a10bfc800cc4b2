"""The annotated copy of a unit's list: problem cells marked, a first sheet of linked problems."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from io import BytesIO

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from domain.campaign import Campaign
from domain.model import Attachment, Extraction, Finding
from pipeline.annotate import PROBLEMS_SHEET, annotated_copies
from pipeline.extract import extract
from pipeline.validate import validate
from samples.factories import PROVINCIAL, XLSX
from tests.corpus.cases import ods

Rows = list[list[object]]
UNKNOWN_AWARD = "Giấy khen của Chủ tịch UBND huyện"
ROWS: Rows = [
    ["DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG"],
    [],
    ["STT", "Họ và tên", "Năm sinh", "Hình thức khen thưởng"],
    ["II. CÁ NHÂN"],
    [1, "Lò Văn Tám", 1980, PROVINCIAL],
    [2, "Lò Thị Chín", "năm 80", UNKNOWN_AWARD],
    [3, "Lò Văn Tám", 1980, PROVINCIAL],
]


def unit_workbook(rows: Rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)
    ws.title = "Cá nhân"
    for row in rows:
        ws.append(row)
    ws.merge_cells("A1:D1")
    ws.column_dimensions["B"].width = 33
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def check(
    campaign: Campaign, name: str, payload: bytes
) -> tuple[Extraction, Sequence[Finding], list[Attachment]]:
    attachment = Attachment(name, XLSX, payload)
    extraction = extract([attachment], campaign)
    unit = campaign.units[0]
    findings = validate(extraction, unit, campaign, campaign.closes_at - timedelta(days=1)).findings
    copies = annotated_copies(extraction.lists_read, findings)
    return extraction, findings, [Attachment(c.filename, XLSX, c.payload) for c in copies]


def comment_of(ws: Worksheet, ref: str) -> str:
    comment = ws[ref].comment
    return comment.text if comment is not None else ""


def test_problem_cells_are_filled_and_commented_on_the_units_own_workbook(
    campaign: Campaign,
) -> None:
    _, findings, copies = check(campaign, "Danh sách.xlsx", unit_workbook(ROWS))
    assert [c.filename for c in copies] == ["Danh sách (đánh dấu lỗi).xlsx"]
    book = load_workbook(BytesIO(copies[0].payload))
    assert book.sheetnames == [PROBLEMS_SHEET, "Cá nhân"]
    sheet = book["Cá nhân"]
    # The unit's own layout is kept.
    assert "A1:D1" in {str(r) for r in sheet.merged_cells.ranges}
    assert sheet.column_dimensions["B"].width == 33
    # The unknown award and the bad birth year are marked where they are.
    assert sheet["D6"].fill.fgColor.rgb.endswith("FFC7CE")
    assert UNKNOWN_AWARD in comment_of(sheet, "D6")
    assert "Cách sửa:" in comment_of(sheet, "D6")
    assert sheet["C6"].fill.fgColor.rgb.endswith("FFEB9C")  # a note, not an error
    # The repeated nominee is marked across its row.
    assert sheet["D7"].fill.fgColor.rgb.endswith("FFC7CE")
    assert "Lò Văn Tám" in comment_of(sheet, "B7")  # on the name, not on the row's number
    # The first sheet lists every problem inside the list, linked to its cell, errors first.
    problems = book[PROBLEMS_SHEET]
    listed = [
        (problems.cell(r, 2).value, problems.cell(r, 4).value, problems.cell(r, 4).hyperlink)
        for r in range(5, problems.max_row + 1)
    ]
    inside = [f for f in findings if f.location and f.location.sheet]
    assert len(listed) == len(inside) >= 3
    assert [level for level, _, _ in listed] == sorted(
        (level for level, _, _ in listed), key=lambda v: v != "Lỗi"
    )
    by_ref = {ref: link for _, ref, link in listed}
    assert by_ref["D6"] is not None and by_ref["D6"].location == "'Cá nhân'!D6"
    assert by_ref["B7"] is not None  # the repeated nominee: linked to the name
    # "Giá trị đã ghi" says what the unit wrote in each cell pointed at.
    written = {
        problems.cell(r, 4).value: problems.cell(r, 6).value for r in range(5, problems.max_row + 1)
    }
    assert written["D6"] == sheet["D6"].value and written["B7"] == "Lò Văn Tám"


def test_a_fixed_copy_sent_back_is_read_without_its_problems_sheet(campaign: Campaign) -> None:
    _, _, copies = check(campaign, "Danh sách.xlsx", unit_workbook(ROWS))
    book = load_workbook(BytesIO(copies[0].payload))
    sheet = book["Cá nhân"]
    sheet["C6"], sheet["D6"] = 1981, PROVINCIAL
    sheet.delete_rows(7)
    fixed = BytesIO()
    book.save(fixed)
    extraction, _, _ = check(campaign, "Danh sách (đánh dấu lỗi).xlsx", fixed.getvalue())
    assert [n.name for n in extraction.nominees] == ["Lò Văn Tám", "Lò Thị Chín"]
    assert extraction.findings == []


def test_an_ods_list_comes_back_as_xlsx_with_the_cells_where_the_unit_had_them(
    campaign: Campaign,
) -> None:
    shifted = [[None, *row] for row in ROWS]  # the table starts in column B
    _, _, copies = check(campaign, "Danh sách.ods", ods(shifted, title="Cá nhân"))
    assert [c.filename for c in copies] == ["Danh sách (đánh dấu lỗi).xlsx"]
    book = load_workbook(BytesIO(copies[0].payload))
    sheet = book["Cá nhân"]
    assert sheet["C6"].value == "Lò Thị Chín"
    assert UNKNOWN_AWARD in comment_of(sheet, "E6")
    problems = book[PROBLEMS_SHEET]
    assert "E6" in [problems.cell(r, 4).value for r in range(5, problems.max_row + 1)]


def test_text_that_looks_like_a_formula_stays_text_in_a_rebuilt_copy(campaign: Campaign) -> None:
    rows = [*ROWS, [4, '=HYPERLINK("http://x")', 1980, "?"]]
    _, _, copies = check(campaign, "Danh sách.ods", ods(rows, title="Cá nhân"))
    sheet = load_workbook(BytesIO(copies[0].payload))["Cá nhân"]
    assert sheet["B8"].data_type == "s"


def test_no_copy_for_a_clean_or_only_noted_list_or_a_file_that_could_not_be_read(
    campaign: Campaign,
) -> None:
    clean = [row for row in ROWS if row[:1] not in ([2], [3])]
    extraction = extract([Attachment("Danh sách.xlsx", XLSX, unit_workbook(clean))], campaign)
    assert extraction.findings == []
    assert annotated_copies(extraction.lists_read, extraction.findings) == []
    warned = [*clean[:-1], [1, "Lò Văn Tám", "năm 80", PROVINCIAL]]
    extraction = extract([Attachment("Danh sách.xlsx", XLSX, unit_workbook(warned))], campaign)
    assert [f.code for f in extraction.findings] == ["BIRTH_YEAR_INVALID"]  # a note, no error
    assert annotated_copies(extraction.lists_read, extraction.findings) == []
    broken = extract([Attachment("Danh sách.xlsx", XLSX, b"PK\x03\x04 broken")], campaign)
    assert [f.code for f in broken.findings] == ["LIST_UNREADABLE"]
    assert annotated_copies(broken.lists_read, broken.findings) == []
