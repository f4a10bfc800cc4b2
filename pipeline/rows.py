"""One sheet of a unit's list, row by row: each non-empty row accounted for (`RowRole`), each
nominee read with every fault of its row found at once, and what cannot be read said as a
finding. The layout (header, sections, totals) is recognised by `pipeline.layout`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from openpyxl.utils import get_column_letter

from domain.campaign import Campaign
from domain.kinds import NomineeKind, RowRole
from domain.model import Finding, Location, Nominee
from domain.text import clean
from pipeline.findings import finding
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

T = TypeVar("T")


class SheetReader:
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
                columns=tuple((name, get_column_letter(i + 1)) for name, i in cols.items()),
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
