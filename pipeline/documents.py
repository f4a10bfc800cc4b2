"""Recognise dossier papers (Tờ trình, Biên bản, Tóm tắt / Báo cáo thành tích) by file name.

Names are matched without diacritics or case, with spaces, underscores or nothing between words
("Tờ trình.pdf", "to_trinh.docx", "ToTrinh.pdf", "TTr 12.pdf").
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from config.campaign import DocumentKind
from pipeline.formats import CLAIMED_BY_EXTENSION
from pipeline.text import compact, contains_phrase, fold

# The formats pipeline.formats reads (.xlsx, .xlsm, .xls, .ods, .csv).
SPREADSHEET_EXTENSIONS = frozenset(CLAIMED_BY_EXTENSION)
# Spreadsheets people send that this version cannot read: answered with "save as .xlsx".
UNSUPPORTED_SPREADSHEET_EXTENSIONS = frozenset({".xlsb", ".numbers"})
DOCUMENT_EXTENSIONS = frozenset(
    {".doc", ".docx", ".pdf", ".odt", ".rtf", ".jpg", ".jpeg", ".png", ".tif", ".tiff"}
)

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
