"""How a unit's list is laid out: which header names which field, where the header row is, and
what a row is (a section "I. TẬP THỂ", a sub-group, a numbering row, the totals line), plus the
cell values read loosely (birth years, turnout percentages). Pure functions over cell values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from domain.campaign import Campaign
from domain.kinds import NomineeKind
from domain.text import clean, contains_phrase, fold

HEADER_SEARCH_ROWS = 40

# Column synonyms, folded. A header cell belongs to the field whose longest synonym it contains;
# synonyms in EXACT_ONLY must be the whole cell (they are too short to search for).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "stt": ("stt", "so tt", "so thu tu", "tt"),
    "name": (
        "ho va ten",
        "ho ten",
        "ten tap the",
        "ten tap the ca nhan",
        "tap the ca nhan duoc de nghi",
        "ten don vi ca nhan",
        "ten",
    ),
    "kind": ("tap the ca nhan", "tap the hay ca nhan", "loai doi tuong", "doi tuong", "loai"),
    "award": (
        "hinh thuc khen thuong",
        "hinh thuc de nghi",
        "hinh thuc",
        "de nghi khen thuong",
        "muc khen thuong",
    ),
    "position": ("chuc vu", "chuc danh", "chuc vu don vi cong tac"),
    "workplace": ("don vi cong tac", "noi cong tac", "co quan cong tac", "don vi chu quan"),
    "birth": ("nam sinh", "ngay sinh", "ngay thang nam sinh"),
    "birth_male": ("nam",),
    "birth_female": ("nu",),
    "gender": ("gioi tinh",),
    "summary": ("tom tat thanh tich", "thanh tich", "noi dung thanh tich"),
    "turnout": ("ty le cu tri di bau", "ty le cu tri", "ty le di bau", "ty le bau cu"),
    "note": ("ghi chu",),
}
EXACT_ONLY = frozenset({"tt", "ten", "loai", "nam", "nu", "hinh thuc", "doi tuong"})
COLUMN_LABELS = {
    "name": "Họ và tên / Tên tập thể",
    "award": "Hình thức khen thưởng",
}

_SECTION = re.compile(r"^\s*(?:[ivx]+|[a-d])\s*[.)/:-]\s*(.*)$")
_TOTALS_LABEL = re.compile(r"(?:tong cong|tong so|tong|cong)(?![0-9a-z])")
_COUNTS = re.compile(
    r"[\s:.,;()\d–-]*(?:(?:tap the|ca nhan|don vi|nguoi|truong hop)[\s:.,;()\d–-]*)*"
)
# Words that say who a sheet, section or name column is about ("Họ và tên" heads people).
_INDIVIDUAL_HINTS = ("ca nhan", "ho va ten", "ho ten")
_COLLECTIVE_HINTS = ("tap the", "ten don vi")


@lru_cache(maxsize=8192)
def _field_of(header: str) -> str | None:
    """The column a header cell names; cached on the cell's text too, since folding it is most
    of the cost and the rows near the top of every list are tried as headers."""
    return _field_of_text(re.sub(r"[^0-9a-z:]+", " ", fold(header)).strip())


@lru_cache(maxsize=4096)
def _field_of_text(text: str) -> str | None:
    """The column a folded header cell names (cached: the same headers come in every list)."""
    if not text:
        return None
    best: tuple[int, str] | None = None
    for name, synonyms in COLUMN_SYNONYMS.items():
        for syn in synonyms:
            hit = text == syn if syn in EXACT_ONLY else contains_phrase(text, syn)
            if hit and (best is None or len(syn) > best[0]):
                best = (len(syn), name)
    return best[1] if best else None


def kind_from_text(text: str) -> NomineeKind | None:
    folded = fold(text)
    individual = any(contains_phrase(folded, h) for h in _INDIVIDUAL_HINTS)
    collective = any(contains_phrase(folded, h) for h in _COLLECTIVE_HINTS)
    if individual and not collective:
        return NomineeKind.INDIVIDUAL
    if collective and not individual:
        return NomineeKind.COLLECTIVE
    return None


def kind_from_cell(value: object) -> NomineeKind | None:
    folded = fold(value)
    if folded in {"tt", "tap the"} or folded.startswith("tap the"):
        return NomineeKind.COLLECTIVE
    if folded in {"cn", "ca nhan"} or folded.startswith("ca nhan"):
        return NomineeKind.INDIVIDUAL
    return None


def awards_in(text: str, campaign: Campaign) -> frozenset[str]:
    """The campaign's award codes a cell mentions by name or alias (possibly several)."""
    folded = re.sub(r"[^0-9a-z]+", " ", fold(text)).strip()
    found = set()
    for code, award in campaign.awards.items():
        if any(contains_phrase(folded, p) for p in award.match_phrases):
            found.add(code)
    return frozenset(found)


@dataclass
class Header:
    row: int  # 1-based row of the header
    data_start: int  # 1-based first row that may hold data
    columns: dict[str, int] = field(default_factory=dict)  # field -> 0-based column index
    name_header: str = ""


def find_header(rows: Sequence[Sequence[object]]) -> Header | None:
    best: Header | None = None
    best_score = 1
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for j, cell in enumerate(row):
            if isinstance(cell, str):
                name = _field_of(cell)
                if name and name not in columns:
                    columns[name] = j
        score = len(columns)
        if "name" in columns and score > best_score:
            best_score = score
            best = Header(
                row=i + 1, data_start=i + 2, columns=columns, name_header=str(row[columns["name"]])
            )
    if best is None:
        return None
    # A sub-header row (e.g. "Nam" / "Nữ" under a merged "Năm sinh") refines the columns.
    nxt = rows[best.row] if best.row < len(rows) else ()
    sub = {j: _field_of(c) for j, c in enumerate(nxt) if isinstance(c, str)}
    if sub and all(v is not None for v in sub.values()):
        for j, name in sub.items():
            if name is not None:
                best.columns = {k: v for k, v in best.columns.items() if v != j or k == name}
                best.columns[name] = j
        best.data_start += 1
    # A row that only numbers the columns ("1", "2", "(3)") is not data.
    if best.data_start - 1 < len(rows) and _is_numbering_row(rows[best.data_start - 1]):
        best.data_start += 1
    return best


def _is_numbering_row(row: Sequence[object]) -> bool:
    values = [c for c in row if c not in (None, "")]
    if len(values) < 3:
        return False
    numbers = []
    for v in values:
        if isinstance(v, float) and v.is_integer():  # .ods and .xls store 1 as 1.0
            v = int(v)
        text = str(v).strip().strip("()")
        if not text.isdigit():
            return False
        numbers.append(int(text))
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def cell_at(row: Sequence[object], index: int | None) -> object:
    if index is None or index >= len(row):
        return None
    return row[index]


def _excel_serial_to_date(serial: float) -> date:
    return date(1899, 12, 30) + timedelta(days=int(serial))


def parse_birth_year(value: object) -> int | None:
    """A year from 1978, 1978.0, '1978', '12/03/1978', a date, or an Excel date serial."""
    if isinstance(value, datetime | date):
        return value.year
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = int(value)
        if 1900 <= number <= 2100:
            return number
        if 3000 < number < 80000:
            return _excel_serial_to_date(number).year
        return None
    text = clean(value)
    match = re.fullmatch(r"(?:\d{1,2}[/.-]){0,2}(\d{4})", text)
    if match and 1900 <= int(match.group(1)) <= 2100:
        return int(match.group(1))
    return None


def parse_percent(value: object) -> float | None:
    """Turnout as a percentage from 0.998, 99.8, '99,8%', '99,80 %'."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = clean(value).replace("%", "").replace(" ", "").replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            return None
    if 0 <= number <= 1:
        number *= 100
    return round(number, 2) if 0 <= number <= 100 else None


def section_heading(row: Sequence[object]) -> tuple[bool, NomineeKind | None]:
    """Whether a row is a section or group row, and the kind it announces if any."""
    values = [clean(c) for c in row if clean(c)]
    if not values or len(values) > 2:
        return False, None
    match = _SECTION.match(fold(values[0]))
    if match is None:
        # An unnumbered "TẬP THỂ" / "CÁ NHÂN" line on its own.
        kind = kind_from_cell(values[0]) if len(values) == 1 else None
        return kind is not None, kind
    return True, kind_from_text(match.group(1))


def is_group_row(row: Sequence[object]) -> bool:
    values = [clean(c) for c in row if clean(c)]
    return len(values) == 1 and any(ch.isalpha() for ch in values[0])


def _is_count(text: str) -> bool:
    """'05', '12 cá nhân', ': 05 tập thể, 12 cá nhân', '(7)': what a totals line counts."""
    return _COUNTS.fullmatch(text) is not None


def is_totals_row(row: Sequence[object]) -> bool:
    """A totals line by its shape: a label ("Tổng cộng", "Tổng số", "Cộng") followed by nothing
    but counts, and counts in the other cells. Never by a name's first letters: "Tòng Công Tùng"
    folds to "tong cong tung", whose remainder is a word, not a count."""
    values = [fold(c) for c in row if clean(c)]
    labelled = [v for v in values if any(ch.isalpha() for ch in v)]
    if not labelled:
        return False
    match = _TOTALS_LABEL.match(labelled[0])
    if match is None or not _is_count(labelled[0][match.end() :]):
        return False
    return all(_is_count(v) for v in values if v != labelled[0])


def header_like_row(rows: Sequence[Sequence[object]]) -> list[str]:
    """The cells of the row that most looks like a table header (three or more cells naming
    known columns), or [] when none does: for saying what a sheet without a name column has."""
    best: list[str] = []
    best_score = 2
    for row in rows[:HEADER_SEARCH_ROWS]:
        fields = {_field_of(c) for c in row if isinstance(c, str)} - {None}
        if len(fields) > best_score:
            best_score, best = len(fields), [clean(c) for c in row if clean(c)]
    return best
