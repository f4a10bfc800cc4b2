"""Files shaped to hurt, or just careless: each gets a clear, bounded outcome, never a crash.

Zip and XML bombs, a workbook claiming a million rows, a cell of a megabyte, a password, an
extension that lies, file names with folders, control characters or 500 letters. Pure: the
extraction path over bytes (the end-to-end path through Dovecot is in tests/test_corpus.py)."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from domain.campaign import Campaign
from domain.kinds import FileKind
from domain.model import Attachment, Extraction
from pipeline.extract import extract
from pipeline.formats import MAX_CELL_CHARS, MAX_ROWS_PER_SHEET, identify
from pipeline.parse import parse_message
from samples.factories import XLSX, File, NominationList, build_email, build_workbook, people


def codes(result: Extraction) -> list[str]:
    return [f.code for f in result.findings]


def as_list(campaign: Campaign, payload: bytes, name: str = "Danh sách.xlsx") -> Extraction:
    return extract([Attachment(name, XLSX, payload)], campaign)


def good_list() -> bytes:
    return build_workbook(NominationList("Sở Nội vụ", individuals=people("Trần Thị", 2)))


def rezip(payload: bytes, replace: dict[str, bytes]) -> bytes:
    """The same xlsx with some parts replaced."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(payload)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
    return out.getvalue()


def test_a_zip_bomb_is_refused_from_its_directory(campaign: Campaign) -> None:
    bomb = rezip(good_list(), {"xl/worksheets/sheet1.xml": b"<a/>" + b" " * 40_000_000})
    assert len(bomb) < 200_000
    result = as_list(campaign, bomb)
    assert codes(result) == ["LIST_UNREADABLE"]
    assert "giải nén lớn bất thường" in result.findings[0].message


def test_an_xml_bomb_is_refused_by_defusedxml(campaign: Campaign) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    result = as_list(campaign, rezip(good_list(), {"xl/worksheets/sheet1.xml": laughs}))
    assert codes(result) == ["LIST_UNREADABLE"]


def test_a_sheet_with_more_rows_than_the_limit_is_read_up_to_it(campaign: Campaign) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Cá nhân")
    sheet.append(["STT", "Họ và tên", "Hình thức khen thưởng"])
    for i in range(MAX_ROWS_PER_SHEET + 100):
        sheet.append([i + 1, f"Người {i}", "Bằng khen của Chủ tịch UBND tỉnh"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = as_list(campaign, buffer.getvalue())
    assert "TOO_MANY_ROWS" in codes(result)
    assert len(result.nominees) == MAX_ROWS_PER_SHEET - 1  # the header is one of the rows


def test_a_cell_of_a_megabyte_is_cut_to_the_limit(campaign: Campaign) -> None:
    spec = NominationList("Sở Nội vụ", individuals=people("Trần Thị", 1))
    spec.individuals[0].name = "Trần Thị " + "A" * 1_000_000
    result = as_list(campaign, build_workbook(spec))
    [nominee] = result.nominees
    assert len(nominee.name) == MAX_CELL_CHARS


def test_a_password_protected_workbook_gets_the_steps_to_remove_it(campaign: Campaign) -> None:
    # The start of an "Encrypt with password" .xlsx: an OLE compound file holding the
    # EncryptedPackage stream (its name is in UTF-16 in the directory sector).
    encrypted = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(504)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(4000)
    )
    assert identify(encrypted) is FileKind.ENCRYPTED
    result = as_list(campaign, encrypted)
    assert codes(result) == ["LIST_PASSWORD_PROTECTED"]
    assert "xóa mật khẩu" in result.findings[0].fix


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"%PDF-1.4 a scanned list", "thực chất là PDF"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "thực chất là ảnh PNG"),
        (b"\x00\x01\x02garbage" * 10, "không phải bảng tính"),
    ],
)
def test_a_list_whose_extension_lies_is_named_for_what_it_is(
    campaign: Campaign, payload: bytes, expected: str
) -> None:
    result = as_list(campaign, payload)
    assert codes(result) == ["LIST_UNREADABLE"]
    assert expected in result.findings[0].message


def test_a_workbook_under_another_name_is_read_with_a_warning(campaign: Campaign) -> None:
    result = extract(
        [Attachment("Danh sách.xls", "application/vnd.ms-excel", good_list())],
        campaign,
    )
    assert "FILE_TYPE_MISMATCH" in codes(result)
    assert len(result.nominees) == 2
    assert "Excel (.xlsx)" in next(
        f.message for f in result.findings if f.code == "FILE_TYPE_MISMATCH"
    )


@pytest.mark.parametrize(
    ("sent_as", "shown_as"),
    [
        ("../../../etc/cron.d/Danh sách.xlsx", "Danh sách.xlsx"),
        ("Danh\x1b[31m sách\x07.xlsx", "Danh[31m sách.xlsx"),
        ("Danh sách " + "rất dài " * 60 + ".xlsx", None),
    ],
)
def test_file_names_are_made_safe_to_show(sent_as: str, shown_as: str | None) -> None:
    raw = build_email(
        sender="vanphong.snv@laichau.gov.vn",
        subject="Hồ sơ",
        files=[File(sent_as, good_list(), XLSX)],
    )
    [attachment] = parse_message(raw).attachments
    assert len(attachment.filename) <= 120
    assert attachment.filename.endswith(".xlsx")
    assert not any(ord(c) < 32 for c in attachment.filename)
    if shown_as is not None:
        assert attachment.filename == shown_as
