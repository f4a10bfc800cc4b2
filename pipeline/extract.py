"""Read a message's attachments: the nomination list from spreadsheets, the other papers by name.

The list reader finds the header row wherever it sits (under a merged title block, over a
"Nam / Nữ" sub-header, above a row that only numbers the columns), maps columns by their
Vietnamese names with or without diacritics, and reads rows until the totals line or the
signature block. Whether a row is a collective or an individual comes from a kind column, the
section rows "I. TẬP THỂ" / "II. CÁ NHÂN", the sheet name, or the name column's header, in that
order. Problems in the unit's files are returned as findings, never raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePosixPath
from typing import Any, TypeVar

from openpyxl.utils import get_column_letter

from domain.campaign import Campaign
from domain.kinds import DocumentKind, FileKind, NomineeKind, RowRole, Severity
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
from domain.text import clean
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
from pipeline.layout import (
    COLUMN_LABELS,
    Header,
    awards_in,
    cell_at,
    find_header,
    header_like_row,
    is_group_row,
    is_totals_row,
    kind_from_cell,
    kind_from_text,
    parse_birth_year,
    parse_percent,
    section_heading,
)
from pipeline.legacy_fonts import (
    LegacyEncoding,
    decode,
    detect,
    encoding_of_font,
    is_unicode_vietnamese,
)

T = TypeVar("T")


class _SheetReader:
    """Reads one worksheet's rows into nominees and findings, and accounts for every non-empty
    row (`RowRole`): none is dropped without a role or a finding."""

    def __init__(self, campaign: Campaign, filename: str, sheet: str) -> None:
        self.campaign = campaign
        self.filename = filename
        self.sheet = sheet
        self.nominees: list[Nominee] = []
        self.findings: list[Finding] = []
        self.roles: dict[int, RowRole] = {}

    def loc(self, row: int, column: int | None = None) -> Location:
        letter = get_column_letter(column + 1) if column is not None else None
        return Location(self.filename, self.sheet, row, letter)

    def read(self, rows: Sequence[Sequence[object]]) -> bool:
        """Read the sheet; False when it has no list at all (e.g. an instructions sheet)."""
        header = find_header(rows)
        if header is None:
            found = header_like_row(rows)
            if found:  # a table, but nothing to take as the name: never skipped in silence
                self.findings.append(
                    finding(
                        "NAME_COLUMN_NOT_FOUND",
                        location=Location(self.filename, self.sheet),
                        sheet=self.sheet,
                        headers=", ".join(f'"{h}"' for h in found[:12]),
                    )
                )
                return True
            return False
        for index, row in enumerate(rows[: header.data_start - 1]):
            if any(clean(c) for c in row):
                self.roles[index + 1] = RowRole.HEADER if index + 1 >= header.row else RowRole.TITLE
        title_text = " ".join(clean(c) for r in rows[: header.row - 1] for c in r if clean(c))
        default_awards = awards_in(title_text, self.campaign)
        if len(default_awards) != 1:
            default_awards = awards_in(self.sheet, self.campaign)
        if len(default_awards) != 1:
            default_awards = frozenset()
        sheet_kind = kind_from_text(self.sheet) or kind_from_text(header.name_header)
        if "award" not in header.columns and not default_awards:
            self.findings.append(
                finding(
                    "COLUMN_MISSING", location=self.loc(header.row), column=COLUMN_LABELS["award"]
                )
            )
            return True
        self._read_rows(rows, header, sheet_kind, default_awards)
        self._title_against_cells(default_awards, header.row)
        return True

    def _title_against_cells(self, titled: frozenset[str], header_row: int) -> None:
        """A title asking for one award over rows that name another: say which was understood
        (the award column) and why, instead of leaving the clerk to guess."""
        if len(titled) != 1:
            return
        [title_award] = titled
        others = [n for n in self.nominees if title_award not in n.awards]
        if not others:
            return
        named = sorted({code for n in others for code in n.awards})
        self.findings.append(
            finding(
                "AWARD_TITLE_DIFFERS",
                location=Location(self.filename, self.sheet, header_row),
                sheet=self.sheet,
                title_award=self.campaign.awards[title_award].name,
                cell_awards=", ".join(self.campaign.awards[c].name for c in named),
                count=len(others),
            )
        )

    def _read_rows(
        self,
        rows: Sequence[Sequence[object]],
        header: Header,
        sheet_kind: NomineeKind | None,
        default_awards: frozenset[str],
    ) -> None:
        cols = header.columns
        section_kind: NomineeKind | None = None
        seen_data = after_blank = after_totals = False
        # Rows only their neighbours explain: a lone label is a sub-group heading if nominees
        # follow it and part of the signature block if none do; other rows with neither a name
        # nor an award are footer under the table and "unrecognised" inside it.
        undecided: list[tuple[int, bool]] = []  # (row, is a lone label)
        for index in range(header.data_start - 1, len(rows)):
            row = rows[index]
            row_no = index + 1
            if all(clean(c) == "" for c in row):
                after_blank = seen_data
                continue
            if seen_data and is_totals_row(row):
                self.roles[row_no] = RowRole.TOTALS
                after_totals = True
                continue
            is_section, kind = section_heading(row)
            if is_section:
                section_kind = kind or section_kind
                self.roles[row_no] = RowRole.SECTION
                after_totals = False  # a subtotal between sections: the table goes on
                continue
            name = clean(cell_at(row, cols.get("name")))
            stt = clean(cell_at(row, cols.get("stt")))
            award_text = clean(cell_at(row, cols.get("award")))
            named_award = bool(award_text) and bool(awards_in(award_text, self.campaign))
            # Under the table (after a blank line or the totals), only a numbered row or one
            # naming an award is a nominee: "Người lập … GIÁM ĐỐC" is the signature block.
            if (after_blank and not stt and not named_award) or (
                after_totals and not stt.rstrip(".").isdigit()
            ):
                self.roles[row_no] = RowRole.FOOTER
                continue
            if not name and is_group_row(row):
                undecided.append((row_no, True))  # "1. Văn phòng", or a line of the signature
                continue
            if not name:
                if stt or award_text:
                    self.findings.append(
                        finding(
                            "CELL_EMPTY",
                            location=self.loc(row_no, cols["name"]),
                            column=COLUMN_LABELS["name"],
                        )
                    )
                    self.roles[row_no] = RowRole.NOMINEE_WITH_FAULT
                else:
                    undecided.append((row_no, False))
                continue
            seen_data, after_blank = True, False
            read = self._read_nominee(
                row, row_no, name, cols, section_kind or sheet_kind, default_awards
            )
            self.roles[row_no] = RowRole.NOMINEE if read else RowRole.NOMINEE_WITH_FAULT
        last_nominee = max(
            (r for r, role in self.roles.items() if role is RowRole.NOMINEE), default=0
        )
        for row_no, lone_label in undecided:
            if row_no > last_nominee:
                self.roles[row_no] = RowRole.FOOTER
            elif lone_label:
                self.roles[row_no] = RowRole.GROUP
            else:
                self.roles[row_no] = RowRole.UNRECOGNISED
                text = " | ".join(clean(c) for c in rows[row_no - 1] if clean(c))
                self.findings.append(
                    finding(
                        "ROW_UNRECOGNISED",
                        location=self.loc(row_no),
                        row=row_no,
                        sheet=self.sheet,
                        text=text[:200],
                    )
                )

    def _read_nominee(
        self,
        row: Sequence[object],
        row_no: int,
        name: str,
        cols: dict[str, int],
        context_kind: NomineeKind | None,
        default_awards: frozenset[str],
    ) -> bool:
        """Read one nominee's row; False when a finding says why it could not be."""
        kind = kind_from_cell(cell_at(row, cols.get("kind"))) or context_kind
        if kind is None:
            self.findings.append(
                finding("KIND_UNKNOWN", location=self.loc(row_no, cols["name"]), name=name)
            )
            return False
        # Every cell is checked before giving up on the row, so one reply lists all its faults.
        birth_year, gender = self._birth(row, row_no, cols)
        turnout_raw = cell_at(row, cols.get("turnout"))
        turnout = (
            self._read(turnout_raw, parse_percent, "TURNOUT_INVALID", row_no, cols.get("turnout"))
            if clean(turnout_raw)
            else None
        )
        award_text = clean(cell_at(row, cols.get("award")))
        awards = awards_in(award_text, self.campaign) if award_text else default_awards
        if not awards:
            if award_text:
                self.findings.append(
                    finding(
                        "AWARD_UNKNOWN",
                        location=self.loc(row_no, cols.get("award")),
                        value=award_text,
                        award_names=", ".join(f'"{a.name}"' for a in self.campaign.awards.values()),
                    )
                )
            else:
                self.findings.append(
                    finding(
                        "CELL_EMPTY",
                        location=self.loc(row_no, cols.get("award")),
                        column=COLUMN_LABELS["award"],
                    )
                )
            return False
        self.nominees.append(
            Nominee(
                kind=kind,
                name=name,
                awards=awards,
                location=self.loc(row_no),
                position=clean(cell_at(row, cols.get("position"))),
                workplace=clean(cell_at(row, cols.get("workplace"))),
                birth_year=birth_year,
                gender=gender,
                summary=clean(cell_at(row, cols.get("summary"))),
                turnout_percent=turnout,
                note=clean(cell_at(row, cols.get("note"))),
            )
        )
        return True

    def _read(
        self,
        raw: object,
        parse: Callable[[object], T | None],
        code: str,
        row_no: int,
        column: int | None,
    ) -> T | None:
        """`parse(raw)`, or None with a `code` finding on the cell when it cannot be read."""
        value = parse(raw)
        if value is None:
            self.findings.append(finding(code, location=self.loc(row_no, column), value=clean(raw)))
        return value

    def _birth(
        self, row: Sequence[object], row_no: int, cols: dict[str, int]
    ) -> tuple[int | None, str]:
        gender = clean(cell_at(row, cols.get("gender")))
        candidates: list[tuple[int | None, object, str]] = [
            (cols.get("birth_male"), cell_at(row, cols.get("birth_male")), "Nam"),
            (cols.get("birth_female"), cell_at(row, cols.get("birth_female")), "Nữ"),
            (cols.get("birth"), cell_at(row, cols.get("birth")), gender),
        ]
        for column, raw, sex in candidates:
            if clean(raw):
                return self._read(raw, parse_birth_year, "BIRTH_YEAR_INVALID", row_no, column), sex
        return None, gender


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
        reader = _SheetReader(campaign, attachment.filename, sheet.name)
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
