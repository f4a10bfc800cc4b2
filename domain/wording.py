"""How a time, a size, an amount, a place in a file and a state read in Vietnamese.

One place for each form, so the replies, the digest, the workbook and the operator's command
write a moment or a sum the same way ("14:05 ngày 24/05/2021", "31,5", "5.215.000 đồng").
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from domain.kinds import (
    AuditAction,
    FileKind,
    JobOutcome,
    MailKind,
    MailState,
    Outcome,
    SubmissionStatus,
)

MOMENT = "%H:%M ngày %d/%m/%Y"
SHORT_MOMENT = "%H:%M %d/%m"


def moment_text(moment: datetime, tz: tzinfo) -> str:
    """A moment in the campaign's time zone: '14:05 ngày 24/05/2021'."""
    return moment.astimezone(tz).strftime(MOMENT)


# As officers write a moment ("24/05/2021 17:00", "17:00 24/05/2021"), and as ISO does.
_FORMATS = ("%d/%m/%Y %H:%M", "%H:%M %d/%m/%Y", "%d/%m/%Y", "%H:%M ngày %d/%m/%Y")
MOMENT_FORMS = 'ghi dạng "24/05/2021 17:00" hoặc "2021-05-24 17:00"'


def parse_moment(text: str, tz: tzinfo) -> datetime | None:
    """A moment as an officer writes it; without a zone it is in `tz` (the campaign's)."""
    text = text.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for form in _FORMATS:
            try:
                parsed = datetime.strptime(text, form)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def document_date_text(place: str, day: date) -> str:
    """The place-and-date line of an administrative document (Nghị định 30/2020/NĐ-CP):
    "Lai Châu, ngày 26 tháng 5 năm 2021", a leading zero for days below 10 and for months 1
    and 2 ("ngày 05 tháng 01 năm 2021")."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def deadline_text(last_minute: datetime, tz: tzinfo) -> str:
    """The deadline as a person reads it: '23:59 ngày 25/05/2021, giờ Việt Nam'."""
    return f"{moment_text(last_minute, tz)}, giờ Việt Nam"


def short_moment_text(moment: datetime, tz: tzinfo) -> str:
    """A moment in a table cell: '14:05 24/05'."""
    return moment.astimezone(tz).strftime(SHORT_MOMENT)


def megabytes(size: int) -> str:
    """A size as a Vietnamese reader writes it: "31,5"."""
    return f"{size / 1024 / 1024:.1f}".replace(".", ",")


def percent_text(value: float) -> str:
    """A percentage as Vietnamese writes it: 99.8 -> '99,8'."""
    return f"{value:g}".replace(".", ",")


def format_vnd(amount: float) -> str:
    """Money as Vietnamese writes it: 5215000 -> '5.215.000 đồng'."""
    return f"{round(amount):,}".replace(",", ".") + " đồng"


def place_in_file(file: str | None, sheet: str | None, row: int | None, column: str | None) -> str:
    """Where a finding points: 'tệp ds.xlsx, trang tính Cá nhân, dòng 12, cột C' ("trang" alone
    is a printed page)."""
    parts = []
    if file:
        parts.append(f"tệp {file}")
    if sheet:
        parts.append(f"trang tính {sheet}")
    if row:
        parts.append(f"dòng {row}")
    if column:
        parts.append(f"cột {column}")
    return ", ".join(parts)


_STATUS_LABELS = {
    None: "chưa nộp",
    SubmissionStatus.ACCEPTED: "đã tiếp nhận",
    SubmissionStatus.ACCEPTED_LATE: "tiếp nhận, nộp muộn",
    SubmissionStatus.REJECTED: "có lỗi, chờ gửi lại",
}


def status_label(status: SubmissionStatus | str | None) -> str:
    """How a unit's current state reads for the Department: None is "not submitted"."""
    return _STATUS_LABELS[SubmissionStatus(status) if status is not None else None]


_FILE_KIND_LABELS = {
    FileKind.XLSX: "Excel (.xlsx)",
    FileKind.XLSM: "Excel có macro (.xlsm)",
    FileKind.XLS: "Excel 97–2003 (.xls)",
    FileKind.ODS: "OpenDocument (.ods)",
    FileKind.CSV: "văn bản CSV (.csv)",
    FileKind.ENCRYPTED: "tệp Office có mật khẩu",
    FileKind.DOCX: "Word (.docx)",
    FileKind.ODT: "OpenDocument văn bản (.odt)",
    FileKind.DOC: "Word 97–2003 (.doc)",
    FileKind.OLE_OTHER: "tệp Office cũ",
    FileKind.PDF: "PDF",
    FileKind.PNG: "ảnh PNG",
    FileKind.JPEG: "ảnh JPEG",
    FileKind.ZIP: "tệp nén .zip",
    FileKind.RAR: "tệp nén .rar",
    FileKind.SEVEN_ZIP: "tệp nén .7z",
    FileKind.UNKNOWN: "không rõ",
}


def file_kind_label(kind: FileKind) -> str:
    """What a file really is, as a clerk would name it: 'Excel 97–2003 (.xls)'."""
    return _FILE_KIND_LABELS[kind]


_OUTCOME_LABELS = {
    Outcome.SUBMISSION: "hồ sơ",
    Outcome.UNKNOWN_SENDER: "địa chỉ chưa đăng ký",
    Outcome.AUTOMATIC: "thư tự động",
    Outcome.DUPLICATE: "thư trùng",
    Outcome.CORRESPONDENCE: "thư trao đổi",
    Outcome.SUSPICIOUS: "thư nghi giả mạo",
    Outcome.TOO_LARGE: "thư quá lớn",
    Outcome.UNFETCHABLE: "thư không tải được",
}


def outcome_label(outcome: Outcome | str) -> str:
    """What a handled message turned out to be: 'địa chỉ chưa đăng ký'."""
    return _OUTCOME_LABELS[Outcome(outcome)]


_JOB_LABELS = {
    "poll": "lấy và xử lý thư",
    "deliver": "gửi thư",
    "digest": "bản tổng hợp",
    "remind": "thư nhắc",
    "package": "gói hồ sơ trình",
}
_JOB_OUTCOME_LABELS = {
    JobOutcome.OK: "thành công",
    JobOutcome.FAILED: "LỖI",
    JobOutcome.RUNNING: "đang chạy",
}


def job_label(job: str) -> str:
    return _JOB_LABELS.get(job, job)


def job_outcome_label(outcome: JobOutcome | str) -> str:
    return _JOB_OUTCOME_LABELS.get(JobOutcome(outcome), str(outcome))


_AUDIT_ACTION_LABELS = {
    AuditAction.ACCEPT_DESPITE_FINDINGS: "tiếp nhận dù có lỗi",
    AuditAction.REJECT: "không tiếp nhận",
    AuditAction.EXTEND_DEADLINE: "gia hạn nộp",
    AuditAction.REGISTER_SENDER: "đăng ký địa chỉ gửi",
    AuditAction.REPROCESS: "xử lý lại thư",
    AuditAction.RESEND: "gửi lại thư",
    AuditAction.SELECT_NOMINEES: "lựa chọn đề nghị",
    AuditAction.MESSAGE_HANDLED: "xử lý thư đến",
    AuditAction.MAIL_SENT: "đã gửi thư",
    AuditAction.MAIL_NOT_SENT: "không gửi được thư",
    AuditAction.REMINDER_QUEUED: "thư nhắc hạn",
    AuditAction.DIGEST_QUEUED: "bản tổng hợp",
}


def audit_action_label(action: AuditAction | str) -> str:
    """What an audit row's action reads as: 'gia hạn nộp'."""
    return _AUDIT_ACTION_LABELS[AuditAction(action)]


_AUDIT_OBJECT_LABELS = {
    "message": "thư đến số",
    "mail": "thư gửi số",
    "submission": "hồ sơ số",
    "unit": "đơn vị",
    "selection": "lựa chọn",
}


def audit_object_label(kind: str, object_id: str) -> str:
    """What an audit row is about: 'thư đến số 5', 'đơn vị STP'."""
    return f"{_AUDIT_OBJECT_LABELS.get(kind, kind)} {object_id}"


_MAIL_KIND_LABELS = {
    MailKind.ACKNOWLEDGEMENT: "thư báo tiếp nhận",
    MailKind.ERROR_REPORT: "thư báo lỗi",
    MailKind.NOTHING_ATTACHED: "thư báo thiếu tệp",
    MailKind.HOW_TO_SUBMIT: "hướng dẫn gửi hồ sơ",
    MailKind.TOO_LARGE: "thư báo quá lớn",
    MailKind.DIGEST: "bản tổng hợp",
    MailKind.REMINDER: "thư nhắc hạn",
    MailKind.DECISION: "thư báo quyết định",
}
_MAIL_STATE_LABELS = {
    MailState.QUEUED: "chờ gửi",
    MailState.SENDING: "đang gửi",
    MailState.SENT: "đã gửi",
    MailState.FAILED: "bị từ chối",
    MailState.UNCERTAIN: "không rõ đã đến",
}


def mail_kind_label(kind: MailKind | str) -> str:
    return _MAIL_KIND_LABELS[MailKind(kind)]


def mail_state_label(state: MailState | str) -> str:
    return _MAIL_STATE_LABELS[MailState(state)]
