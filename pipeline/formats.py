"""What a file really is, judged by its content, and its sheets as rows of plain values.

Units' files arrive with extensions that lie (an .xls renamed .xlsx, a PDF called .xlsx), with
passwords, or shaped to hurt (zip bombs, XML bombs). `identify` looks at the bytes; `read_sheets`
opens any spreadsheet format we accept (python-calamine for .xls, .ods and most .xlsx, openpyxl
for an .xlsx whose cell fonts matter, the csv module for .csv) within fixed limits, and turns
every failure into `Unreadable` with a reason a clerk understands. Nothing here touches the
network or the disk.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time
from typing import Any

import olefile
from openpyxl import load_workbook
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

from domain.kinds import FileKind
from domain.model import Sheet
from domain.wording import file_kind_label
from pipeline.findings import reason
from pipeline.legacy_fonts import detect as detect_legacy
from pipeline.legacy_fonts import encoding_of_font

MAX_ROWS_PER_SHEET = 5000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 4000
# Zip containers (xlsx, ods, zip archives): limits checked on the central directory before
# anything is unpacked, so a bomb costs a directory listing and nothing more.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_ENTRIES = 5000
MAX_RATIO = 200


SPREADSHEET_KINDS = frozenset(
    {FileKind.XLSX, FileKind.XLSM, FileKind.XLS, FileKind.ODS, FileKind.CSV}
)
# What each extension claims; a file whose content is another kind "lies".
CLAIMED_BY_EXTENSION = {
    ".xlsx": FileKind.XLSX,
    ".xlsm": FileKind.XLSM,
    ".xls": FileKind.XLS,
    ".ods": FileKind.ODS,
    ".csv": FileKind.CSV,
}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.spreadsheet": FileKind.ODS,
    b"application/vnd.oasis.opendocument.text": FileKind.ODT,
}


# Top-level streams of an OLE compound file that say what it is (olefile reads the directory;
# the same words inside a document's text or style names say nothing).
_OLE_STREAMS = (
    ("EncryptedPackage", FileKind.ENCRYPTED),  # an .xlsx/.docx saved with "Encrypt with password"
    ("WordDocument", FileKind.DOC),  # first: a .doc's text and styles may say "Book" anywhere
    ("Workbook", FileKind.XLS),  # Excel 97-2003
    ("Book", FileKind.XLS),  # Excel 5/95
)


def _ole_kind(payload: bytes) -> FileKind:
    try:
        with olefile.OleFileIO(io.BytesIO(payload)) as ole:
            streams = {entry[0] for entry in ole.listdir(streams=True, storages=False) if entry}
    except (OSError, ValueError, IndexError, struct.error, TypeError):
        # A directory olefile cannot walk (a file cut short in transit): the stream names are
        # still UTF-16 in its sectors, and which one appears is the best guess left.
        streams = {name for name, _ in _OLE_STREAMS if name.encode("utf-16-le") in payload}
    for stream, kind in _OLE_STREAMS:
        if stream in streams:
            return kind
    return FileKind.OLE_OTHER


def _zip_kind(payload: bytes) -> FileKind:
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                return _ODF_MIMETYPES.get(archive.read("mimetype").strip(), FileKind.ZIP)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError, zlib.error):
        return FileKind.UNKNOWN
    if "xl/workbook.xml" in names:
        return FileKind.XLSM if "xl/vbaProject.bin" in names else FileKind.XLSX
    if "word/document.xml" in names:
        return FileKind.DOCX
    return FileKind.ZIP


def _looks_like_text(payload: bytes) -> bool:
    sample = payload[:4096]
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in b"\t\r\n\x0c")
    return bool(sample) and controls * 100 <= len(sample)


def identify(payload: bytes) -> FileKind:
    """The kind of file the bytes are, whatever its name says."""
    if payload.startswith(_OLE_MAGIC):
        return _ole_kind(payload)
    if payload.startswith(b"PK\x03\x04") or payload.startswith(b"PK\x05\x06"):
        return _zip_kind(payload)
    if payload.startswith(b"%PDF"):
        return FileKind.PDF
    if payload.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if payload.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if payload.startswith(b"Rar!\x1a\x07"):
        return FileKind.RAR
    if payload.startswith(b"7z\xbc\xaf\x27\x1c"):
        return FileKind.SEVEN_ZIP
    if _looks_like_text(payload):
        return FileKind.CSV
    return FileKind.UNKNOWN


class Unreadable(Exception):
    """A file that cannot be read; the message is the reason, in the unit's words, from the
    catalogue (`pipeline.findings.reason`)."""


class PasswordProtected(Unreadable):
    """A workbook that needs a password to open."""


def check_zip_limits(payload: bytes) -> None:
    """Refuse a zip container whose directory promises too much (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise Unreadable(reason("damaged_zip")) from err
    if len(entries) > MAX_ENTRIES:
        raise Unreadable(reason("too_many_entries", limit=MAX_ENTRIES))
    total = sum(e.file_size for e in entries)
    packed = max(1, sum(e.compress_size for e in entries))
    if total > MAX_UNPACKED_BYTES or total / packed > MAX_RATIO:
        raise Unreadable(reason("bomb"))


def _bounded(rows: Iterable[Iterable[Any]]) -> tuple[list[list[Any]], bool]:
    kept: list[list[Any]] = []
    for row in rows:
        if len(kept) >= MAX_ROWS_PER_SHEET:
            return kept, True
        kept.append(
            [
                value[:MAX_CELL_CHARS] if isinstance(value, str) else value
                for value in list(row)[:MAX_COLUMNS]
            ]
        )
    return kept, False


def _noting_legacy_fonts(
    rows: Iterable[tuple[Any, ...]], fonts: dict[tuple[int, int], str]
) -> Iterator[list[Any]]:
    """Cell values row by row; text cells in a pre-Unicode font are noted in `fonts`."""
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            name = getattr(getattr(cell, "font", None), "name", None)
            if isinstance(cell.value, str) and isinstance(name, str) and encoding_of_font(name):
                fonts[r, c] = name
        yield [cell.value for cell in row]


def _states_its_size(payload: bytes) -> bool:
    """Whether every sheet of an .xlsx says its size (`<dimension>`) before its rows. openpyxl's
    read-only mode otherwise parses the whole sheet to find it, whatever the reading bound: a
    200,000-row sheet made without one took 14 s before the first row was read."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    with archive.open(name) as part:
                        head = part.read(8192)
                    if b"dimension" not in head:
                        return False
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError, zlib.error):
        return True  # damaged: openpyxl will say how
    return True


_FONT_NAME = re.compile(rb"<(?:\w+:)?name\s+val=\"([^\"]*)\"")
# Sheets calamine reads whole, in memory; openpyxl streams larger ones row by row.
_CALAMINE_MAX_SHEET_BYTES = 16 * 1024 * 1024


def _values_suffice(payload: bytes) -> bool:
    """Whether calamine's values say all the checks need: the stylesheet lists no pre-Unicode
    font (TCVN3, VNI; every cell's font is one of the stylesheet's, so no cell is typed in one),
    and the sheets are small enough to read whole."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            sheets = sum(
                entry.file_size
                for entry in archive.infolist()
                if entry.filename.startswith("xl/worksheets/")
            )
            styles = archive.read("xl/styles.xml")
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError, zlib.error):
        return False  # no stylesheet, or a damaged file: openpyxl looks, and says how
    legacy = any(encoding_of_font(n.decode("utf-8", "replace")) for n in _FONT_NAME.findall(styles))
    return not legacy and sheets <= _CALAMINE_MAX_SHEET_BYTES


def _xlsx_sheets(payload: bytes) -> Iterator[Sheet]:
    """An .xlsx's sheets: calamine's values, about ten times faster, where they say all the
    checks need (`_values_suffice`); openpyxl where a cell's font matters or a sheet is large."""
    check_zip_limits(payload)
    if _values_suffice(payload) or not _states_its_size(payload):
        # Without a size, openpyxl would parse the whole sheet before its first row: values
        # only, from calamine; a cell's font is then unknown and legacy text is judged by the
        # sheet's text.
        yield from _calamine_sheets(payload, zipped=False)
        return
    try:
        workbook = load_workbook(io.BytesIO(payload), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds on a damaged file
        raise Unreadable(reason("damaged_excel", error=type(err).__name__)) from err
    try:
        for ws in workbook.worksheets:
            fonts: dict[tuple[int, int], str] = {}
            # Bounded here too: a sheet can claim a million rows of 16,384 columns.
            cells = ws.iter_rows(max_row=MAX_ROWS_PER_SHEET + 1, max_col=MAX_COLUMNS)
            rows, truncated = _bounded(_noting_legacy_fonts(cells, fonts))
            yield Sheet(ws.title, rows, truncated, fonts)
    except Exception as err:  # read-only sheets are parsed lazily: damage (or an XML bomb,
        # which defusedxml refuses) shows up here
        raise Unreadable(reason("damaged_sheet", error=type(err).__name__)) from err
    finally:
        workbook.close()


def _calamine_sheets(payload: bytes, zipped: bool) -> list[Sheet]:
    if zipped:
        check_zip_limits(payload)
    sheets = []
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(payload))
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            # calamine pads the rows above the first used cell but not the columns to its left;
            # padding them keeps column letters in replies true to the unit's file.
            left = [None] * (sheet.start[1] if sheet.start else 0)
            rows, truncated = _bounded(
                left + [_as_openpyxl_reads(value) for value in row] for row in sheet.iter_rows()
            )
            sheets.append(Sheet(name, rows, truncated))
    except PasswordError as err:
        raise PasswordProtected(reason("password")) from err
    except (CalamineError, ValueError, OSError) as err:
        raise Unreadable(reason("damaged_by", error=type(err).__name__)) from err
    except BaseException as err:
        # A panic in calamine's Rust code on a damaged file reaches Python as PanicException,
        # which derives from BaseException: left alone it would stop the whole poll.
        if type(err).__name__ != "PanicException":
            raise
        raise Unreadable(reason("damaged_structure")) from err
    return sheets


def _as_openpyxl_reads(value: Any) -> Any:
    """A calamine value as openpyxl gives it, so every format reads alike: an empty cell is
    None, a whole number an int (Excel stores 1970 as a float), a date a datetime."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value


def decode_text(payload: bytes) -> str:
    """Text from UTF-8 (with or without a BOM), UTF-16 with a BOM, or Windows-1258; a file typed
    in a TCVN3 or VNI font comes as Windows-1252, which the legacy-font converter then reads."""
    if payload.startswith((b"\xff\xfe", b"\xfe\xff")):
        return payload.decode("utf-16")
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    western = payload.decode("cp1252", errors="replace")
    if detect_legacy(western) is not None:
        return western
    return unicodedata.normalize("NFC", payload.decode("cp1258", errors="replace"))


def _csv_sheets(payload: bytes, name: str) -> Iterator[Sheet]:
    text = decode_text(payload)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        rows, truncated = _bounded(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as err:
        raise Unreadable(reason("damaged_csv")) from err
    yield Sheet(name, rows, truncated)


def read_sheets(payload: bytes, kind: FileKind, name: str = "CSV") -> list[Sheet]:
    """Every sheet of a spreadsheet of `kind` (see `identify`), or `Unreadable`."""
    if kind is FileKind.ENCRYPTED:
        raise PasswordProtected(reason("password_to_open"))
    readers: dict[FileKind, Callable[[], Iterable[Sheet]]] = {
        FileKind.XLSX: lambda: _xlsx_sheets(payload),
        FileKind.XLSM: lambda: _xlsx_sheets(payload),
        FileKind.XLS: lambda: _calamine_sheets(payload, zipped=False),
        FileKind.ODS: lambda: _calamine_sheets(payload, zipped=True),
        FileKind.CSV: lambda: _csv_sheets(payload, name),
    }
    if kind is FileKind.UNKNOWN:
        raise Unreadable(reason("damaged"))
    if kind not in readers:
        raise Unreadable(reason("not_a_spreadsheet", kind=file_kind_label(kind)))
    return list(readers[kind]())
