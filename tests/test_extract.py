"""Reading nomination lists from workbooks the tests build the way units' offices make them."""

from __future__ import annotations

import unicodedata
from io import BytesIO

import pytest
from openpyxl import Workbook

from domain.campaign import Campaign
from domain.kinds import DocumentKind, NomineeKind
from domain.model import Attachment, Extraction
from pipeline.documents import classify_document, classify_text
from pipeline.extract import extract
from pipeline.layout import parse_birth_year, parse_percent
from samples.factories import PM, PROVINCIAL, XLSX
from tests.corpus.cases import BIEN_BAN_TEXT, FILES, TO_TRINH_TEXT, docx

Rows = list[list[object]]


def xlsx(*sheets: tuple[str, Rows], merge_title: bool = True) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if merge_title and len(rows) > 2:
            ws.merge_cells("A1:C1")
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def read(campaign: Campaign, payload: bytes, name: str = "Danh sách.xlsx") -> Extraction:
    return extract([Attachment(name, XLSX, payload)], campaign)


TITLE: Rows = [
    ["UBND HUYỆN TAM ĐƯỜNG", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
    [None, None, None, "Độc lập - Tự do - Hạnh phúc"],
    ["DANH SÁCH đề nghị khen thưởng công tác bầu cử"],
    [],
]


def test_sections_header_with_line_breaks_numbering_row_totals_and_signature(
    campaign: Campaign,
) -> None:
    rows = TITLE + [
        [
            "STT",
            "Họ và tên /\nTên tập thể",
            "Năm\nsinh",
            "Chức vụ",
            "Hình thức\nkhen thưởng",
            "Tỷ lệ cử tri\nđi bầu",
        ],
        [1, 2, 3, 4, 5, 6],
        ["I. TẬP THỂ"],
        [1, "UBND xã Bản Giang", None, None, PROVINCIAL, "99,8%"],
        [2, "UBND xã Hồ Thầu", None, None, "BK UBND tỉnh", 0.991],
        [],
        ["II. CÁ NHÂN"],
        [1, "NGUYỄN VĂN AN", 1978, "Chủ tịch UBND xã", f"{PROVINCIAL}, đề nghị {PM}", None],
        [2, "Thượng tá Lò Văn Bình", "12/03/1980", "Trưởng phòng", PROVINCIAL, None],
        [None, "Tổng cộng: 02 tập thể, 02 cá nhân"],
        [],
        [None, "NGƯỜI LẬP BIỂU", None, "CHỦ TỊCH"],
        [None, "Trần Văn Ký"],
    ]
    result = read(campaign, xlsx(("Sheet1", rows)))
    assert result.findings == []
    got = [
        (n.kind, n.name, sorted(n.awards), n.birth_year, n.turnout_percent) for n in result.nominees
    ]
    assert got == [
        (NomineeKind.COLLECTIVE, "UBND xã Bản Giang", ["provincial"], None, 99.8),
        (NomineeKind.COLLECTIVE, "UBND xã Hồ Thầu", ["provincial"], None, 99.1),
        (NomineeKind.INDIVIDUAL, "NGUYỄN VĂN AN", ["pm", "provincial"], 1978, None),
        (NomineeKind.INDIVIDUAL, "Thượng tá Lò Văn Bình", ["provincial"], 1980, None),
    ]
    assert result.nominees[0].location.row == 8
    assert result.nominees[0].location.sheet == "Sheet1"


def test_two_sheets_headers_without_diacritics_and_columns_in_any_order(campaign: Campaign) -> None:
    collectives = TITLE + [
        ["Ten tap the", "STT", "Hinh thuc khen thuong"],
        ["Phòng Nội vụ", 1, PROVINCIAL],
    ]
    individuals = TITLE + [
        ["HO VA TEN", "CHUC VU", "HINH THUC"],
        ["Phạm Thị Lan", "Chuyên viên", PROVINCIAL],
    ]
    result = read(campaign, xlsx(("Tap the", collectives), ("Ca nhan", individuals)))
    assert result.findings == []
    assert [(n.kind, n.name, n.position) for n in result.nominees] == [
        (NomineeKind.COLLECTIVE, "Phòng Nội vụ", ""),
        (NomineeKind.INDIVIDUAL, "Phạm Thị Lan", "Chuyên viên"),
    ]


def test_kind_column_and_birth_split_into_nam_nu(campaign: Campaign) -> None:
    rows = TITLE + [
        ["STT", "Tên tập thể, cá nhân", "Loại", "Năm sinh", None, "Hình thức khen thưởng"],
        [None, None, None, "Nam", "Nữ", None],
        [1, "Văn phòng UBND huyện", "Tập thể", None, None, PROVINCIAL],
        [2, "Lò Thị Mai", "Cá nhân", None, 1985, PROVINCIAL],
        [3, "Vàng A Dế", "CN", 1979, None, PROVINCIAL],
    ]
    result = read(campaign, xlsx(("DS", rows)))
    assert result.findings == []
    got = [(n.kind, n.birth_year, n.gender) for n in result.nominees]
    assert got == [
        (NomineeKind.COLLECTIVE, None, ""),
        (NomineeKind.INDIVIDUAL, 1985, "Nữ"),
        (NomineeKind.INDIVIDUAL, 1979, "Nam"),
    ]


def test_award_taken_from_the_title_when_the_list_has_no_award_column(campaign: Campaign) -> None:
    rows: Rows = [
        ["DANH SÁCH CÁ NHÂN ĐỀ NGHỊ TẶNG BẰNG KHEN CỦA CHỦ TỊCH UBND TỈNH"],
        [],
        ["STT", "Họ và tên", "Chức vụ"],
        [1, "Lê Văn Hùng", "Phó phòng"],
    ]
    result = read(campaign, xlsx(("Cá nhân", rows)))
    assert result.findings == []
    assert result.nominees[0].awards == frozenset({"provincial"})
    assert result.nominees[0].kind is NomineeKind.INDIVIDUAL


def test_decomposed_unicode_is_stored_as_nfc(campaign: Campaign) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hường")
    rows: Rows = [["STT", "Họ và tên", "Hình thức khen thưởng"], [1, nfd, PROVINCIAL]]
    result = read(campaign, xlsx(("Cá nhân", rows), merge_title=False))
    assert result.nominees[0].name == "Nguyễn Thị Hường"
    assert unicodedata.is_normalized("NFC", result.nominees[0].name)


def codes(result: Extraction) -> list[str]:
    return [f.code for f in result.findings]


def test_row_problems_point_at_the_cell(campaign: Campaign) -> None:
    rows: Rows = [
        ["STT", "Họ và tên", "Năm sinh", "Hình thức khen thưởng"],
        ["I. TẬP THỂ"],
        [1, "UBND xã Nậm Loỏng", None, "Giấy khen của Chủ tịch UBND huyện"],
        [2, None, None, PROVINCIAL],
        ["II. CÁ NHÂN"],
        [1, "Lò Văn Tám", "năm 80", PROVINCIAL],
        [2, "Lò Văn Chín", None, None],
    ]
    result = read(campaign, xlsx(("Sheet1", rows), merge_title=False))
    found = {(f.code, f.location.row, f.location.column) for f in result.findings if f.location}
    assert ("AWARD_UNKNOWN", 3, "D") in found
    assert ("CELL_EMPTY", 4, "B") in found
    assert ("BIRTH_YEAR_INVALID", 6, "C") in found
    assert ("CELL_EMPTY", 7, "D") in found
    unknown = next(f for f in result.findings if f.code == "AWARD_UNKNOWN")
    assert "Giấy khen của Chủ tịch UBND huyện" in unknown.message
    assert PROVINCIAL in unknown.fix


def test_rows_of_unknown_kind_are_reported(campaign: Campaign) -> None:
    rows: Rows = [["STT", "Tên", "Hình thức khen thưởng"], [1, "Bản Hon", PROVINCIAL]]
    result = read(campaign, xlsx(("Sheet1", rows), merge_title=False))
    assert codes(result) == ["KIND_UNKNOWN"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([["Ghi chú", "Ngày"], ["abc", "1/1"]], "HEADER_NOT_FOUND"),
        ([["STT", "Họ và tên", "Chức vụ"], [1, "A", "B"]], "COLUMN_MISSING"),
        ([["STT", "Họ và tên", "Hình thức khen thưởng"]], "NO_NOMINEES"),
    ],
)
def test_lists_without_a_usable_table(campaign: Campaign, rows: Rows, expected: str) -> None:
    assert codes(read(campaign, xlsx(("Cá nhân", rows), merge_title=False))) == [expected]


def test_unreadable_and_unsupported_and_missing_lists(campaign: Campaign) -> None:
    broken = read(campaign, b"PK\x03\x04 not really a workbook")
    assert codes(broken) == ["LIST_UNREADABLE"]
    assert "Danh sách.xlsx" in broken.findings[0].message
    damaged = extract(
        [Attachment("DS.xls", "application/vnd.ms-excel", b"\xd0\xcf\x11\xe0")], campaign
    )
    assert codes(damaged) == ["LIST_UNREADABLE"]
    binary = extract(
        [Attachment("DS.xlsb", "application/vnd.ms-excel", b"PK\x03\x04binary")], campaign
    )
    assert codes(binary) == ["LIST_FORMAT_UNSUPPORTED"]
    assert ".xlsx" in binary.findings[0].fix
    word_only = extract(
        [Attachment("Danh sách đề nghị.docx", "application/msword", b"x")], campaign
    )
    assert codes(word_only) == ["LIST_MISSING"]
    assert "Danh sách đề nghị.docx" in word_only.findings[0].message


def test_inline_images_are_not_documents(campaign: Campaign) -> None:
    result = extract([Attachment("image001.png", "image/png", b"\x89PNG", inline=True)], campaign)
    assert result.documents == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Tờ trình đề nghị khen thưởng.pdf", DocumentKind.TO_TRINH),
        ("To_trinh_so_12.docx", DocumentKind.TO_TRINH),
        ("ToTrinh.pdf", DocumentKind.TO_TRINH),
        ("BIÊN BẢN HỌP HĐTĐKT.doc", DocumentKind.BIEN_BAN),
        ("bien ban hop xet.pdf", DocumentKind.BIEN_BAN),
        ("Tóm tắt thành tích các tập thể, cá nhân.docx", DocumentKind.TOM_TAT_THANH_TICH),
        ("Bao cao thanh tich - Nguyen Van An.pdf", DocumentKind.BAO_CAO_THANH_TICH),
        ("BCTT Lo Thi Mai.pdf", DocumentKind.BAO_CAO_THANH_TICH),
        ("scan0001.jpg", DocumentKind.OTHER),
    ],
)
def test_documents_are_recognised_by_name(name: str, kind: DocumentKind) -> None:
    assert classify_document(name) is kind


SCANNED_TO_TRINH = (FILES / "scan-0001.pdf").read_bytes()  # LibreOffice's PDF, with a text layer


@pytest.mark.parametrize(
    ("name", "payload", "kind"),
    [
        ("scan-0001.pdf", SCANNED_TO_TRINH, DocumentKind.TO_TRINH),
        ("Văn bản 2.docx", docx(BIEN_BAN_TEXT), DocumentKind.BIEN_BAN),
        (
            "Tai lieu.docx",
            docx(["BÁO CÁO TÓM TẮT THÀNH TÍCH", "Đề nghị tặng Bằng khen"]),
            DocumentKind.TOM_TAT_THANH_TICH,
        ),
        (
            "Doc1.docx",
            docx(["BÁO CÁO THÀNH TÍCH ĐỀ NGHỊ TẶNG BẰNG KHEN", "Lò Thị Mai"]),
            DocumentKind.BAO_CAO_THANH_TICH,
        ),
        ("IMG_2041.jpg", b"\xff\xd8\xff\xe0 a photo of a signed page", DocumentKind.OTHER),
        ("scan-0002.pdf", SCANNED_TO_TRINH[:400], DocumentKind.OTHER),  # damaged: not read
        ("Doc2.docx", docx(["Kính gửi Sở Nội vụ"]), DocumentKind.OTHER),
    ],
)
def test_documents_whose_names_say_nothing_are_recognised_by_their_title(
    campaign: Campaign, name: str, payload: bytes, kind: DocumentKind
) -> None:
    result = extract([Attachment(name, "application/octet-stream", payload)], campaign)
    [document] = result.documents
    assert document.kind is kind
    unrecognised = "DOCUMENT_UNRECOGNISED" in codes(result)
    assert unrecognised is (kind is DocumentKind.OTHER)


def test_the_title_nearest_the_top_decides() -> None:
    # A Tờ trình lists what comes with it; the letter's own title is above.
    assert classify_text("\n".join(TO_TRINH_TEXT)) is DocumentKind.TO_TRINH
    assert classify_text("BIÊN BẢN họp xét duyệt tờ trình") is DocumentKind.BIEN_BAN


@pytest.mark.parametrize(
    ("value", "year"),
    [
        (1978, 1978),
        (1978.0, 1978),
        ("1978", 1978),
        ("12/03/1978", 1978),
        (28562, 1978),
        ("abc", None),
        (12, None),
    ],
)
def test_birth_years(value: object, year: int | None) -> None:
    assert parse_birth_year(value) == year


@pytest.mark.parametrize(
    ("value", "percent"),
    [
        (0.998, 99.8),
        (99.8, 99.8),
        ("99,8%", 99.8),
        ("99,80 %", 99.8),
        ("97", 97.0),
        ("cao", None),
        (150, None),
    ],
)
def test_turnout_values(value: object, percent: float | None) -> None:
    assert parse_percent(value) == percent
