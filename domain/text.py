"""Vietnamese text helpers: cleaning for storage and display, keys for matching and comparing.

Three levels, each for one purpose:
- `clean` keeps the text as written (diacritics, case) but in NFC with tidy whitespace;
- `person_key` compares names: case and tone placement ("Hoà"/"Hòa", "Uỷ"/"Ủy") do not matter,
  but diacritics do ("Hòa" and "Hóa" are different people);
- `fold` matches labels people type loosely (headers, award names, file names): no diacritics,
  no case, "đ" as "d".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Characters that are invisible or spacing variants in office documents.
# A zero-width space often stands between words (pasted from the web): it counts as a space.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u200b]+")
# The five tone marks as combining characters (huyền, sắc, hỏi, ngã, nặng).
_TONE_MARKS = frozenset("\u0300\u0301\u0309\u0303\u0323")


def clean(value: object) -> str:
    """Text as written, in NFC, without zero-width characters and with whitespace folded."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).translate(_ZERO_WIDTH)
    return _SPACES.sub(" ", text).strip()


def fold(value: object) -> str:
    """Lower-case ASCII-ish form for loose matching: 'Hình thức Khen thưởng' -> 'hinh thuc khen thuong'."""
    decomposed = unicodedata.normalize("NFD", clean(value).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")


def compact(value: object) -> str:
    """`fold` without anything but letters and digits: 'Tờ_trình-số 12' -> 'totrinhso12'."""
    return re.sub(r"[^0-9a-z]", "", fold(value))


def person_key(value: object) -> str:
    """Comparison key for names: case-insensitive, tone placement unified, diacritics kept."""
    words = []
    for word in clean(value).casefold().split(" "):
        decomposed = unicodedata.normalize("NFD", word)
        tones = "".join(ch for ch in decomposed if ch in _TONE_MARKS)
        base = "".join(ch for ch in decomposed if ch not in _TONE_MARKS)
        words.append(unicodedata.normalize("NFC", base) + tones)
    return " ".join(words)


def contains_phrase(haystack_folded: str, phrase_folded: str) -> bool:
    """Whether a folded phrase occurs in folded text on word boundaries."""
    if not phrase_folded or phrase_folded not in haystack_folded:
        return False  # most tries: no need for the pattern
    return _phrase_pattern(phrase_folded).search(haystack_folded) is not None


@lru_cache(maxsize=2048)
def _phrase_pattern(phrase_folded: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![0-9a-z]){re.escape(phrase_folded)}(?![0-9a-z])")


# Vietnamese alphabetical order: letters with breve, circumflex, horn and đ are letters of their own.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {letter: i for i, letter in enumerate(_ALPHABET)}
# Tones in dictionary order: none, huyền, hỏi, ngã, sắc, nặng.
_TONE_RANK = {"": 0, "\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def vietnamese_sort_key(value: object) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sort key in Vietnamese dictionary order: a < ă < â, d < đ, then tones in their order.

    Letters decide first (case-insensitive); tones only break ties, as in a dictionary.
    """
    letters: list[int] = []
    tones: list[int] = []
    for ch in clean(value).casefold():
        decomposed = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in decomposed if c in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))
        rank = _LETTER_RANK.get(base)
        letters.append(rank if rank is not None else len(_ALPHABET) + ord(base[:1] or " "))
        tones.append(_TONE_RANK.get(tone, 0))
    return tuple(letters), tuple(tones)


MAX_FILENAME_CHARS = 120


def safe_filename(name: object, fallback: str = "khong-ten") -> str:
    """An attachment's name fit to show and log: no folders ("../../x"), no control or format
    characters (a terminal escape in a log; a right-to-left override that shows "xlsx.exe" as
    "exe.xlsx"), at most MAX_FILENAME_CHARS long with the extension kept."""
    text = "".join(c for c in clean(name) if unicodedata.category(c) not in {"Cc", "Cf"})
    text = clean(re.split(r"[/\\]", text)[-1]).lstrip(".")
    if len(text) > MAX_FILENAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        ext = ext if dot and len(ext) <= 8 else ""
        keep = MAX_FILENAME_CHARS - len(ext) - 2
        text = f"{(stem if ext else text)[:keep].rstrip()}…" + (f".{ext}" if ext else "")
    return text or fallback


_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """Text without the control characters XML cannot hold (a damaged file's cells have them):
    for what we write into .xlsx comments and .docx paragraphs."""
    return _NOT_IN_XML.sub("", value)
