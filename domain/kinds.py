"""Every state and kind the program names, as `StrEnum`s stored by value.

Values are identities (stored in the database, shown to operators in JSON, used in logs); what a
person reads for them is in `domain.wording`, except where the label is the thing itself.
"""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    LOCALITY = "locality"
    PROVINCIAL_BODY = "provincial_body"
    MASS_ORGANISATION = "mass_organisation"
    ARMED_FORCES = "armed_forces"

    @property
    def label(self) -> str:
        return {
            UnitKind.LOCALITY: "huyện, thành phố",
            UnitKind.PROVINCIAL_BODY: "sở, ban, ngành tỉnh",
            UnitKind.MASS_ORGANISATION: "đoàn thể tỉnh",
            UnitKind.ARMED_FORCES: "lực lượng vũ trang",
        }[self]


class NomineeKind(StrEnum):
    COLLECTIVE = "collective"
    INDIVIDUAL = "individual"

    @property
    def label(self) -> str:
        return "tập thể" if self is NomineeKind.COLLECTIVE else "cá nhân"


class DocumentKind(StrEnum):
    TO_TRINH = "to_trinh"
    BIEN_BAN = "bien_ban"
    TOM_TAT_THANH_TICH = "tom_tat_thanh_tich"
    BAO_CAO_THANH_TICH = "bao_cao_thanh_tich"
    NOMINATION_LIST = "nomination_list"
    OTHER = "other"

    @property
    def short_label(self) -> str:
        """What a file name should contain for the document to be recognised."""
        return self.label.split(" họp")[0]

    @property
    def label(self) -> str:
        return {
            DocumentKind.TO_TRINH: "Tờ trình",
            DocumentKind.BIEN_BAN: "Biên bản họp Hội đồng Thi đua – Khen thưởng",
            DocumentKind.TOM_TAT_THANH_TICH: "Tóm tắt thành tích",
            DocumentKind.BAO_CAO_THANH_TICH: "Báo cáo thành tích",
            DocumentKind.NOMINATION_LIST: "Danh sách đề nghị",
            DocumentKind.OTHER: "Tài liệu khác",
        }[self]


class FileKind(StrEnum):
    """What a file really is, judged by its content (`pipeline.formats.identify`)."""

    XLSX = "xlsx"
    XLSM = "xlsm"
    XLS = "xls"
    ODS = "ods"
    CSV = "csv"
    ENCRYPTED = "encrypted_office"
    DOCX = "docx"
    ODT = "odt"
    DOC = "doc"
    OLE_OTHER = "ole_other"
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    ZIP = "zip"
    RAR = "rar"
    SEVEN_ZIP = "7z"
    UNKNOWN = "unknown"


# How each kind is labelled in mail (a file taken out of an archive, an attachment we send).
MEDIA_TYPES = {
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.XLSM: "application/vnd.ms-excel.sheet.macroEnabled.12",
    FileKind.XLS: "application/vnd.ms-excel",
    FileKind.ODS: "application/vnd.oasis.opendocument.spreadsheet",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.DOC: "application/msword",
    FileKind.PDF: "application/pdf",
    FileKind.PNG: "image/png",
    FileKind.JPEG: "image/jpeg",
}
XLSX_MEDIA_TYPE = MEDIA_TYPES[FileKind.XLSX]
OCTET_STREAM = "application/octet-stream"


class RowRole(StrEnum):
    """What each non-empty row of a list's sheet was taken for: every row is exactly one."""

    TITLE = "title"  # the title block above the header
    HEADER = "header"  # the header, its sub-header, the row numbering the columns
    SECTION = "section"  # "I. TẬP THỂ", "II. CÁ NHÂN"
    GROUP = "group"  # "1. Văn phòng": a sub-group heading between nominees
    NOMINEE = "nominee"  # read as a collective or an individual
    NOMINEE_WITH_FAULT = (
        "nominee_with_fault"  # a nominee's row that could not be read: a finding says why
    )
    TOTALS = "totals"  # "Tổng cộng: 05 tập thể, 12 cá nhân"
    FOOTER = "footer"  # the signature block and notes under the table
    UNRECOGNISED = "unrecognised"  # inside the table, none of the above: a finding quotes it


class Severity(StrEnum):
    ERROR = "error"  # blocks acceptance
    WARNING = "warning"  # reported, does not block


class MessageState(StrEnum):
    """Where an inbound message is in its lifecycle (`storage.inbound` makes every change)."""

    RECEIVED = "received"  # in the ledger, not handled yet
    DONE = "done"  # handled: outcome stored, reply (if any) queued
    FAILED = "failed"  # the program failed on it; retried until the attempts cap
    QUARANTINED = "quarantined"  # failed too often; kept for the operator


class Outcome(StrEnum):
    """What a handled inbound message turned out to be."""

    SUBMISSION = "submission"
    UNKNOWN_SENDER = "unknown_sender"
    AUTOMATIC = "automatic"  # auto-reply, bounce, list mail: kept, never answered
    DUPLICATE = "duplicate"  # same content or Message-ID as an earlier message
    CORRESPONDENCE = "correspondence"  # a unit writing without a dossier: a person reads it
    SUSPICIOUS = "suspicious"  # a unit's address, but the server says DKIM/DMARC failed
    TOO_LARGE = "too_large"  # over mailbox.max_message_bytes: kept and answered, not unpacked
    UNFETCHABLE = "unfetchable"  # the server would not give its bytes after a few tries


# The outcomes a person at the Department has to look at: the one definition the digest, the
# status command and the desk share.
NEEDS_PERSON = (
    Outcome.UNKNOWN_SENDER,
    Outcome.SUSPICIOUS,
    Outcome.TOO_LARGE,
    Outcome.CORRESPONDENCE,
    Outcome.UNFETCHABLE,
)


class SubmissionStatus(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_LATE = "accepted_late"
    REJECTED = "rejected"

    @property
    def accepted(self) -> bool:
        """Whether the Department holds this dossier as received (late or not)."""
        return self is not SubmissionStatus.REJECTED


class MailState(StrEnum):
    """Where an outgoing mail is in its lifecycle (`storage.outbox` makes every change)."""

    QUEUED = "queued"
    SENDING = "sending"  # the end of the data is being sent: the server may accept it any moment
    SENT = "sent"
    FAILED = "failed"  # given up: permanent refusal or too many attempts
    # Interrupted after the end of the data was sent: probably delivered, never sent again
    # automatically; shown to the operator, who can resend it (`intake resend`).
    UNCERTAIN = "uncertain"


class MailKind(StrEnum):
    """What an outgoing mail is: the replies to units, and the scheduled mailings."""

    ACKNOWLEDGEMENT = "acknowledgement"
    ERROR_REPORT = "error_report"
    NOTHING_ATTACHED = "nothing_attached"
    HOW_TO_SUBMIT = "how_to_submit"
    TOO_LARGE = "too_large"
    DIGEST = "digest"
    REMINDER = "reminder"
    # An officer's decision about a unit's dossier or deadline, told to the unit.
    DECISION = "decision"


class MailboxAction(StrEnum):
    PENDING = "pending"
    DONE = "done"
    NOT_POSSIBLE = "not_possible"  # e.g. the mailbox was rebuilt and the UID no longer exists


class DispatchKind(StrEnum):
    """A scheduled mailing that goes out once per key."""

    DIGEST = "digest"
    REMINDER = "reminder"
    PACKAGE = "package"  # the forward package, written once the deadline has passed


class JobOutcome(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class DeskRole(StrEnum):
    """What an account may do on the desk: read (viewer), act on mail (officer), manage (admin)."""

    VIEWER = "viewer"
    OFFICER = "officer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return [DeskRole.VIEWER, DeskRole.OFFICER, DeskRole.ADMIN].index(self)


class AuditAction(StrEnum):
    """What an audit row records: an officer's decision, or something the service did by itself."""

    # Decisions (a desk user or an operator, always with a reason).
    ACCEPT_DESPITE_FINDINGS = "accept_despite_findings"
    REJECT = "reject"
    EXTEND_DEADLINE = "extend_deadline"
    REGISTER_SENDER = "register_sender"
    REPROCESS = "reprocess"
    RESEND = "resend"
    SELECT_NOMINEES = "select_nominees"
    # What the service did ("hệ thống").
    MESSAGE_HANDLED = "message_handled"
    MAIL_SENT = "mail_sent"
    MAIL_NOT_SENT = "mail_not_sent"  # refused for good, or uncertain
    REMINDER_QUEUED = "reminder_queued"
    DIGEST_QUEUED = "digest_queued"


SYSTEM_ACTOR = "hệ thống"
