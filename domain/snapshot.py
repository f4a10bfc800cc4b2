"""The campaign as the Department sees it at one moment: the read model.

`storage.read_model.snapshot` fills it from the database; the digest, the workbook, the
reminders, the operator's `status` and the desk all read this one value, so they agree on what
"accepted", "needs a person" and "not processed" mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.campaign import Campaign, Unit
from domain.counting import proposed
from domain.kinds import MailState, MessageState, NomineeKind, Outcome, SubmissionStatus
from domain.model import Finding, Nominee


@dataclass(frozen=True)
class SubmissionEntry:
    id: int
    unit_code: str
    version: int
    status: SubmissionStatus
    late: bool
    received_at: datetime
    created_at: datetime
    errors: int
    warnings: int
    error_messages: tuple[str, ...] = ()
    message_id: int = 0  # the inbound message it came in
    decision_by: str = ""  # an officer who set its status by hand, and why
    decision_reason: str = ""

    @property
    def accepted(self) -> bool:
        return self.status.accepted


@dataclass(frozen=True)
class UnitEntry:
    unit: Unit
    current: SubmissionEntry | None
    submissions: int
    nominees: tuple[Nominee, ...] = ()  # those of the current submission
    papers: tuple[PaperEntry, ...] = ()  # the current submission's files

    @property
    def accepted(self) -> bool:
        return self.current is not None and self.current.accepted

    def proposed(self, award: str, kind: NomineeKind) -> int:
        return proposed(self.nominees, award, kind)


@dataclass(frozen=True)
class MessageEntry:
    """An inbound message a person should look at, or one the program could not handle."""

    id: int
    from_address: str
    subject: str
    received_at: datetime
    state: MessageState
    outcome: Outcome | None
    outcome_detail: str
    error: str  # the program's last failure on it; empty once handled

    @property
    def detail(self) -> str:
        """The line a person reads: the failure while it is one, else what was decided."""
        return (
            self.error
            if self.state is not MessageState.DONE and self.error
            else (self.outcome_detail)
        )


@dataclass(frozen=True)
class FailedMail:
    id: int
    recipient: str
    subject: str
    state: MailState
    error: str


@dataclass(frozen=True)
class Selected:
    """A nominee the Department chose for a province-quota award; `nominee` is None when the
    unit's current accepted list no longer has them (a person must look again)."""

    award: str
    unit_code: str
    kind: NomineeKind
    name: str
    nominee: Nominee | None
    selected_by: str


@dataclass(frozen=True)
class Snapshot:
    campaign: Campaign
    taken_at: datetime
    units: tuple[UnitEntry, ...]
    history: tuple[SubmissionEntry, ...]  # every submission, oldest first
    # Mail a person must read (`domain.kinds.NEEDS_PERSON`), and mail not processed yet.
    to_read: tuple[MessageEntry, ...] = ()
    not_processed: tuple[MessageEntry, ...] = ()
    failed_mail: tuple[FailedMail, ...] = ()
    selected: tuple[Selected, ...] = ()

    def unit(self, code: str) -> UnitEntry:
        return next(u for u in self.units if u.unit.code == code)

    @property
    def accepted_units(self) -> tuple[UnitEntry, ...]:
        return tuple(u for u in self.units if u.accepted)

    def selected_for(self, award: str) -> tuple[Selected, ...]:
        return tuple(s for s in self.selected if s.award == award)


@dataclass(frozen=True)
class PaperEntry:
    id: int
    filename: str
    kind: str  # a `DocumentKind` value
    size: int
    sha256: str = ""
    stored_path: str = ""  # in the file store
    signature: str = ""  # a PDF's digital signatures, as people read them


@dataclass(frozen=True)
class ReplyEntry:
    id: int
    kind: str
    subject: str
    state: MailState
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class FindingEntry:
    id: int
    finding: Finding
    waived: bool  # an officer accepted the submission despite it


@dataclass(frozen=True)
class VersionDetail:
    """One submission as the desk shows it: what was read, what was found, what came with it."""

    entry: SubmissionEntry
    message_id: int  # the inbound message, for its original .eml
    nominees: tuple[Nominee, ...]
    findings: tuple[FindingEntry, ...]
    papers: tuple[PaperEntry, ...]


@dataclass(frozen=True)
class UnitHistory:
    campaign: Campaign  # with the officers' decisions applied (the unit's deadline, addresses)
    unit: Unit
    versions: tuple[VersionDetail, ...]  # newest first
    replies: tuple[ReplyEntry, ...]  # newest first: answers to its mail, and its reminders
