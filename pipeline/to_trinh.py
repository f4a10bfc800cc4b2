"""The Department's Tờ trình to the Chairman, drafted from the campaign at a moment: how many
units sent, what is proposed per award and kind against the quotas, the Prime Minister's
candidates the Department chose, and the reward estimate at the rates in force on the day of the
draft. Laid out as Nghị định 30/2020/NĐ-CP asks (A4, Times New Roman, the title block, "Kính
gửi:", "Nơi nhận:", the signature block); the officer finishes it in Word and signs it.

Pure: a snapshot in, the .docx bytes out (python-docx)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from docx import Document as new_document
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from domain.kinds import NomineeKind
from domain.snapshot import Snapshot
from domain.text import xml_safe
from domain.wording import document_date_text, format_vnd, moment_text
from pipeline.consolidate import accepted_totals, reward_estimate
from pipeline.sheet_layout import FONT, QUOC_HIEU, TIEU_NGU

BODY = Pt(14)
SMALL = Pt(12)


@dataclass(frozen=True)
class Drafted:
    payload: bytes
    units_sent: int
    units_accepted: int
    reward_total: int


def _font(paragraph: Paragraph, size: Pt = BODY) -> None:
    for run in paragraph.runs:
        run.font.name = FONT
        run.font.size = size
        fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), FONT)  # the fallback Word uses for some characters, too


def _line(
    container: Document | _Cell,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    size: Pt = BODY,
    align: int = WD_ALIGN_PARAGRAPH.CENTER,
    indent: bool = False,
) -> Paragraph:
    paragraph = container.add_paragraph()
    run = paragraph.add_run(xml_safe(text))  # names come from units' files
    run.bold, run.italic = bold, italic
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(3)
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    _font(paragraph, size)
    return paragraph


def _rule(container: Document | _Cell, share_of: str) -> None:
    """The decree's solid rule under a heading, about as long as `share_of`."""
    _line(container, "\u2014" * max(4, round(len(share_of) * 0.45)), size=Pt(9))


def _body(doc: Document, text: str, *, bold: bool = False) -> Paragraph:
    return _line(doc, text, bold=bold, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True)


def _header(doc: Document, snapshot: Snapshot, day: date) -> None:
    d = snapshot.campaign.department
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    left, right = table.rows[0].cells
    for column, cell, width in zip(table.columns, (left, right), (Cm(5.8), Cm(10.2)), strict=True):
        column.width = cell.width = width  # Word reads the cells', LibreOffice the columns'
    left.paragraphs[0].text = ""
    if d.parent_body:
        _line(left, d.parent_body.upper(), size=Pt(13))
    issuing = (d.issuing_body or d.name).upper()
    _line(left, issuing, bold=True, size=Pt(13))
    _rule(left, issuing[: len(issuing) // 2 + 2])
    _line(left, f"Số:        /TTr-{d.document_code}", size=Pt(13))
    right.paragraphs[0].text = ""
    _line(right, QUOC_HIEU, bold=True, size=Pt(12))
    _line(right, TIEU_NGU, bold=True, size=Pt(13))
    _rule(right, TIEU_NGU)
    if d.place:
        _line(right, document_date_text(d.place, day), italic=True)


def draft_to_trinh(snapshot: Snapshot, day: date) -> Drafted:
    """The draft as of `snapshot`, dated `day` (its rates are those in force that day)."""
    c = snapshot.campaign
    d = c.department
    doc = new_document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    _header(doc, snapshot, day)
    _line(doc, "")
    _line(doc, "TỜ TRÌNH", bold=True)
    subject = (
        "Về việc đề nghị tặng thưởng Bằng khen cho các tập thể, cá nhân có thành tích xuất sắc "
        f"trong {c.title[0].lower()}{c.title[1:]}"
    )
    _line(doc, subject, bold=True)
    _rule(doc, "Về việc đề nghị tặng thưởng")
    _line(doc, f"Kính gửi: {d.submits_to}.")

    period = c.rewards.in_force(day)
    sent = [e for e in snapshot.units if e.current is not None]
    accepted = snapshot.accepted_units
    missing = [e.unit.name for e in snapshot.units if not e.accepted]
    taken = moment_text(snapshot.taken_at, c.tz)
    _body(doc, f"Căn cứ Luật Thi đua, Khen thưởng; căn cứ {period.basis};")
    _body(doc, f"Căn cứ Kế hoạch của UBND tỉnh về {c.title[0].lower()}{c.title[1:]};")
    _body(
        doc,
        f"Trên cơ sở hồ sơ đề nghị khen thưởng các cơ quan, đơn vị, địa phương gửi đến (tổng hợp "
        f"đến {taken}), {d.issuing_body or d.name} báo cáo và đề nghị như sau:",
    )
    _body(doc, "1. Kết quả tiếp nhận hồ sơ", bold=True)
    _body(
        doc,
        f"Có {len(sent)}/{len(snapshot.units)} cơ quan, đơn vị, địa phương gửi hồ sơ; "
        f"{len(accepted)} đơn vị có hồ sơ hợp lệ."
        + (f" Chưa có hồ sơ hợp lệ: {', '.join(missing)}." if missing else ""),
    )
    _body(doc, "2. Số lượng đề nghị khen thưởng", bold=True)
    totals = accepted_totals(snapshot)
    for code, award in c.awards.items():
        quota = award.province_quota or c.allocation.total
        chosen = [s for s in snapshot.selected_for(code) if s.nominee is not None]
        if award.province_quota is not None:
            counts = {k: sum(1 for s in chosen if s.kind is k) for k in NomineeKind}
            how = "Sở Nội vụ lựa chọn" if chosen else "chưa lựa chọn; các đơn vị đề nghị"
            if not chosen:
                counts = {k: totals[code][k] for k in NomineeKind}
        else:
            counts, how = {k: totals[code][k] for k in NomineeKind}, "đề nghị"
        _body(
            doc,
            f"- {award.name} ({how}): {counts[NomineeKind.COLLECTIVE]:02d} tập thể "
            f"(chỉ tiêu {quota.collectives}), {counts[NomineeKind.INDIVIDUAL]:02d} cá nhân "
            f"(chỉ tiêu {quota.individuals}).",
        )
        for s in chosen:
            unit = c.units_by_code[s.unit_code].name
            _body(doc, f"  + {s.name} ({s.kind.label}, {unit}).")
    _body(doc, f"3. Dự toán kinh phí khen thưởng (theo {period.basis})", bold=True)
    lines = reward_estimate(snapshot, day)
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, title in zip(
        table.rows[0].cells,
        ("Hình thức", "Đối tượng", "Số lượng", "Mức thưởng", "Thành tiền"),
        strict=True,
    ):
        cell.paragraphs[0].text = ""
        _line(cell, title, bold=True, size=SMALL)
    total = 0
    for line in lines:
        amount = round(line.amount)
        total += amount
        values = (
            line.award,
            line.kind.label,
            str(line.count),
            format_vnd(line.amount_each),
            format_vnd(amount),
        )
        row = table.add_row().cells
        for cell, value in zip(row, values, strict=True):
            cell.paragraphs[0].text = ""
            _line(cell, value, size=SMALL)
    row = table.add_row().cells
    row[0].merge(row[3])
    row[0].paragraphs[0].text = ""
    _line(row[0], "Tổng cộng", bold=True, size=SMALL)
    row[4].paragraphs[0].text = ""
    _line(row[4], format_vnd(total), bold=True, size=SMALL)
    _body(
        doc,
        f"Mức lương cơ sở {format_vnd(period.base_salary_vnd)}; tập thể được thưởng gấp "
        f"{period.collective_factor:g} lần mức của cá nhân.",
    )
    _body(
        doc,
        f"{d.issuing_body or d.name} kính trình {d.submits_to} xem xét, quyết định./.",
    )
    _body(doc, "(Kèm theo danh sách tập thể, cá nhân đề nghị khen thưởng)")
    _signatures(doc, snapshot)
    buffer = BytesIO()
    doc.save(buffer)
    return Drafted(buffer.getvalue(), len(sent), len(accepted), total)


def _signatures(doc: Document, snapshot: Snapshot) -> None:
    d = snapshot.campaign.department
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].text = ""
    _line(left, "Nơi nhận:", bold=True, italic=True, size=SMALL, align=WD_ALIGN_PARAGRAPH.LEFT)
    for where in ("- Như trên;", f"- Lưu: VT, {d.office}."):
        _line(left, where, size=Pt(11), align=WD_ALIGN_PARAGRAPH.LEFT)
    right.paragraphs[0].text = ""
    for title in d.signer_titles:
        _line(right, title.upper(), bold=True)
    for _ in range(4):
        _line(right, "")
    _line(right, d.signer, bold=True)
