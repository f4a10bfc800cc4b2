"""Read a message's attachments: the nomination list from spreadsheets, the other papers by name.

Each spreadsheet is identified by content and read within bounds (`pipeline.formats`), its text
typed in a legacy font converted (`pipeline.legacy_fonts`), and each sheet read row by row
(`pipeline.rows`, with the layout recognised by `pipeline.layout`): the header row wherever it
sits, columns mapped by their Vietnamese names with or without diacritics, and every non-empty
row accounted for. Whether a row is a collective or an individual comes from a kind column, the
section rows "I. TẬP THỂ" / "II. CÁ NHÂN", the sheet name, or the name column's header, in that
order. Problems in the unit's files are returned as findings, never raised.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from domain.campaign import Campaign
from domain.kinds import DocumentKind, FileKind, Severity
from domain.model import (
    Attachment,
    Document,
    Extraction,
    Finding,
    Location,
    Nominee,
    ReadList,
    Sheet,
)
from domain.wording import file_kind_label
from pipeline.documents import (
    SPREADSHEET_EXTENSIONS,
    UNSUPPORTED_SPREADSHEET_EXTENSIONS,
    classify_by_content,
    classify_document,
)
from pipeline.findings import clause, finding
from pipeline.formats import (
    CLAIMED_BY_EXTENSION,
    MAX_ROWS_PER_SHEET,
    SPREADSHEET_KINDS,
    PasswordProtected,
    Unreadable,
    identify,
    read_sheets,
)
from pipeline.legacy_fonts import (
    LegacyEncoding,
    decode,
    detect,
    encoding_of_font,
    is_unicode_vietnamese,
)
from pipeline.rows import SheetReader


def _read_sheets(attachment: Attachment, kind: FileKind) -> tuple[list[Sheet], list[Finding]]:
    """The file's sheets, and what to tell the unit about the file itself."""
    name = attachment.filename
    where = Location(name)
    try:
        sheets = read_sheets(attachment.payload, kind, name=PurePosixPath(name).stem)
    except PasswordProtected:
        return [], [finding("LIST_PASSWORD_PROTECTED", location=where, file=name)]
    except Unreadable as err:
        return [], [finding("LIST_UNREADABLE", location=where, file=name, reason=str(err))]
    notes = []
    claimed = CLAIMED_BY_EXTENSION.get(attachment.extension)
    if (
        claimed is not None
        and kind is not claimed
        and {kind, claimed} != {FileKind.XLSX, FileKind.XLSM}
    ):
        notes.append(
            finding(
                "FILE_TYPE_MISMATCH",
                location=where,
                file=name,
                extension=attachment.extension,
                actual=file_kind_label(kind),
            )
        )
    if kind is FileKind.XLSM:
        notes.append(finding("MACROS_IGNORED", location=where, file=name))
    notes += [
        finding("TOO_MANY_ROWS", location=Location(name, s.name), limit=MAX_ROWS_PER_SHEET)
        for s in sheets
        if s.truncated
    ]
    return sheets, notes


def _in_unicode(sheet: Sheet) -> tuple[list[list[Any]], LegacyEncoding | None]:
    """The sheet's rows with text typed in a pre-Unicode font converted, and that encoding.

    A cell's own font decides where the file records it; otherwise the whole sheet's text is
    judged at once (one cell is too little to tell TCVN3 from VNI)."""
    texts = [v for row in sheet.rows for v in row if isinstance(v, str)]
    guessed = detect(" ".join(texts))
    if guessed is None and not sheet.fonts:
        return sheet.rows, None
    found: LegacyEncoding | None = None
    rows: list[list[Any]] = []
    for r, row in enumerate(sheet.rows):
        converted: list[Any] = []
        for c, value in enumerate(row):
            if isinstance(value, str) and not is_unicode_vietnamese(value):
                by_font = encoding_of_font(sheet.fonts.get((r, c)))
                legacy = by_font or ((guessed, False) if guessed else None)
                if legacy is not None:
                    value = decode(value, *legacy)
                    found = found or legacy[0]
            converted.append(value)
        rows.append(converted)
    return rows, found


def read_nomination_list(
    attachment: Attachment, campaign: Campaign, kind: FileKind | None = None
) -> tuple[list[Nominee], list[Finding], ReadList]:
    """Nominees and findings from one spreadsheet file of any format we read, and its sheets."""
    kind = kind or identify(attachment.payload)
    sheets, findings = _read_sheets(attachment, kind)
    read = ReadList(attachment, kind, [])
    if not sheets:
        return [], findings, read  # unreadable: reported, and it counts as the list
    nominees: list[Nominee] = []
    found = False
    for sheet in sheets:
        rows, legacy = _in_unicode(sheet)
        read.sheets.append(Sheet(sheet.name, rows, sheet.truncated))
        if legacy is not None:
            findings.append(
                finding(
                    "LEGACY_FONT",
                    location=Location(attachment.filename, sheet.name),
                    file=attachment.filename,
                    sheet=sheet.name,
                    encoding=legacy.value,
                )
            )
        reader = SheetReader(campaign, attachment.filename, sheet.name)
        if reader.read(rows):
            found = True
            nominees += reader.nominees
            findings += reader.findings
        read.rows[sheet.name] = reader.roles
    if not found:
        findings.append(finding("HEADER_NOT_FOUND", location=Location(attachment.filename)))
    return nominees, findings, read


def _as_document(attachment: Attachment, kind: DocumentKind) -> Document:
    return Document(
        filename=attachment.filename,
        kind=kind,
        content_type=attachment.content_type,
        size=len(attachment.payload),
        sha256=attachment.sha256,
    )


def extract(attachments: Iterable[Attachment], campaign: Campaign) -> Extraction:
    """Read every attachment of a message: lists from spreadsheets, papers by their names."""
    result = Extraction()
    word_lists: list[str] = []
    for attachment in attachments:
        if attachment.inline and attachment.content_type.startswith("image/"):
            continue  # a logo or signature picture in the body, not a document
        ext = attachment.extension
        content = identify(attachment.payload)
        # By name, or by content for a workbook with a wrong or missing extension (never plain
        # text by content: any .txt would pass for a CSV).
        if ext in SPREADSHEET_EXTENSIONS or content in SPREADSHEET_KINDS - {FileKind.CSV}:
            nominees, findings, read = read_nomination_list(attachment, campaign, content)
            result.nominees += nominees
            result.findings += findings
            result.lists_read.append(read)
            result.list_files.append(attachment.filename)
            result.documents.append(_as_document(attachment, DocumentKind.NOMINATION_LIST))
        elif ext in UNSUPPORTED_SPREADSHEET_EXTENSIONS:
            result.findings.append(
                finding(
                    "LIST_FORMAT_UNSUPPORTED",
                    location=Location(attachment.filename),
                    file=attachment.filename,
                    extension=ext,
                )
            )
            result.list_files.append(attachment.filename)
            result.documents.append(_as_document(attachment, DocumentKind.NOMINATION_LIST))
        else:
            kind = classify_document(attachment.filename)
            if kind is DocumentKind.OTHER:  # the name says nothing: the title may
                kind = classify_by_content(attachment.payload, content)
            if kind is DocumentKind.NOMINATION_LIST:
                word_lists.append(attachment.filename)
            elif kind is DocumentKind.OTHER:
                result.findings.append(
                    finding(
                        "DOCUMENT_UNRECOGNISED",
                        location=Location(attachment.filename),
                        file=attachment.filename,
                    )
                )
            result.documents.append(_as_document(attachment, kind))
    if not result.list_files:
        note = ""
        if word_lists:
            note = clause("word_list", files=", ".join(word_lists))
        result.findings.append(finding("LIST_MISSING", word_list=note))
    elif not result.nominees and not any(f.severity is Severity.ERROR for f in result.findings):
        result.findings.append(finding("NO_NOMINEES", location=Location(result.list_files[0])))
    return result
