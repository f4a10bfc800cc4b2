"""The audit trail as a person reads it: one row per entry, Vietnam time, the action in words,
as CSV (UTF-8 with a byte-order mark, so Excel opens the diacritics right) or as a workbook.
Each row keeps its hash, so an exported copy can be checked against the database later."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import tzinfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from domain.audit import AuditFields
from domain.wording import (
    audit_action_label,
    audit_object_label,
    mail_kind_label,
    mail_state_label,
    moment_text,
    outcome_label,
)
from pipeline.sheet_layout import put

HEADERS = (
    "STT",
    "Thời gian",
    "Người thực hiện",
    "Việc",
    "Đối tượng",
    "Đơn vị",
    "Lý do",
    "Chi tiết",
)
_WIDTHS = (7, 20, 24, 24, 16, 14, 40, 60)


# The details' keys as a reader names them (the stored JSON keeps the keys themselves).
_DETAIL_LABELS = {
    "outcome": "kết quả",
    "rule": "quy tắc phân loại",
    "from": "từ",
    "to": "thành",
    "detail": "diễn giải",
    "findings": "mã lỗi",
    "reply": "thư trả lời số",
    "version": "lần gửi",
    "waived": "bỏ qua",
    "mail": "thư báo số",
    "address": "địa chỉ",
    "message": "thư đến số",
    "key": "khóa",
    "subject": "tiêu đề",
    "kind": "loại",
    "state": "trạng thái",
    "error": "lỗi",
    "selected": "đã chọn",
    "added": "thêm",
    "removed": "bỏ",
}


# Values stored as identities, shown in words.
_VALUE_LABELS: dict[str, Callable[[str], str]] = {
    "outcome": outcome_label,
    "kind": mail_kind_label,
    "state": mail_state_label,
}


def _value(key: str, value: object) -> str:
    label = _VALUE_LABELS.get(key)
    if label is not None and isinstance(value, str):
        try:
            return label(value)
        except ValueError:
            return value
    return _shown(value)


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("message") or value.get("code") or value)
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def details_text(details: str) -> str:
    """Details as "label: value; …" for a reader (the stored JSON stays the record)."""
    try:
        data = json.loads(details)
    except ValueError:
        return details
    if not isinstance(data, dict):
        return details
    return "; ".join(
        f"{_DETAIL_LABELS.get(key, key)}: {_value(key, value)}"
        for key, value in data.items()
        if value not in (None, "", [], {})
    )


def _cells(row: AuditFields, tz: tzinfo) -> tuple[object, ...]:
    return (
        row.seq,
        moment_text(row.at, tz),
        row.actor,
        audit_action_label(row.action),
        audit_object_label(row.object_kind, row.object_id),
        row.unit_code,
        row.reason,
        details_text(row.details),
    )


def audit_csv(rows: Sequence[AuditFields], tz: tzinfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(_cells(row, tz))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def audit_workbook(rows: Sequence[AuditFields], tz: tzinfo) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Nhật ký"
    font = Font(name="Times New Roman", size=12)
    for column, (title, width) in enumerate(zip(HEADERS, _WIDTHS, strict=True), start=1):
        put(ws, 1, column, title)
        ws.cell(1, column).font = Font(name="Times New Roman", size=12, bold=True)
        ws.column_dimensions[ws.cell(1, column).column_letter].width = width
    for r, row in enumerate(rows, start=2):
        for column, value in enumerate(_cells(row, tz), start=1):
            put(ws, r, column, value)
            ws.cell(r, column).font = font
            ws.cell(r, column).alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
