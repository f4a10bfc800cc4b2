"""Containers: .zip archives (nested, legacy names, bombs, hostile paths), .rar/.7z, winmail.dat."""

from __future__ import annotations

import unicodedata

import pytest

from domain.model import Attachment
from pipeline.unpack import Unpacked, unpack
from tests.corpus.cases import tnef, zip_archive

ZIP = "application/zip"
PDF_BYTES = b"%PDF-1.4\n% a page\n"
TO_TRINH = "Tờ trình đề nghị khen thưởng.pdf"
BIEN_BAN = "Biên bản họp Hội đồng.pdf"


def opened(*attachments: Attachment, **limits: int) -> Unpacked:
    return unpack(attachments, **limits)


def names(result: Unpacked) -> list[str]:
    return [a.filename for a in result.attachments]


def codes(result: Unpacked) -> list[str]:
    return [f.code for f in result.findings]


def test_nested_folders_are_flattened_and_archiver_clutter_dropped() -> None:
    archive = zip_archive(
        {
            f"Hồ sơ khen thưởng/{TO_TRINH}": PDF_BYTES,
            f"Hồ sơ khen thưởng/Biên bản/{BIEN_BAN}": PDF_BYTES + b"2",
            "__MACOSX/Hồ sơ khen thưởng/._Tờ trình.pdf": b"\x00\x05\x16\x07",
            "Hồ sơ khen thưởng/Thumbs.db": b"\xd0\xcf",
            "Hồ sơ khen thưởng/Trống/": b"",
        }
    )
    result = opened(Attachment("Hồ sơ.zip", ZIP, archive))
    assert names(result) == [TO_TRINH, BIEN_BAN]
    assert [a.content_type for a in result.attachments] == ["application/pdf"] * 2
    assert result.findings == []


@pytest.mark.parametrize("encoding", ["cp1258", "utf-8", None])
def test_entry_names_in_a_legacy_code_page_are_repaired(encoding: str | None) -> None:
    archive = zip_archive({f"Hồ sơ/{TO_TRINH}": PDF_BYTES}, name_encoding=encoding)
    [member] = opened(Attachment("hs.zip", ZIP, archive)).attachments
    assert member.filename == TO_TRINH
    assert unicodedata.is_normalized("NFC", member.filename)


def test_no_entry_name_reaches_outside_and_control_characters_are_dropped() -> None:
    archive = zip_archive(
        {
            "../../etc/cron.d/job.pdf": PDF_BYTES,
            "/abs/path/Biên bản.pdf": PDF_BYTES + b"1",
            "C:\\Windows\\System32\\Tờ trình.pdf": PDF_BYTES + b"2",
            "a\x07b\u202egpj.pdf": PDF_BYTES + b"3",
        }
    )
    result = opened(Attachment("hs.zip", ZIP, archive))
    assert names(result) == ["job.pdf", "Biên bản.pdf", "Tờ trình.pdf", "abgpj.pdf"]
    assert all("/" not in n and "\\" not in n and ".." not in n for n in names(result))


def test_archives_inside_archives_up_to_three_levels() -> None:
    level3 = zip_archive({BIEN_BAN: PDF_BYTES})
    level2 = zip_archive({"trong.zip": level3, TO_TRINH: PDF_BYTES + b"2"})
    level1 = zip_archive({"giua.zip": level2})
    assert names(opened(Attachment("hs.zip", ZIP, level1))) == [BIEN_BAN, TO_TRINH]
    too_deep = zip_archive({"ngoai.zip": level1})
    result = opened(Attachment("hs.zip", ZIP, too_deep))
    assert names(result) == [TO_TRINH]
    assert codes(result) == ["ARCHIVE_UNREADABLE"]
    assert "quá 3 lớp" in result.findings[0].message


def test_a_zip_bomb_is_refused_on_its_directory() -> None:
    archive = zip_archive({"Danh sách.xlsx": b"\0" * 5_000_000})
    result = opened(Attachment("hs.zip", ZIP, archive))
    assert result.attachments == []
    assert codes(result) == ["ARCHIVE_UNREADABLE"]
    assert "lớn bất thường" in result.findings[0].message


def test_the_unpacking_budget_is_shared_by_all_archives_of_a_message() -> None:
    first = zip_archive({TO_TRINH: bytes(range(256)) * 20})
    second = zip_archive({BIEN_BAN: bytes(range(256)) * 20})
    one = opened(Attachment("a.zip", ZIP, first), max_bytes=8000)
    assert codes(one) == []
    both = opened(Attachment("a.zip", ZIP, first), Attachment("b.zip", ZIP, second), max_bytes=8000)
    assert names(both) == [TO_TRINH]
    assert codes(both) == ["ARCHIVE_UNREADABLE"]
    many = zip_archive({f"{i}.pdf": PDF_BYTES for i in range(5)})
    assert codes(opened(Attachment("c.zip", ZIP, many), max_entries=4)) == ["ARCHIVE_UNREADABLE"]


def with_password_flag(archive: bytes, entry: str) -> bytes:
    """Set the "encrypted" flag an archiver sets on a password-protected entry (zipfile cannot
    write one): in the entry's local header and its central-directory record."""
    blob = bytearray(archive)
    name = entry.encode()
    at = blob.find(name)
    while at != -1:
        for signature, fixed, flags in ((b"PK\x03\x04", 30, 6), (b"PK\x01\x02", 46, 8)):
            if blob[at - fixed : at - fixed + 4] == signature:
                blob[at - fixed + flags] |= 0x1
        at = blob.find(name, at + 1)
    return bytes(blob)


def test_an_encrypted_entry_is_named_and_the_rest_is_read() -> None:
    archive = zip_archive({"bien-ban.pdf": b"\x8a\x11 ciphertext", "to-trinh.pdf": PDF_BYTES})
    result = opened(Attachment("hs.zip", ZIP, with_password_flag(archive, "bien-ban.pdf")))
    assert names(result) == ["to-trinh.pdf"]
    assert codes(result) == ["ARCHIVE_PASSWORD_PROTECTED"]
    assert "bien-ban.pdf" in result.findings[0].message


@pytest.mark.parametrize(
    ("name", "payload", "shown"),
    [
        ("Hồ sơ.rar", b"Rar!\x1a\x07\x01\x00" + b"\0" * 40, "tệp nén .rar"),
        ("Hồ sơ.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 40, "tệp nén .7z"),
    ],
)
def test_rar_and_7z_get_a_clear_answer(name: str, payload: bytes, shown: str) -> None:
    result = opened(Attachment(name, "application/octet-stream", payload))
    assert result.attachments == []
    assert codes(result) == ["ARCHIVE_FORMAT_UNSUPPORTED"]
    assert shown in result.findings[0].message
    assert ".zip" in result.findings[0].fix


def test_a_damaged_zip_is_reported_not_raised() -> None:
    archive = zip_archive({TO_TRINH: PDF_BYTES * 100})
    result = opened(Attachment("hs.zip", ZIP, archive[: len(archive) // 2]))
    assert result.attachments == []
    assert codes(result) == ["ARCHIVE_UNREADABLE"]


def test_winmail_dat_is_unpacked_with_its_long_vietnamese_names() -> None:
    dat = tnef([(TO_TRINH, PDF_BYTES), ("Danh sách đề nghị.xlsx", b"PK\x03\x04 not really")])
    result = opened(Attachment("winmail.dat", "application/ms-tnef", dat))
    assert names(result) == [TO_TRINH, "Danh sách đề nghị.xlsx"]
    assert result.attachments[0].payload == PDF_BYTES
    assert result.findings == []


def test_a_zip_inside_winmail_dat_is_opened_too() -> None:
    dat = tnef([("Hồ sơ.zip", zip_archive({f"Hồ sơ/{BIEN_BAN}": PDF_BYTES}))])
    assert names(opened(Attachment("winmail.dat", "application/ms-tnef", dat))) == [BIEN_BAN]


def test_a_damaged_winmail_dat_is_reported() -> None:
    result = opened(Attachment("winmail.dat", "application/ms-tnef", b"not TNEF at all" * 10))
    assert result.attachments == []
    assert codes(result) == ["TNEF_UNREADABLE"]
    assert "HTML" in result.findings[0].fix


def test_workbooks_and_documents_are_not_mistaken_for_archives() -> None:
    workbook = zip_archive({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<x/>"})
    result = opened(Attachment("Danh sách.xlsx", "application/zip", workbook))
    assert names(result) == ["Danh sách.xlsx"]


def test_a_winmail_dat_cut_short_is_not_taken_for_whole_files() -> None:
    dat = tnef([(TO_TRINH, PDF_BYTES), (BIEN_BAN, PDF_BYTES * 50)])
    assert names(opened(Attachment("winmail.dat", "application/ms-tnef", dat + b"\0\0"))) == [
        TO_TRINH,
        BIEN_BAN,
    ]
    result = opened(Attachment("winmail.dat", "application/ms-tnef", dat[:-300]))
    assert result.attachments == []
    assert codes(result) == ["TNEF_UNREADABLE"]
