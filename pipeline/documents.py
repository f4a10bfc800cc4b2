"""Recognise dossier papers (Tờ trình, Biên bản, Tóm tắt / Báo cáo thành tích) by name or text.

Names are matched without diacritics or case, with spaces, underscores or nothing between words
("Tờ trình.pdf", "to_trinh.docx", "ToTrinh.pdf", "TTr 12.pdf"). A file whose name says nothing
("scan0001.pdf", "Văn bản.docx") is recognised by its title when its text can be read: Word
(.docx), OpenDocument (.odt) or a PDF with a text layer. A photo of a page has no text to read.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import PurePosixPath

from defusedxml import ElementTree
from pypdf import PdfReader

from domain.kinds import DocumentKind, FileKind
from domain.text import compact, contains_phrase, fold
from pipeline.formats import CLAIMED_BY_EXTENSION, check_zip_limits

# The formats pipeline.formats reads (.xlsx, .xlsm, .xls, .ods, .csv).
SPREADSHEET_EXTENSIONS = frozenset(CLAIMED_BY_EXTENSION)
# Spreadsheets people send that this version cannot read: answered with "save as .xlsx".
UNSUPPORTED_SPREADSHEET_EXTENSIONS = frozenset({".xlsb", ".numbers"})

# Checked in order: the first kind whose phrase the name contains wins ("Báo cáo tóm tắt thành
# tích" is a summary). Phrases of six letters or more also match run together ("ToTrinh").
_PHRASES: tuple[tuple[DocumentKind, tuple[str, ...]], ...] = (
    (DocumentKind.TOM_TAT_THANH_TICH, ("tom tat thanh tich", "tom tat", "tttt")),
    (DocumentKind.BAO_CAO_THANH_TICH, ("bao cao thanh tich", "bao cao", "bctt")),
    (DocumentKind.TO_TRINH, ("to trinh", "ttr")),
    (DocumentKind.BIEN_BAN, ("bien ban", "bb")),
    (DocumentKind.NOMINATION_LIST, ("danh sach", "ds")),
)


def _stem_words(filename: str) -> str:
    stem = PurePosixPath(filename).stem
    # Split camelCase and digits from letters so "ToTrinh12" reads as "to trinh 12".
    stem = re.sub(r"(?<=[a-zà-ỹđ])(?=[A-ZÀ-ỸĐ])|(?<=\D)(?=\d)|(?<=\d)(?=\D)", " ", stem)
    return re.sub(r"[^0-9a-z]+", " ", fold(stem)).strip()


def classify_document(filename: str) -> DocumentKind:
    words = _stem_words(filename)
    squeezed = compact(PurePosixPath(filename).stem)
    for kind, phrases in _PHRASES:
        for phrase in phrases:
            if contains_phrase(words, phrase):
                return kind
            joined = phrase.replace(" ", "")
            if len(joined) >= 6 and joined in squeezed:
                return kind
    return DocumentKind.OTHER


def mentions_name(filename: str, name: str) -> bool:
    """Whether a file name carries a nominee's name ("BCTT_Nguyen_Van_An.pdf", "Nguyễn Văn An")."""
    wanted = compact(name)
    return bool(wanted) and wanted in compact(PurePosixPath(filename).stem)


# How much of a document is read to find its title: the title sits on the first page.
TEXT_CHARS = 3000
PDF_PAGES = 2
_XML_BYTES = 5 * 1024 * 1024
_BODY_PARTS = {FileKind.DOCX: "word/document.xml", FileKind.ODT: "content.xml"}
# Titles as they head the papers; the one nearest the top wins (a Tờ trình mentions "báo cáo
# thành tích" further down, a Báo cáo thành tích does not start with "tờ trình").
_TITLES = (
    (DocumentKind.TO_TRINH, "to trinh"),
    (DocumentKind.BIEN_BAN, "bien ban"),
    (DocumentKind.TOM_TAT_THANH_TICH, "tom tat thanh tich"),
    (DocumentKind.BAO_CAO_THANH_TICH, "bao cao thanh tich"),
    (DocumentKind.NOMINATION_LIST, "danh sach"),
)


def _paragraphs_text(xml: bytes) -> str:
    """The text of a Word or OpenDocument body, paragraph by paragraph (runs joined as typed)."""
    root = ElementTree.fromstring(xml)
    return "\n".join(
        "".join(element.itertext()) for element in root.iter() if element.tag.endswith("}p")
    )


def document_text(payload: bytes, kind: FileKind) -> str:
    """The first TEXT_CHARS characters of a document's text; "" when it has none we can read."""
    try:
        if kind is FileKind.PDF:
            reader = PdfReader(io.BytesIO(payload))
            text = "\n".join(page.extract_text() or "" for page in reader.pages[:PDF_PAGES])
        elif kind in _BODY_PARTS:
            check_zip_limits(payload)
            with (
                zipfile.ZipFile(io.BytesIO(payload)) as archive,
                archive.open(_BODY_PARTS[kind]) as body,
            ):
                text = _paragraphs_text(body.read(_XML_BYTES))
        else:
            return ""
    except Exception:  # a damaged or hostile document is simply not read
        return ""
    return text[:TEXT_CHARS]


def classify_text(text: str) -> DocumentKind:
    folded = fold(text)
    found = []
    for kind, title in _TITLES:
        match = re.search(rf"(?<![0-9a-z]){title}(?![0-9a-z])", folded)
        if match:
            found.append((match.start(), kind))
    return min(found, key=lambda hit: hit[0])[1] if found else DocumentKind.OTHER


def classify_by_content(payload: bytes, kind: FileKind) -> DocumentKind:
    return classify_text(document_text(payload, kind))


# pypdf reports every quirk of a damaged PDF as a warning; the outcome is what matters here.
logging.getLogger("pypdf").setLevel(logging.ERROR)
