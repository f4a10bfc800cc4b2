"""Text typed with the pre-Unicode Vietnamese fonts, converted to Unicode.

Offices still have lists typed in TCVN3 (fonts ".VnTime", ".VnArial"; ".VnTimeH" is the capitals
variant) or VNI ("VNI-Times"). Such text is stored as Windows-1252 characters that only the old
font draws as Vietnamese: "Së Néi vô" is "Sở Nội vụ" in TCVN3, "Nguyeãn Thò" is "Nguyễn Thị"
in VNI. glibc's iconv and Python's codecs disagree on TCVN3, so the tables are written out here
from the layout of the encodings, and tested against known pairs.

Where the cell's font is known it decides; otherwise the text is converted only when it holds
no Vietnamese Unicode letter and the converted text reads as Vietnamese syllables clearly more
often than the original. Real Unicode text is never touched.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class LegacyEncoding(StrEnum):
    TCVN3 = "TCVN3 (.VnTime)"
    VNI = "VNI (VNI-Times)"


# Vowel bases in the order the tables below follow, and the five tones in TCVN3's order.
_TONES = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # huyền, hỏi, ngã, sắc, nặng


def _toned(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", base + tone)


# TCVN3: one byte per letter; each base is followed by its toned forms in _TONES order.
_TCVN3_ROWS = {
    "a": "a\xb5\xb6\xb7\xb8\xb9",
    "ă": "\xa8\xbb\xbc\xbd\xbe\xc6",
    "â": "\xa9\xc7\xc8\xc9\xca\xcb",
    "e": "e\xcc\xce\xcf\xd0\xd1",
    "ê": "\xaa\xd2\xd3\xd4\xd5\xd6",
    "i": "i\xd7\xd8\xdc\xdd\xde",
    "o": "o\xdf\xe1\xe2\xe3\xe4",
    "ô": "\xab\xe5\xe6\xe7\xe8\xe9",
    "ơ": "\xac\xea\xeb\xec\xed\xee",
    "u": "u\xef\xf1\xf2\xf3\xf4",
    "ư": "\xad\xf5\xf6\xf7\xf8\xf9",
    "y": "y\xfa\xfb\xfc\xfd\xfe",
}
_TCVN3 = {"\xae": "đ", "\xa1": "Ă", "\xa2": "Â", "\xa3": "Ê", "\xa4": "Ô", "\xa5": "Ơ", "\xa6": "Ư"}
_TCVN3["\xa7"] = "Đ"
for _base, _codes in _TCVN3_ROWS.items():
    for _code, _tone in zip(_codes, ("", *_TONES), strict=True):
        if _code != _base:
            _TCVN3[_code] = _toned(_base, _tone)

# VNI: a base letter followed by a mark byte (lower-case marks after lower-case letters).
_VNI_TONE_MARKS = {
    "": "",
    "\u0300": "ø",
    "\u0301": "ù",
    "\u0309": "û",
    "\u0303": "õ",
    "\u0323": "ï",
}
_VNI_HAT_MARKS = {
    "": "â",
    "\u0300": "à",
    "\u0301": "á",
    "\u0309": "å",
    "\u0303": "ã",
    "\u0323": "ä",
}
_VNI_BREVE_MARKS = {
    "": "ê",
    "\u0300": "è",
    "\u0301": "é",
    "\u0309": "ú",
    "\u0303": "ü",
    "\u0323": "ë",
}
_VNI_I = {"\u0300": "ì", "\u0301": "í", "\u0309": "æ", "\u0303": "ó", "\u0323": "ò"}


def _vni_table() -> dict[str, str]:
    table: dict[str, str] = {"ñ": "đ", "Ñ": "Đ"}
    plain = {"a": "a", "e": "e", "o": "o", "u": "u", "y": "y", "ơ": "ô", "ư": "ö"}
    hats = {"â": "a", "ê": "e", "ô": "o"}
    for tone in ("", *_TONES):
        for base, letter in plain.items():
            table[letter + _VNI_TONE_MARKS[tone]] = _toned(base, tone)
        for base, letter in hats.items():
            table[letter + _VNI_HAT_MARKS[tone]] = _toned(base, tone)
        table["a" + _VNI_BREVE_MARKS[tone]] = _toned("ă", tone)
        if tone:
            table[_VNI_I[tone]] = _toned("i", tone)
    table["î"] = "ỵ"  # not "y" + the dot mark
    del table["yï"]
    upper = {code.upper(): letter.upper() for code, letter in table.items()}
    return {k: v for k, v in (table | upper).items() if len(k) > 1 or k != v}


_VNI = _vni_table()
_VNI_PATTERN = re.compile("|".join(sorted(map(re.escape, _VNI), key=len, reverse=True)))
_TCVN3_TRANSLATION = str.maketrans(_TCVN3)


def decode(text: str, encoding: LegacyEncoding, capitals: bool = False) -> str:
    """Text typed in a legacy font, as Unicode (`capitals` for ".VnTimeH"-style fonts)."""
    if encoding is LegacyEncoding.TCVN3:
        result = text.translate(_TCVN3_TRANSLATION)
    else:
        result = _VNI_PATTERN.sub(lambda m: _VNI[m.group(0)], text)
    return result.upper() if capitals else result


def encoding_of_font(font_name: str | None) -> tuple[LegacyEncoding, bool] | None:
    """The legacy encoding a font name implies, and whether it is a capitals-only font."""
    if not font_name:
        return None
    name = font_name.strip()
    if name.startswith(".Vn"):
        return LegacyEncoding.TCVN3, name.endswith("H")
    if name.upper().startswith("VNI"):
        return LegacyEncoding.VNI, False
    return None


# Letters only Vietnamese Unicode has (none is in Windows-1252, so no legacy text holds one).
_UNICODE_VIETNAMESE = re.compile("[ăđơưĂĐƠƯĩũĨŨ\u1ea0-\u1ef9]")
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?"
    r"[aăâeêioôơuưy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)
# Words as the legacy text has them: its letters include punctuation-like code points (U+00AD).
_WORD = re.compile(r"[^\s\d.,;:()\"'/+*-]+")


def _syllable_share(text: str) -> float:
    words = _WORD.findall(text.lower())
    if not words:
        return 0.0
    toneless = [
        "".join(c for c in unicodedata.normalize("NFD", w) if c not in _TONES) for w in words
    ]
    plain = [unicodedata.normalize("NFC", w) for w in toneless]
    return sum(1 for w in plain if _SYLLABLE.fullmatch(w)) / len(words)


def is_unicode_vietnamese(text: str) -> bool:
    return _UNICODE_VIETNAMESE.search(text) is not None


def detect(text: str) -> LegacyEncoding | None:
    """The legacy encoding `text` was typed in, judged from the text alone; None for Unicode."""
    if is_unicode_vietnamese(text) or not any("\x80" <= c <= "\xff" for c in text):
        return None
    original = _syllable_share(text)
    best: tuple[float, LegacyEncoding] | None = None
    for encoding in LegacyEncoding:
        share = _syllable_share(decode(text, encoding))
        if share > original + 0.15 and (best is None or share > best[0]):
            best = (share, encoding)
    return best[1] if best else None
