"""A worksheet laid out as an administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I):
the parent body over the issuing body at the top left, Quốc hiệu and Tiêu ngữ with its rule at
the top right, the place-and-date line in italics, the title, and the signature block; Times New
Roman on every cell at the decree's sizes; A4 print set-up. Also the cell helpers every workbook
we write shares (text never becomes a formula)."""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from datetime import date

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from domain.campaign import Department
from domain.wording import document_date_text

FONT = "Times New Roman"
BODY_SIZE = 12  # tables: the decree's 12–13
HEADING_SIZE = 13  # title block, title: 12–13 and 13–14
_FORMULA_STARTS = ("=", "+", "-", "@", "\t")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"


def put(ws: Worksheet, row: int, column: int, value: object) -> None:
    """Write a value; text is forced to stay text (no formulas from units' files) and loses the
    control characters a worksheet cannot hold (a damaged .csv has them)."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(_FORMULA_STARTS):
            cell.quotePrefix = True


def fit_row_height(ws: Worksheet, row: int, widths: Sequence[float]) -> None:
    """Give a row the height its wrapped text needs: spreadsheet programs do not always do it."""
    lines = 1
    for i, width in enumerate(widths, 1):
        value = ws.cell(row, i).value
        if isinstance(value, str) and value:
            per_line = max(1.0, width * 1.15)
            needed = sum(max(1, -(-len(part) // int(per_line))) for part in value.split("\n"))
            lines = max(lines, needed)
    ws.row_dimensions[row].height = 16 * lines + 2


def print_setup(ws: Worksheet, header_row: int) -> None:
    ws.freeze_panes = ws.cell(header_row + 1, 1)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "Trang &P / &N"


def _merged(ws: Worksheet, row: int, first: int, last: int, value: str, font: Font) -> None:
    put(ws, row, first, value)
    if last > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    ws.cell(row, first).font = font
    ws.cell(row, first).alignment = _CENTER


def _rule(ws: Worksheet, row: int, first: int, last: int, text: str, share: float) -> None:
    """The decree's rule under a heading: a line `share` as long as `text`, centred under it.
    Drawn as a run of em dashes in a merged cell (a worksheet cannot place a drawn line), which
    stays centred and of the right length whatever the columns' widths."""
    # Times New Roman letters average about half an em; an em dash is one em.
    dashes = max(3, round(len(text) * 0.5 * share))
    _merged(ws, row, first, last, "\u2014" * dashes, Font(name=FONT, size=HEADING_SIZE - 2))
    ws.row_dimensions[row].height = 8


def title_block(
    ws: Worksheet,
    department: Department,
    width: int,
    day: date,
    title: str,
    lines: Sequence[str] = (),
) -> int:
    """The decree's header over `width` columns (their widths already set), the place and
    date, the title in capitals and the lines under it (italic). Returns the next free row."""
    left_end = max(2, width * 2 // 5)
    right = left_end + 1
    parent = department.parent_body.upper()
    issuing = (department.issuing_body or department.name).upper()
    regular = Font(name=FONT, size=HEADING_SIZE)
    bold = Font(name=FONT, size=HEADING_SIZE, bold=True)
    if parent:
        _merged(ws, 1, 1, left_end, parent, regular)
    _merged(ws, 2 if parent else 1, 1, left_end, issuing, bold)
    _merged(ws, 1, right, width, QUOC_HIEU, bold)
    _merged(ws, 2, right, width, TIEU_NGU, Font(name=FONT, size=HEADING_SIZE + 1, bold=True))
    _rule(ws, 3, 1, left_end, issuing, 0.5)  # a third to a half of the issuing body's name
    _rule(ws, 3, right, width, TIEU_NGU, 1.0)  # as long as the Tiêu ngữ
    if department.place:
        _merged(
            ws,
            4,
            right,
            width,
            document_date_text(department.place, day),
            Font(name=FONT, size=HEADING_SIZE, italic=True),
        )
    _merged(ws, 6, 1, width, title, Font(name=FONT, size=HEADING_SIZE + 1, bold=True))
    row = 7
    for line in lines:
        _merged(ws, row, 1, width, line, Font(name=FONT, size=HEADING_SIZE, italic=True))
        ws.row_dimensions[row].height = 18 * max(1, -(-len(line) // max(40, width * 12)))
        row += 1
    ws.row_dimensions[6].height = 36
    return row + 1


def signature_block(ws: Worksheet, department: Department, row: int, width: int) -> int:
    """The signer's titles, room to sign and seal, the name: right half, under the table."""
    first = max(2, width * 3 // 5)
    bold = Font(name=FONT, size=HEADING_SIZE, bold=True)
    row += 1
    for title in department.signer_titles:
        _merged(ws, row, first, width, title.upper(), bold)
        row += 1
    row += 4
    _merged(ws, row, first, width, department.signer or "", bold)
    return row + 1


def times_new_roman(wb: Workbook) -> None:
    """Every written cell in Times New Roman, its size, weight and slant kept (cells written
    without a font get the decree's body size)."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None and not cell.has_style:
                    continue
                font = copy(cell.font)
                # openpyxl's default is Calibri 11: a cell at 11 was written without a size.
                size = font.sz if font.sz and font.sz != 11 else BODY_SIZE
                cell.font = Font(
                    name=FONT,
                    size=size,
                    bold=font.b,
                    italic=font.i,
                    underline=font.u,
                    color=font.color,
                )
