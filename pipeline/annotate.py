"""An annotated copy of a unit's list: the problems marked on the unit's own cells.

The copy is an .xlsx whatever the original was. An .xlsx or .xlsm original is edited in place, so
the unit gets back its own layout, formulas and fonts (macros are dropped); an .xls, .ods or .csv
original, which openpyxl cannot open, is rebuilt from the values read. Each problem cell is filled
(red for an error, yellow for a note) and carries a comment that says what is wrong and how to fix
it; a first sheet lists every problem with a link to its cell. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, quote_sheetname
from openpyxl.workbook.child import INVALID_TITLE_REGEX
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from domain.kinds import FileKind, Severity
from domain.model import Finding, ReadList, Sheet
from domain.text import xml_safe
from pipeline.formats import check_zip_limits
from pipeline.sheet_layout import fit_row_height, print_setup, put

PROBLEMS_SHEET = "Lỗi cần sửa"
AUTHOR = "Hệ thống tiếp nhận hồ sơ"
_FILLS = {
    Severity.ERROR: PatternFill("solid", fgColor="FFC7CE"),
    Severity.WARNING: PatternFill("solid", fgColor="FFEB9C"),
}
_SEVERITY_LABELS = {Severity.ERROR: "Lỗi", Severity.WARNING: "Lưu ý"}
_COLUMNS = (
    ("STT", 6),
    ("Mức độ", 9),
    ("Trang", 18),
    ("Ô", 8),
    ("Vấn đề", 60),
    ("Giá trị đã ghi", 24),
    ("Cách sửa", 60),
)


@dataclass(frozen=True)
class AnnotatedCopy:
    filename: str
    payload: bytes
    marked_cells: int


def copy_name(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return f"{stem} (đánh dấu lỗi).xlsx"


def concerns(findings: Sequence[Finding], filename: str) -> list[Finding]:
    """The findings that point inside one file's sheets, errors first."""
    inside = [
        f for f in findings if f.location and f.location.file == filename and f.location.sheet
    ]
    return sorted(inside, key=lambda f: f.severity is not Severity.ERROR)


def _sheet_title(name: str, taken: set[str]) -> str:
    base = INVALID_TITLE_REGEX.sub(" ", name).strip(" '")[:31] or "Trang"
    title, n = base, 1
    while title.lower() in taken:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
    taken.add(title.lower())
    return title


def _rebuilt(sheets: Sequence[Sheet]) -> tuple[Workbook, dict[str, Worksheet]]:
    workbook = Workbook()
    assert workbook.active is not None
    workbook.remove(workbook.active)
    taken: set[str] = {PROBLEMS_SHEET.lower()}
    by_name: dict[str, Worksheet] = {}
    for sheet in sheets:
        ws = workbook.create_sheet(_sheet_title(sheet.name, taken))
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row, start=1):
                if value not in (None, ""):
                    put(ws, r, c, value)
        by_name[sheet.name] = ws
    return workbook, by_name


def _original(payload: bytes) -> tuple[Workbook, dict[str, Worksheet]] | None:
    try:
        check_zip_limits(payload)
        workbook = load_workbook(io.BytesIO(payload), rich_text=True)
    except Exception:  # a file openpyxl reads lazily but not whole: rebuild from values
        return None
    return workbook, {ws.title: ws for ws in workbook.worksheets}


def _name_column(ws: Worksheet, row: int) -> int:
    """For a fault of the whole row, the cell to point at: its first text (the name), not the
    number in the STT column."""
    for column in range(1, (ws.max_column or 1) + 1):
        value = ws.cell(row=row, column=column).value
        if isinstance(value, str) and value.strip() and not value.strip().rstrip(".").isdigit():
            return column
    return 1


def _mark(ws: Worksheet, f: Finding, width: int) -> str | None:
    """Fill and comment the finding's cell (or its row's first cell, filling the row's `width`
    cells); the reference marked."""
    loc = f.location
    if loc is None or not loc.row:
        return None
    column = column_index_from_string(loc.column) if loc.column else _name_column(ws, loc.row)
    cell = ws.cell(row=loc.row, column=column)
    fill = _FILLS[f.severity]
    if loc.column:
        cell.fill = fill
    else:  # the whole row is at fault (a duplicate, a nominee over the quota)
        for c in range(1, max(width, 1) + 1):
            ws.cell(row=loc.row, column=c).fill = fill
    note = f"{_SEVERITY_LABELS[f.severity]}: {f.message}\nCách sửa: {f.fix}"
    if cell.comment is not None and AUTHOR in (cell.comment.author or ""):
        note = f"{cell.comment.text}\n\n{note}"
    comment = Comment(xml_safe(note), AUTHOR)
    comment.width, comment.height = 320, 160
    cell.comment = comment
    return str(cell.coordinate)


def _written(workbook: Workbook, sheet_title: str, ref: str) -> str:
    """What the unit wrote in the cell a finding points at ("Giá trị đã ghi")."""
    if not ref or "!" in ref or sheet_title not in workbook.sheetnames:
        return ""
    value = workbook[sheet_title][ref].value
    return "" if value is None else str(value)


def _problems_sheet(workbook: Workbook, title: str, rows: list[tuple[Finding, str, str]]) -> None:
    ws = workbook.create_sheet(PROBLEMS_SHEET, 0)
    put(ws, 1, 1, title)
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    put(
        ws,
        2,
        1,
        "Bấm vào địa chỉ ô để đến ô cần sửa. Sửa xong, xóa trang tính này hoặc để nguyên đều được.",
    )
    for c, (heading, width) in enumerate(_COLUMNS, start=1):
        put(ws, 4, c, heading)
        ws.cell(row=4, column=c).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=4, column=c).column_letter].width = width
    for i, (f, sheet_title, ref) in enumerate(rows, start=1):
        r = 4 + i
        values = (
            i,
            _SEVERITY_LABELS[f.severity],
            sheet_title,
            ref,
            f.message,
            f.value or _written(workbook, sheet_title, ref),
            f.fix,
        )
        for c, value in enumerate(values, start=1):
            put(ws, r, c, value)
            ws.cell(row=r, column=c).alignment = Alignment(wrap_text=True, vertical="top")
        ws.cell(row=r, column=2).fill = _FILLS[f.severity]
        fit_row_height(ws, r, [width for _, width in _COLUMNS])
        if ref:
            link = ws.cell(row=r, column=4)
            target = ref if "!" in ref else f"{quote_sheetname(sheet_title)}!{ref}"
            link.hyperlink = Hyperlink(ref=link.coordinate, location=target)
            link.font = Font(color="0563C1", underline="single")
    print_setup(ws, header_row=4)
    workbook.active = 0


def annotate(
    filename: str,
    payload: bytes,
    kind: FileKind,
    sheets: Sequence[Sheet],
    findings: Sequence[Finding],
) -> AnnotatedCopy | None:
    """The unit's list with `findings` marked on it; None unless an error points at a row of it
    (the copy is for fixing: a list that is only warned about is not sent back)."""
    chosen = concerns(findings, filename)
    if not any(f.severity is Severity.ERROR and f.location and f.location.row for f in chosen):
        return None
    # Edited in place only when the whole file was read: a workbook beyond the reading bounds is
    # rebuilt from the rows read, so the copy costs no more than reading did.
    whole = not any(sheet.truncated for sheet in sheets)
    opened = _original(payload) if whole and kind in (FileKind.XLSX, FileKind.XLSM) else None
    workbook, by_name = opened or _rebuilt(sheets)
    for ws in workbook.worksheets:
        if ws.title.lower() == PROBLEMS_SHEET.lower():
            ws.title = _sheet_title(ws.title, {PROBLEMS_SHEET.lower()})
    rows: list[tuple[Finding, str, str]] = []
    marked: set[tuple[str, str]] = set()
    widths: dict[str, int] = {}
    for f in chosen:
        assert f.location is not None and f.location.sheet is not None
        ws = by_name.get(f.location.sheet)
        if ws is None:
            rows.append((f, f.location.sheet, ""))
            continue
        if ws.title not in widths:  # max_column walks every cell: once a sheet, not a finding
            widths[ws.title] = ws.max_column
        ref = _mark(ws, f, widths[ws.title])
        if ref:
            marked.add((ws.title, ref))
        rows.append((f, ws.title, ref or "A1"))
    _problems_sheet(workbook, f"Các vấn đề cần sửa trong tệp {filename}", rows)
    out = io.BytesIO()
    workbook.save(out)
    return AnnotatedCopy(copy_name(filename), out.getvalue(), len(marked))


def annotated_copies(lists: Sequence[ReadList], findings: Sequence[Finding]) -> list[AnnotatedCopy]:
    """One annotated copy per list file that has a problem inside its sheets."""
    copies = []
    for read in lists:
        copy = annotate(
            read.attachment.filename, read.attachment.payload, read.kind, read.sheets, findings
        )
        if copy is not None:
            copies.append(copy)
    return copies
