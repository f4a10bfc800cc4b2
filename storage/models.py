"""Table models. Times are stored in UTC (sqlmodel rejects naive datetimes); people see them in
the campaign's time zone.

The ledger (`InboundMessage`) gets a row for every fetched message before anything else happens
to it, with its state; the raw bytes sit in `RawMessage` so listing the ledger stays cheap.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from domain.kinds import (
    DeskRole,
    DispatchKind,
    JobOutcome,
    MailboxAction,
    MailKind,
    MailState,
    MessageState,
    Outcome,
    SubmissionStatus,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Enumerations are stored as their values in plain strings: readable in SQL, no PostgreSQL
# enum types to migrate.
_ENUM = String(32)


def _fk(target: str, *, nullable: bool = False, index: bool = True) -> Column[int]:
    return Column(Integer, ForeignKey(target), nullable=nullable, index=index)


class UnitRecord(SQLModel, table=True):
    __tablename__ = "unit"
    __table_args__ = (UniqueConstraint("campaign_code", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_code: str
    code: str
    name: str
    kind: str


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("source", "source_key"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str  # which mailbox, e.g. "imap://user@host/INBOX"
    source_key: str  # its key there: "uidvalidity/uid" for IMAP
    uidvalidity: int | None = None
    uid: int | None = None
    message_id: str = Field(default="", index=True)
    sha256: str = Field(index=True)
    size: int
    from_address: str = Field(default="", index=True)
    subject: str = ""
    fetched_at: datetime = Field(default_factory=utcnow)
    # When the mail server received it (IMAP INTERNALDATE; the Date header for a Maildir):
    # this, not the sender's clock, decides whether a submission is late.
    received_at: datetime | None = None
    state: MessageState = Field(default=MessageState.RECEIVED, index=True, sa_type=_ENUM)
    outcome: Outcome | None = Field(default=None, sa_type=_ENUM)
    outcome_detail: str = ""
    decided_by: str = ""  # the triage rule that decided the outcome (`pipeline.triage.RULES`)
    attempts: int = 0
    last_error: str = Field(default="", sa_type=Text)
    duplicate_of_id: int | None = Field(
        default=None, sa_column=_fk("inbound_message.id", nullable=True)
    )
    mailbox_action: MailboxAction = Field(default=MailboxAction.PENDING, index=True, sa_type=_ENUM)
    mailbox_folder: str = ""  # where it is filed once handled
    updated_at: datetime = Field(default_factory=utcnow)


class RawMessage(SQLModel, table=True):
    __tablename__ = "raw_message"
    inbound_message_id: int = Field(
        sa_column=Column(Integer, ForeignKey("inbound_message.id"), primary_key=True)
    )
    # The whole message, or for one too large to hold in memory only its head (enough for
    # its headers), the whole then being in the file store at `stored_path`.
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    stored_path: str | None = None


class Submission(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_code", "unit_code", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_code: str
    unit_code: str = Field(index=True)
    inbound_message_id: int = Field(sa_column=_fk("inbound_message.id"))
    version: int
    supersedes_id: int | None = Field(default=None, sa_column=_fk("submission.id", nullable=True))
    is_current: bool = True
    status: SubmissionStatus = Field(sa_type=_ENUM)
    late: bool = False
    received_at: datetime
    collectives: int = 0
    individuals: int = 0
    errors: int = 0
    warnings: int = 0
    rules_run: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    # An officer's decision on this version (accepted despite findings, or rejected): who, why.
    decision_by: str = ""
    decision_reason: str = Field(default="", sa_type=Text)


class NomineeRecord(SQLModel, table=True):
    __tablename__ = "nominee"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(sa_column=_fk("submission.id"))
    kind: str
    name: str
    name_key: str = Field(index=True)
    awards: str  # award codes, comma-separated, sorted
    position: str = ""
    workplace: str = ""
    birth_year: int | None = None
    gender: str = ""
    summary: str = Field(default="", sa_type=Text)
    turnout_percent: float | None = None
    note: str = ""
    source_file: str = ""
    source_sheet: str = ""
    source_row: int | None = None


class DocumentRecord(SQLModel, table=True):
    __tablename__ = "document"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(sa_column=_fk("submission.id"))
    filename: str
    kind: str
    content_type: str
    size: int
    sha256: str
    stored_path: str
    # A PDF's digital signatures as people read them ("đã ký số bởi …", "chưa ký số"); "" for
    # other files.
    signature: str = Field(default="", sa_type=Text)


class FindingRecord(SQLModel, table=True):
    __tablename__ = "finding"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(sa_column=_fk("submission.id"))
    code: str = Field(index=True)
    severity: str
    message: str = Field(sa_type=Text)
    fix: str = Field(sa_type=Text)
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = Field(default=None, sa_type=Text)
    waived: bool = False  # an officer accepted the submission despite this finding


class OutboundMail(SQLModel, table=True):
    __tablename__ = "outbound_mail"
    id: int | None = Field(default=None, primary_key=True)
    inbound_message_id: int | None = Field(
        default=None, sa_column=_fk("inbound_message.id", nullable=True)
    )
    kind: MailKind = Field(sa_type=AutoString)
    recipient: str = Field(index=True)  # addresses, comma-separated
    unit_code: str = Field(default="", index=True)  # the unit it goes to, when it goes to one
    subject: str
    message_id: str = Field(unique=True)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: MailState = Field(default=MailState.QUEUED, index=True, sa_type=_ENUM)
    attempts: int = 0
    last_error: str = Field(default="", sa_type=Text)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None

    @property
    def recipients(self) -> list[str]:
        return [r for r in self.recipient.split(",") if r]


class MailboxCursor(SQLModel, table=True):
    """How far an IMAP folder has been fetched: the last UID seen under a UIDVALIDITY."""

    __tablename__ = "mailbox_cursor"
    source: str = Field(primary_key=True)
    uidvalidity: int
    last_uid: int
    updated_at: datetime = Field(default_factory=utcnow)


class FetchAttempt(SQLModel, table=True):
    """A message whose fetch was begun and has not been stored yet: counted before each try and
    committed, so one that kills the process every time (out of memory, say) is set aside after a
    few tries instead of blocking every later message."""

    __tablename__ = "fetch_attempt"
    source: str = Field(primary_key=True)
    source_key: str = Field(primary_key=True)
    attempts: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class Dispatch(SQLModel, table=True):
    """A scheduled mailing that must happen once: a day's digest, a unit's reminder at an offset.

    The row is inserted in the same transaction that queues the mail; its unique key is what makes
    "once" hold across restarts, late runs and two schedulers started together.
    """

    __table_args__ = (UniqueConstraint("campaign_code", "kind", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_code: str
    kind: DispatchKind = Field(sa_type=AutoString)
    key: str  # e.g. "2021-05-20" for a digest, "SNV/3d" for a reminder
    created_at: datetime = Field(default_factory=utcnow)
    detail: str = ""


class JobRun(SQLModel, table=True):
    """One run of a scheduled job, for `intake status`."""

    __tablename__ = "job_run"
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(index=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    outcome: JobOutcome = Field(default=JobOutcome.RUNNING, sa_type=AutoString)
    detail: str = Field(default="", sa_type=Text)


class DeskUser(SQLModel, table=True):
    """An officer's account on the desk (`intake user add`): the password as an argon2 hash."""

    __tablename__ = "desk_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True)
    password_hash: str
    role: DeskRole = Field(sa_type=AutoString)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class DeadlineExtension(SQLModel, table=True):
    """An officer gave one unit more time: the latest row per unit is its deadline."""

    __tablename__ = "deadline_extension"
    id: int | None = Field(default=None, primary_key=True)
    campaign_code: str
    unit_code: str = Field(index=True)
    closes_at: datetime  # the first late instant
    decided_by: str
    reason: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


class SenderRegistration(SQLModel, table=True):
    """An address an officer recognised as a unit's, besides those in the campaign file."""

    __tablename__ = "sender_registration"
    __table_args__ = (UniqueConstraint("campaign_code", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_code: str
    unit_code: str
    address: str
    decided_by: str
    reason: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


class NomineeSelection(SQLModel, table=True):
    """A nominee the Department chose for a province-quota award (the Prime Minister's 3 + 3),
    by unit, kind and name, so the choice survives the unit resending an unchanged list."""

    __tablename__ = "nominee_selection"
    __table_args__ = (UniqueConstraint("campaign_code", "award", "unit_code", "kind", "name_key"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_code: str
    award: str
    unit_code: str
    kind: str
    name_key: str
    name: str
    selected_by: str
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """One row of the audit trail, hash-chained to the row before it (`domain.audit`)."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True)  # 1, 2, 3…: a gap is a deleted row
    at: datetime
    actor: str  # a desk user's name, "người vận hành (…)", or "hệ thống"
    action: str = Field(index=True)
    object_kind: str  # "message", "submission", "mail", "unit", "selection"
    object_id: str
    unit_code: str = Field(default="", index=True)
    reason: str = Field(default="", sa_type=Text)
    details: str = Field(default="{}", sa_type=Text)
    previous_hash: str
    hash: str


class AuditHead(SQLModel, table=True):
    """The chain's last row, updated by every append: appends serialise on this one row (a row
    lock on PostgreSQL, the write lock on SQLite), and a cut-off tail no longer matches it."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str
