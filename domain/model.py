"""Plain data passed between the pipeline's stages and stored by `storage`. No I/O: just values."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import PurePosixPath
from typing import Any

from domain.kinds import DocumentKind, FileKind, NomineeKind, RowRole, Severity
from domain.wording import moment_text, place_in_file


@dataclass(frozen=True)
class Location:
    """Where in the unit's files a finding points: file, sheet, 1-based row, column letter."""

    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def describe(self, include_file: bool = True) -> str:
        return place_in_file(self.file if include_file else None, self.sheet, self.row, self.column)


@dataclass(frozen=True)
class Finding:
    """One problem found in a submission, with a stable code and a message for the unit."""

    code: str
    severity: Severity
    message: str
    fix: str
    location: Location | None = None
    value: str | None = None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    payload: bytes
    inline: bool = False

    @property
    def extension(self) -> str:
        return PurePosixPath(self.filename.lower()).suffix

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    from_address: str
    from_name: str
    subject: str
    date: datetime | None
    references: str
    # Header names in lower case; only the headers the guards look at are kept.
    headers: dict[str, str]
    body_text: str
    attachments: tuple[Attachment, ...]
    defects: tuple[str, ...] = ()
    # The MIME structure could not be walked (nested too deep): no attachment could be read.
    structure_unreadable: bool = False


@dataclass(frozen=True)
class Nominee:
    kind: NomineeKind
    name: str
    awards: frozenset[str]
    location: Location
    position: str = ""
    workplace: str = ""
    birth_year: int | None = None
    gender: str = ""
    summary: str = ""
    turnout_percent: float | None = None
    note: str = ""
    # The column letter each field was read from ("name" -> "B"), so a finding about one field
    # points at its cell; not stored (`storage` keeps the row only).
    columns: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def at(self, field_name: str) -> Location:
        """Where this nominee's `field_name` is: its cell when known, else its row."""
        column = dict(self.columns).get(field_name)
        if column is None:
            return self.location
        loc = self.location
        return Location(loc.file, loc.sheet, loc.row, column)


@dataclass(frozen=True)
class SignatureCheck:
    """One digital signature on a PDF paper, as `pipeline.signatures` found it."""

    signer: str  # the certificate's common name
    organisation: str  # its organisation (and unit), as written in the certificate
    signed_at: datetime | None  # the time the signer's software claims
    intact: bool  # the signed bytes are as signed
    modified: bool  # content was changed after signing
    whole: bool  # it covers the file to its end (or only harmless updates follow)
    trusted: bool  # the certificate chains to a trust root the operator configured

    @property
    def sound(self) -> bool:
        return self.intact and not self.modified and self.whole


@dataclass(frozen=True)
class PaperSignatures:
    signatures: tuple[SignatureCheck, ...] = ()
    unreadable: str = ""  # why the signatures could not be checked ("" when they were)
    more: int = 0  # signatures beyond the reading limit, not checked

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    def describe(self, tz: tzinfo) -> str:
        """As the acknowledgement, the desk and the package's manifest say it:
        "đã ký số bởi Nguyễn Văn An (UBND huyện Tam Đường), lúc 09:15 ngày 20/05/2021"."""
        if not self.signatures:
            return "không kiểm tra được chữ ký số" if self.unreadable else "chưa ký số"
        parts = []
        for sig in self.signatures:
            text = f"đã ký số bởi {sig.signer or 'không rõ người ký'}"
            text += f" ({sig.organisation})" if sig.organisation else ""
            text += f", lúc {moment_text(sig.signed_at, tz)}" if sig.signed_at else ""
            if not sig.intact or sig.modified:
                text += " – TỆP ĐÃ BỊ SỬA SAU KHI KÝ"
            elif not sig.whole:
                text += " – chữ ký không bao toàn bộ tệp"
            elif not sig.trusted:
                text += " – chứng thư chưa được xác thực"
            parts.append(text)
        if self.more:
            parts.append(f"và {self.more} chữ ký khác chưa kiểm tra")
        return "; ".join(parts)


@dataclass(frozen=True)
class Document:
    """An attachment kept with the submission, with what kind of dossier paper it is."""

    filename: str
    kind: DocumentKind
    content_type: str
    size: int
    sha256: str
    signatures: PaperSignatures | None = None  # checked for a PDF; None for other files


@dataclass
class Extraction:
    """What the extract stage read from a message's attachments."""

    nominees: list[Nominee] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    list_files: list[str] = field(default_factory=list)
    # The sheets read from each list file (text already in Unicode), for the annotated copy.
    lists_read: list[ReadList] = field(default_factory=list)


@dataclass(frozen=True)
class Sheet:
    """One sheet of a spreadsheet as rows of plain values (`pipeline.formats.read_sheets`)."""

    name: str
    rows: list[list[Any]]
    truncated: bool = False  # more rows than the reading limit: only the first were read
    # Font names of text cells, by 0-based (row, column), where the format records them.
    fonts: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadList:
    """A spreadsheet the list was read from: its bytes, what it really is, its sheets, and what
    each non-empty row of each sheet was taken for (sheet name -> 1-based row -> role)."""

    attachment: Attachment
    kind: FileKind
    sheets: list[Sheet]
    rows: dict[str, dict[int, RowRole]] = field(default_factory=dict)


@dataclass(frozen=True)
class SpooledMessage:
    """A message too large to hold, written to the file store in parts as it was fetched."""

    path: str  # relative to the file store's root
    size: int
    sha256: str
