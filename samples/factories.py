"""Build nomination workbooks and submission emails the way units' office software makes them:
a merged title block, a header with line breaks, "I. TẬP THỂ" / "II. CÁ NHÂN" sections, a
totals line and a signature block."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from io import BytesIO
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from domain.kinds import XLSX_MEDIA_TYPE
from pipeline.envelope import message_bytes

PROVINCIAL = "Bằng khen của Chủ tịch UBND tỉnh"
PM = "Bằng khen của Thủ tướng Chính phủ"
XLSX = XLSX_MEDIA_TYPE


@dataclass
class Row:
    name: str
    award: str = PROVINCIAL
    position: str = ""
    workplace: str = ""
    birth: object = None
    gender: str = ""
    summary: str = "Hoàn thành xuất sắc nhiệm vụ được giao trong công tác bầu cử."
    turnout: object = None


@dataclass
class NominationList:
    unit_name: str
    collectives: list[Row] = field(default_factory=list)
    individuals: list[Row] = field(default_factory=list)
    layout: Literal["sections", "sheets", "kind_column"] = "sections"
    with_turnout: bool = False


_INDIVIDUAL_HEADERS = [
    "STT",
    "Họ và tên",
    "Năm sinh",
    "Chức vụ",
    "Đơn vị công tác",
    "Hình thức\nkhen thưởng",
    "Tóm tắt thành tích",
]
_COLLECTIVE_HEADERS = [
    "STT",
    "Tên tập thể",
    "Đơn vị chủ quản",
    "Hình thức\nkhen thưởng",
    "Tóm tắt thành tích",
]
_SECTIONS_HEADERS = [
    "STT",
    "Tên tập thể, cá nhân",
    "Năm sinh",
    "Chức vụ",
    "Đơn vị công tác",
    "Hình thức\nkhen thưởng",
    "Tóm tắt thành tích",
]
_SHARED_HEADERS = [
    "STT",
    "Tên tập thể, cá nhân",
    "Tập thể/Cá nhân",
    "Năm sinh",
    "Chức vụ",
    "Đơn vị công tác",
    "Hình thức khen thưởng",
    "Tóm tắt thành tích",
]


def _title_block(ws: Worksheet, unit_name: str, width: int) -> None:
    ws.append([unit_name.upper(), None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"])
    ws.append([None, None, None, "Độc lập - Tự do - Hạnh phúc"])
    ws.append([])
    ws.append(["DANH SÁCH"])
    ws.append(
        [
            "Tập thể, cá nhân đề nghị khen thưởng trong tổ chức thành công cuộc bầu cử đại biểu Quốc hội khóa XV và đại biểu HĐND các cấp nhiệm kỳ 2021-2026"
        ]
    )
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=3)
    for r in (4, 5):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        ws.cell(r, 1).font = Font(bold=True)
        ws.cell(r, 1).alignment = Alignment(horizontal="center", wrap_text=True)
    ws.append([])


def _header(ws: Worksheet, headers: Sequence[str]) -> None:
    ws.append(list(headers))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, horizontal="center")


def _individual(i: int, r: Row) -> list[object]:
    return [i, r.name, r.birth, r.position, r.workplace, r.award, r.summary]


def _collective(i: int, r: Row, with_turnout: bool) -> list[object]:
    row: list[object] = [i, r.name, r.workplace, r.award, r.summary]
    if with_turnout:
        row.insert(3, r.turnout)
    return row


def _footer(ws: Worksheet, spec: NominationList) -> None:
    ws.append(
        [
            None,
            f"Tổng cộng: {len(spec.collectives):02d} tập thể, {len(spec.individuals):02d} cá nhân",
        ]
    )
    ws.append([])
    ws.append([None, "NGƯỜI LẬP BIỂU", None, None, "TM. ỦY BAN NHÂN DÂN"])
    ws.append([None, None, None, None, "CHỦ TỊCH"])
    ws.append([])
    ws.append([None, "Lò Văn Lập", None, None, "Trần Văn Ký"])


def build_workbook(spec: NominationList) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    collective_headers = list(_COLLECTIVE_HEADERS)
    if spec.with_turnout:
        collective_headers.insert(3, "Tỷ lệ cử tri\nđi bầu (%)")
    if spec.layout == "sections":
        ws.title = "Danh sách"
        _title_block(ws, spec.unit_name, 7)
        turnout_header = ["Tỷ lệ cử tri\nđi bầu (%)"] if spec.with_turnout else []
        _header(ws, _SECTIONS_HEADERS + turnout_header)
        ws.append(list(range(1, len(_SECTIONS_HEADERS) + len(turnout_header) + 1)))
        if spec.collectives:
            ws.append(["I. TẬP THỂ"])
            for i, r in enumerate(spec.collectives, 1):
                ws.append(
                    [i, r.name, None, None, r.workplace, r.award, r.summary]
                    + ([r.turnout] if spec.with_turnout else [])
                )
        if spec.individuals:
            ws.append(["II. CÁ NHÂN"])
            for i, r in enumerate(spec.individuals, 1):
                ws.append(_individual(i, r))
        _footer(ws, spec)
    elif spec.layout == "sheets":
        ws.title = "Tập thể"
        _title_block(ws, spec.unit_name, len(collective_headers))
        _header(ws, collective_headers)
        for i, r in enumerate(spec.collectives, 1):
            ws.append(_collective(i, r, spec.with_turnout))
        ws2 = wb.create_sheet("Cá nhân")
        _title_block(ws2, spec.unit_name, 7)
        _header(ws2, _INDIVIDUAL_HEADERS)
        for i, r in enumerate(spec.individuals, 1):
            ws2.append(_individual(i, r))
        _footer(ws2, spec)
    else:
        ws.title = "Sheet1"
        _title_block(ws, spec.unit_name, len(_SHARED_HEADERS))
        _header(ws, _SHARED_HEADERS)
        rows = [(r, "Tập thể") for r in spec.collectives] + [
            (r, "Cá nhân") for r in spec.individuals
        ]
        for i, (r, kind) in enumerate(rows, 1):
            ws.append([i, r.name, kind, r.birth, r.position, r.workplace, r.award, r.summary])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class File:
    filename: str
    payload: bytes
    content_type: str = "application/octet-stream"


def pdf(title: str) -> bytes:
    """A one-page PDF with a real cross-reference table, standing in for a scanned page."""
    text = title.encode("ascii", "replace").replace(b"(", b"[").replace(b")", b"]")
    content = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def build_email(
    *,
    sender: str,
    sender_name: str = "",
    subject: str,
    files: Sequence[File] = (),
    body: str = "Kính gửi Sở Nội vụ,\nĐơn vị gửi hồ sơ đề nghị khen thưởng công tác bầu cử.\nTrân trọng.",
    date: datetime | None = None,
    to: str = "pxdcq.sonv@laichau.gov.vn",
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> bytes:
    msg = EmailMessage()
    local, _, domain = sender.partition("@")
    msg["From"] = Address(sender_name, local, domain)
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date) if date else format_datetime(datetime.now().astimezone())
    msg["Message-ID"] = message_id or make_msgid(domain=domain or "example.invalid")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for f in files:
        maintype, _, subtype = f.content_type.partition("/")
        msg.add_attachment(f.payload, maintype=maintype, subtype=subtype, filename=f.filename)
    return message_bytes(msg)


def people(prefix: str, count: int, award: str = PROVINCIAL) -> list[Row]:
    given = [
        "An",
        "Bình",
        "Chiến",
        "Dũng",
        "Đạt",
        "Hà",
        "Hòa",
        "Hường",
        "Khánh",
        "Lan",
        "Minh",
        "Nga",
        "Phương",
        "Quân",
        "Sơn",
        "Thảo",
        "Trang",
        "Tuấn",
    ]
    return [
        Row(
            name=f"{prefix} {given[i % len(given)]}{'' if i < len(given) else ' ' + str(i)}",
            award=award,
            position="Chuyên viên",
            workplace="Văn phòng",
            birth=1970 + i % 25,
        )
        for i in range(count)
    ]


def collectives(names: Sequence[str], award: str = PROVINCIAL, turnout: object = None) -> list[Row]:
    return [Row(name=n, award=award, workplace="", turnout=turnout) for n in names]


def dossier(
    spec: NominationList,
    *,
    list_name: str = "Danh sách đề nghị khen thưởng.xlsx",
    to_trinh: bool = True,
    bien_ban: bool = True,
    reports_for: Sequence[str] = (),
) -> list[File]:
    """The attachments of a complete submission: the list, the letter, the minutes, reports."""
    files = [File(list_name, build_workbook(spec), XLSX)]
    if to_trinh:
        files.append(File("Tờ trình đề nghị khen thưởng.pdf", pdf("To trinh"), "application/pdf"))
    if bien_ban:
        files.append(File("Biên bản họp Hội đồng TĐKT.pdf", pdf("Bien ban"), "application/pdf"))
    for name in reports_for:
        files.append(
            File(
                f"Báo cáo thành tích - {name}.docx",
                pdf(name),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )
        )
    return files
