"""The consolidated workbook the Department forwards: collectives, individuals, the PM
candidates, and each unit against its allocation, laid out as a Vietnamese office expects and set
up to print on A4 landscape.

Only accepted submissions (late ones included, and marked) are listed; units are in the
campaign's order and each unit's nominees in the unit's own order (its ranking), as award lists
are. Text from units' files is always written as text: a cell beginning with "=", "+", "-", "@"
or a tab never becomes a formula.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from domain.kinds import NomineeKind
from domain.model import Nominee
from domain.snapshot import Snapshot, UnitEntry
from domain.wording import status_label
from pipeline.consolidate import accepted_totals
from pipeline.sheet_layout import (
    fit_row_height,
    print_setup,
    put,
    signature_block,
    times_new_roman,
    title_block,
)

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")
_GROUP_FILL = PatternFill("solid", fgColor="F2F2F2")
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_ROMAN = [
    "I",
    "II",
    "III",
    "IV",
    "V",
    "VI",
    "VII",
    "VIII",
    "IX",
    "X",
    "XI",
    "XII",
    "XIII",
    "XIV",
    "XV",
    "XVI",
    "XVII",
    "XVIII",
    "XIX",
    "XX",
    "XXI",
    "XXII",
    "XXIII",
    "XXIV",
    "XXV",
    "XXVI",
    "XXVII",
    "XXVIII",
    "XXIX",
    "XXX",
]


def roman(n: int) -> str:
    return _ROMAN[n - 1] if n <= len(_ROMAN) else str(n)


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    value: Callable[[Nominee, UnitEntry], object]


def _awards_text(snapshot: Snapshot, n: Nominee) -> str:
    return "; ".join(a.name for code, a in snapshot.campaign.awards.items() if code in n.awards)


def _title_block(ws: Worksheet, snapshot: Snapshot, width: int, heading: str) -> int:
    """The decree's header, the sheet's title, and what it is attached to and as of when."""
    c = snapshot.campaign
    department = c.department
    taken = snapshot.taken_at.astimezone(c.tz)
    issuer = department.issuing_body or department.name
    code = f"/TTr-{department.document_code}" if department.document_code else ""
    return title_block(
        ws,
        department,
        width,
        taken.date(),
        heading,
        [
            c.title,
            f"(Kèm theo Tờ trình số       {code} ngày       tháng {taken.month} năm {taken.year} "
            f"của {issuer})",
            f"(Tổng hợp từ hồ sơ các đơn vị gửi qua thư điện tử đến {taken:%H:%M} ngày "
            f"{taken:%d/%m/%Y})",
        ],
    )


def _widths(ws: Worksheet, columns: Sequence[Column]) -> None:
    for i, column in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = column.width


def _header(ws: Worksheet, row: int, columns: Sequence[Column]) -> None:
    for i, column in enumerate(columns, 1):
        put(ws, row, i, column.title)
        cell = ws.cell(row, i)
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = _CENTER
        cell.border = _BORDER
        ws.column_dimensions[get_column_letter(i)].width = column.width
    ws.row_dimensions[row].height = 30


def _nominee_sheet(
    ws: Worksheet,
    snapshot: Snapshot,
    heading: str,
    columns: Sequence[Column],
    pick: Callable[[Nominee], bool],
    unit_label: str,
) -> int:
    """Grouped, numbered rows of the nominees `pick` selects; returns how many were listed."""
    _widths(ws, columns)
    header_row = _title_block(ws, snapshot, len(columns), heading)
    _header(ws, header_row, columns)
    row, number, group = header_row + 1, 0, 0
    for entry in snapshot.units:
        if not entry.accepted:
            continue
        chosen = [n for n in entry.nominees if pick(n)]
        if not chosen:
            continue
        group += 1
        late = " – nộp muộn" if entry.current and entry.current.late else ""
        put(ws, row, 1, roman(group))
        put(ws, row, 2, f"{entry.unit.name} ({len(chosen)} {unit_label}{late})")
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=len(columns))
        for i in range(1, len(columns) + 1):
            ws.cell(row, i).font = Font(bold=True)
            ws.cell(row, i).fill = _GROUP_FILL
            ws.cell(row, i).border = _BORDER
        row += 1
        for n in chosen:
            number += 1
            put(ws, row, 1, number)
            for i, column in enumerate(columns[1:], 2):
                put(ws, row, i, column.value(n, entry))
            for i in range(1, len(columns) + 1):
                ws.cell(row, i).alignment = _WRAP
                ws.cell(row, i).border = _BORDER
            ws.cell(row, 1).alignment = _CENTER
            fit_row_height(ws, row, [c.width for c in columns])
            row += 1
    put(ws, row, 2, f"Tổng cộng: {number} {unit_label}")
    ws.cell(row, 2).font = Font(bold=True)
    signature_block(ws, snapshot.campaign.department, row + 1, len(columns))
    print_setup(ws, header_row)
    return number


def _comparison_sheet(ws: Worksheet, snapshot: Snapshot) -> None:
    c = snapshot.campaign
    allocated = c.allocation.award
    titles = [
        "STT",
        "Đơn vị",
        "Trạng thái",
        "Lần gửi",
        "Tập thể\nphân bổ",
        "Tập thể\nđề nghị",
        "Cá nhân\nphân bổ",
        "Cá nhân\nđề nghị",
        "Đề nghị TTg\ntập thể",
        "Đề nghị TTg\ncá nhân",
        "Ghi chú",
    ]
    widths = [6, 36, 18, 8, 10, 10, 10, 10, 12, 12, 30]
    columns = [Column(t, w, lambda n, e: None) for t, w in zip(titles, widths, strict=True)]
    heading = "SO SÁNH ĐỀ NGHỊ CỦA CÁC ĐƠN VỊ VỚI CHỈ TIÊU PHÂN BỔ"
    _widths(ws, columns)
    header_row = _title_block(ws, snapshot, len(columns), heading)
    _header(ws, header_row, columns)
    others = [code for code in c.awards if code != allocated]
    row = header_row + 1
    sums = [0, 0, 0, 0, 0, 0]
    for i, entry in enumerate(snapshot.units, 1):
        allowed = c.allocation_for(entry.unit.code)
        cur = entry.current
        status = status_label(cur.status if cur else None)
        # What the unit's current version proposes, accepted or not (as the digest shows it);
        # the total counts accepted versions only.
        values = [
            allowed.collectives,
            entry.proposed(allocated, NomineeKind.COLLECTIVE),
            allowed.individuals,
            entry.proposed(allocated, NomineeKind.INDIVIDUAL),
            sum(entry.proposed(o, NomineeKind.COLLECTIVE) for o in others),
            sum(entry.proposed(o, NomineeKind.INDIVIDUAL) for o in others),
        ]
        notes = []
        if values[1] > values[0] or values[3] > values[2]:
            notes.append("vượt chỉ tiêu")
        if cur is not None and not entry.accepted:
            notes.append(f"chưa tiếp nhận, {cur.errors} lỗi; không tính vào tổng")
        row_values: list[object] = [
            i,
            entry.unit.name,
            status,
            cur.version if cur else "",
            *values,
            ", ".join(notes),
        ]
        for col, value in enumerate(row_values, 1):
            put(ws, row, col, value)
            ws.cell(row, col).border = _BORDER
            ws.cell(row, col).alignment = _CENTER if col not in (2, 11) else _WRAP
        counted = values if entry.accepted else [values[0], 0, values[2], 0, 0, 0]
        sums = [a + b for a, b in zip(sums, counted, strict=True)]
        fit_row_height(ws, row, widths)
        row += 1
    totals = accepted_totals(snapshot)
    put(ws, row, 2, "Tổng cộng (hồ sơ đã tiếp nhận)")
    for col, value in enumerate(sums, 5):
        put(ws, row, col, value)
    for col in range(1, len(columns) + 1):
        ws.cell(row, col).font = Font(bold=True)
        ws.cell(row, col).border = _BORDER
        ws.cell(row, col).alignment = _CENTER
    row += 2
    for code, award in c.awards.items():
        quota = award.province_quota or c.allocation.total
        put(
            ws,
            row,
            2,
            f"{award.name}: đã tiếp nhận {totals[code][NomineeKind.COLLECTIVE]}/{quota.collectives} tập thể, "
            f"{totals[code][NomineeKind.INDIVIDUAL]}/{quota.individuals} cá nhân",
        )
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=len(columns))
        row += 1
    signature_block(ws, c.department, row, len(columns))
    print_setup(ws, header_row)


def _proposed_for(code: str) -> Callable[[Nominee], bool]:
    return lambda n: code in n.awards


def _chosen(snapshot: Snapshot, award: str) -> Callable[[Nominee], bool] | None:
    """Whether a nominee is among those the Department chose for `award`; None before any."""
    chosen = [s.nominee for s in snapshot.selected_for(award) if s.nominee is not None]
    if not chosen:
        return None
    return lambda n: award in n.awards and any(n is c for c in chosen)


def build_workbook(snapshot: Snapshot) -> bytes:
    c = snapshot.campaign
    allocated = c.allocation.award
    allocated_name = c.allocated_award.name.upper()
    late_note: Callable[[Nominee, UnitEntry], object] = lambda n, e: "; ".join(  # noqa: E731
        x for x in (n.note, "nộp muộn" if e.current and e.current.late else "") if x
    )
    collective_columns = [
        Column("STT", 6, lambda n, e: None),
        Column("Tên tập thể", 36, lambda n, e: n.name),
        Column("Đơn vị đề nghị", 24, lambda n, e: e.unit.name),
        Column("Hình thức khen thưởng", 26, lambda n, e: _awards_text(snapshot, n)),
        Column("Tỷ lệ cử tri\nđi bầu (%)", 12, lambda n, e: n.turnout_percent),
        Column("Tóm tắt thành tích", 50, lambda n, e: n.summary),
        Column("Ghi chú", 16, late_note),
    ]
    individual_columns = [
        Column("STT", 6, lambda n, e: None),
        Column("Họ và tên", 26, lambda n, e: n.name),
        Column("Năm sinh", 9, lambda n, e: n.birth_year),
        Column("Giới tính", 8, lambda n, e: n.gender),
        Column("Chức vụ", 24, lambda n, e: n.position),
        Column("Đơn vị công tác", 24, lambda n, e: n.workplace),
        Column("Đơn vị đề nghị", 22, lambda n, e: e.unit.name),
        Column("Hình thức khen thưởng", 24, lambda n, e: _awards_text(snapshot, n)),
        Column("Tóm tắt thành tích", 44, lambda n, e: n.summary),
        Column("Ghi chú", 14, late_note),
    ]
    wb = Workbook()
    collectives = wb.active
    assert collectives is not None
    collectives.title = "Tập thể"
    _nominee_sheet(
        collectives,
        snapshot,
        f"DANH SÁCH TẬP THỂ ĐỀ NGHỊ TẶNG {allocated_name}",
        collective_columns,
        lambda n: n.kind is NomineeKind.COLLECTIVE and allocated in n.awards,
        "tập thể",
    )
    _nominee_sheet(
        wb.create_sheet("Cá nhân"),
        snapshot,
        f"DANH SÁCH CÁ NHÂN ĐỀ NGHỊ TẶNG {allocated_name}",
        individual_columns,
        lambda n: n.kind is NomineeKind.INDIVIDUAL and allocated in n.awards,
        "cá nhân",
    )
    for code, award in c.awards.items():
        if code == allocated:
            continue
        sheet = wb.create_sheet(f"Đề nghị {code.upper()}"[:31])
        # A province-quota award lists the Department's choice once it has made one; until
        # then, every unit's proposal, and the heading says so.
        chosen = _chosen(snapshot, code) if award.province_quota else None
        heading = f"DANH SÁCH TẬP THỂ, CÁ NHÂN ĐỀ NGHỊ {award.name.upper()}"
        if award.province_quota and chosen is None:
            heading += " (CÁC ĐƠN VỊ ĐỀ NGHỊ, SỞ NỘI VỤ CHƯA LỰA CHỌN)"
        _nominee_sheet(
            sheet,
            snapshot,
            heading,
            [
                collective_columns[0],
                Column("Tên tập thể, cá nhân", 34, lambda n, e: n.name),
                Column("Tập thể/Cá nhân", 12, lambda n, e: n.kind.label),
                *individual_columns[4:],
            ],
            chosen or _proposed_for(code),
            "trường hợp",
        )
    _comparison_sheet(wb.create_sheet("So với phân bổ"), snapshot)
    times_new_roman(wb)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
