"""Open the containers units put their files in: .zip archives and Outlook's winmail.dat.

A unit may zip the whole dossier (folders inside folders, names written by Windows in its own code
page) or send from an Outlook that wraps every attachment in a TNEF `winmail.dat`. The files inside
take the container's place in the list of attachments, so the later stages never see the wrapping.
Limits are checked on an archive's directory before anything is unpacked and again on the bytes
actually read; nothing is written to disk, so no entry name can reach outside anything. What cannot
be opened (.rar, .7z, a password, damage, a bomb) becomes a finding that says how to send instead.
"""

from __future__ import annotations

import io
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from tnefparse import TNEF

from domain.kinds import MEDIA_TYPES, OCTET_STREAM, FileKind
from domain.model import Attachment, Finding, Location
from domain.text import safe_filename
from domain.wording import file_kind_label
from pipeline.findings import finding, reason
from pipeline.formats import MAX_ENTRIES, MAX_UNPACKED_BYTES, Unreadable, check_zip_limits, identify

ARCHIVE_EXTENSIONS = frozenset({".zip", ".rar", ".7z"})
MAX_DEPTH = 3  # an archive in an archive in an archive, and no deeper
_UNSUPPORTED_ARCHIVES = frozenset({FileKind.RAR, FileKind.SEVEN_ZIP})
# Files that archivers and file managers add on their own; never part of a dossier.
_CLUTTER = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
_TNEF_HEADER = 6  # signature and key
_TNEF_ATTRIBUTE_OVERHEAD = 11  # level, id, type, length before the data; checksum after
_ZIP_UTF8_FLAG = 0x800
_ZIP_ENCRYPTED_FLAG = 0x1


@dataclass
class _Budget:
    """What all the archives of one message may unpack, together."""

    bytes_left: int
    entries_left: int


@dataclass
class Unpacked:
    attachments: list[Attachment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def is_tnef(attachment: Attachment) -> bool:
    return attachment.content_type in {
        "application/ms-tnef",
        "application/vnd.ms-tnef",
    } or attachment.filename.lower() in {"winmail.dat", "win.dat"}


def repair_entry_name(info: zipfile.ZipInfo) -> str:
    """An entry's name as its author wrote it.

    Without the UTF-8 flag, zipfile decodes names as CP437 (the zip standard's default), which
    turns what Windows wrote in its own code page, or UTF-8 written without the flag, into
    mojibake; the original bytes are recovered and decoded as UTF-8, else Windows-1258."""
    if info.flag_bits & _ZIP_UTF8_FLAG:
        return info.filename
    try:
        raw = info.filename.encode("cp437")
    except UnicodeEncodeError:
        return info.filename
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace"))


def _member(name: str, payload: bytes) -> Attachment:
    kind = identify(payload)
    return Attachment(
        filename=safe_filename(name),
        content_type=MEDIA_TYPES.get(kind, OCTET_STREAM),
        payload=payload,
    )


class _Unpacker:
    def __init__(self, max_bytes: int, max_entries: int) -> None:
        self.result = Unpacked()
        self.budget = _Budget(max_bytes, max_entries)

    def note(self, code: str, file: str, **params: Any) -> None:
        self.result.findings.append(finding(code, location=Location(file), file=file, **params))

    def take(self, attachment: Attachment, depth: int) -> None:
        if attachment.inline:
            self.result.attachments.append(attachment)
            return
        kind = identify(attachment.payload)
        if is_tnef(attachment):
            self.tnef(attachment, depth)
        elif kind is FileKind.ZIP:
            self.zip(attachment, depth)
        elif kind in _UNSUPPORTED_ARCHIVES:
            self.note("ARCHIVE_FORMAT_UNSUPPORTED", attachment.filename, kind=file_kind_label(kind))
        elif attachment.extension in ARCHIVE_EXTENSIONS and kind is FileKind.UNKNOWN:
            self.note(
                "ARCHIVE_UNREADABLE",
                attachment.filename,
                reason=reason("archive_damaged"),
            )
        else:
            self.result.attachments.append(attachment)

    def inside(self, members: Iterable[Attachment], depth: int) -> None:
        for member in members:
            if depth + 1 >= MAX_DEPTH and identify(member.payload) is FileKind.ZIP:
                self.note(
                    "ARCHIVE_UNREADABLE",
                    member.filename,
                    reason=reason("archive_too_deep", depth=MAX_DEPTH),
                )
                continue
            self.take(member, depth + 1)

    def zip(self, attachment: Attachment, depth: int) -> None:
        try:
            check_zip_limits(attachment.payload)
            members = list(self.zip_members(attachment))
        except Unreadable as err:
            self.note("ARCHIVE_UNREADABLE", attachment.filename, reason=str(err))
            return
        self.inside(members, depth)

    def zip_members(self, attachment: Attachment) -> Iterable[Attachment]:
        with zipfile.ZipFile(io.BytesIO(attachment.payload)) as archive:
            for info in archive.infolist():
                name = repair_entry_name(info)
                path = PurePosixPath(name.replace("\\", "/"))
                if info.is_dir() or path.name.lower() in _CLUTTER or "__MACOSX" in path.parts:
                    continue
                if info.flag_bits & _ZIP_ENCRYPTED_FLAG:
                    self.note("ARCHIVE_PASSWORD_PROTECTED", attachment.filename, entry=path.name)
                    continue
                self.budget.entries_left -= 1
                if self.budget.entries_left < 0 or info.file_size > self.budget.bytes_left:
                    raise Unreadable(reason("archive_too_much"))
                try:
                    with archive.open(info) as entry:
                        # zipfile stops at the declared size; the budget holds whatever it says.
                        payload = entry.read(self.budget.bytes_left + 1)
                except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as err:
                    raise Unreadable(reason("archive_entry_damaged", entry=path.name)) from err
                self.budget.bytes_left -= len(payload)
                if self.budget.bytes_left < 0:
                    raise Unreadable(reason("archive_too_large"))
                yield _member(path.name, payload)

    def tnef(self, attachment: Attachment, depth: int) -> None:
        if not tnef_complete(attachment.payload):
            self.note("TNEF_UNREADABLE", attachment.filename, reason=reason("tnef_damaged"))
            return
        try:
            parsed = TNEF(attachment.payload, do_checksum=False)
            members = [
                _member(_tnef_name(a, parsed.codepage, i), bytes(a.data))
                for i, a in enumerate(parsed.attachments, start=1)
                if a.data
            ]
        except Exception as err:  # tnefparse raises whatever the damage leads to
            self.note("TNEF_UNREADABLE", attachment.filename, reason=type(err).__name__)
            return
        if sum(len(m.payload) for m in members) > self.budget.bytes_left:
            self.note("TNEF_UNREADABLE", attachment.filename, reason=reason("archive_too_large"))
            return
        self.budget.bytes_left -= sum(len(m.payload) for m in members)
        self.inside(members, depth)


def tnef_complete(payload: bytes) -> bool:
    """Whether a TNEF stream's last attribute ends within the data. tnefparse quietly
    returns a cut-short attribute as it is, which would pass half a file for the whole."""
    if len(payload) < _TNEF_HEADER or payload[:4] != _TNEF_SIGNATURE:
        return False
    offset = _TNEF_HEADER
    while offset + _TNEF_ATTRIBUTE_OVERHEAD <= len(payload):
        (length,) = struct.unpack_from("<I", payload, offset + 5)
        offset += _TNEF_ATTRIBUTE_OVERHEAD + length
    return offset <= len(payload)  # a few bytes of padding after the last attribute are fine


def _tnef_name(attachment: Any, codepage: str | None, number: int) -> str:
    try:
        return str(attachment.long_filename())
    except (UnicodeDecodeError, AttributeError):
        # tnefparse reads the short title as UTF-8; Outlook writes it in the sender's code page.
        raw = getattr(attachment, "_name", b"")
        if isinstance(raw, bytes) and raw:
            return raw.decode(codepage or "cp1258", errors="replace").strip("\x00")
        return f"tep-{number}"


def unpack(
    attachments: Iterable[Attachment],
    max_bytes: int = MAX_UNPACKED_BYTES,
    max_entries: int = MAX_ENTRIES,
) -> Unpacked:
    """The message's files with every container replaced by what it holds."""
    unpacker = _Unpacker(max_bytes, max_entries)
    for attachment in attachments:
        unpacker.take(attachment, depth=0)
    return unpacker.result
