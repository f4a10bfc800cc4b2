"""The forward package: one .zip with the consolidated workbook, the Tờ trình draft, every
accepted unit's current dossier files named "<mã đơn vị> - <loại giấy tờ> - <tên gốc>", and a
manifest (unit, version, received time, SHA-256 of each file) as CSV for a person and JSON for a
machine. Pure: the files in, the archive's bytes out."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from domain.kinds import DocumentKind
from domain.snapshot import PaperEntry, Snapshot, UnitEntry
from domain.text import safe_filename
from domain.wording import moment_text, status_label

WORKBOOK_NAME = "Bảng tổng hợp danh sách đề nghị khen thưởng.xlsx"
TO_TRINH_NAME = "Dự thảo Tờ trình của Sở Nội vụ.docx"
DOSSIERS = "Hồ sơ các đơn vị"
MANIFEST_HEADERS = (
    "Mã đơn vị",
    "Đơn vị",
    "Lần gửi",
    "Nhận lúc",
    "Loại giấy tờ",
    "Tệp trong gói",
    "Tên tệp gốc",
    "Dung lượng (byte)",
    "SHA-256",
    "Chữ ký số",
    "Ghi chú",
)
MISSING_FILE = "KHÔNG CÓ TỆP trong kho lưu trữ: lấy từ thư gốc của đơn vị trên bàn làm việc"


@dataclass(frozen=True)
class DossierFile:
    entry: UnitEntry
    paper: PaperEntry
    payload: bytes | None  # None: the file store does not have it (said in the manifest)


def _kind_label(kind: str) -> str:
    try:
        return DocumentKind(kind).short_label
    except ValueError:
        return DocumentKind.OTHER.short_label


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, suffix = name.rpartition(".")
    candidate, n = name, 2
    while candidate.casefold() in taken:
        candidate = f"{stem} ({n}).{suffix}" if dot else f"{name} ({n})"
        n += 1
    taken.add(candidate.casefold())
    return candidate


def build_package(
    snapshot: Snapshot, workbook: bytes, to_trinh: bytes, papers: Sequence[DossierFile]
) -> bytes:
    c = snapshot.campaign
    rows: list[dict[str, object]] = []
    taken: set[str] = set()

    def row(
        unit: UnitEntry | None, kind: str, path: str, payload: bytes | None, **more: object
    ) -> None:
        current = unit.current if unit else None
        rows.append(
            {
                "unit_code": unit.unit.code if unit else "",
                "unit": unit.unit.name if unit else c.department.name,
                "version": current.version if current else "",
                "received": moment_text(current.received_at, c.tz)
                if current
                else ("" if unit else moment_text(snapshot.taken_at, c.tz)),
                "kind": kind,
                "path": path,
                "original": more.get("original", ""),
                "size": len(payload) if payload is not None else "",
                "sha256": hashlib.sha256(payload).hexdigest() if payload is not None else "",
                "signature": more.get("signature", ""),
                "note": more.get("note", ""),
            }
        )

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, payload in ((WORKBOOK_NAME, workbook), (TO_TRINH_NAME, to_trinh)):
            archive.writestr(name, payload)
            row(None, "Tổng hợp" if name == WORKBOOK_NAME else "Tờ trình (dự thảo)", name, payload)
        for f in papers:
            label = _kind_label(f.paper.kind)
            about = {"original": f.paper.filename, "signature": f.paper.signature}
            if f.payload is None:
                row(f.entry, label, "", None, note=MISSING_FILE, **about)
                continue
            if f.paper.sha256 and f.paper.sha256 != hashlib.sha256(f.payload).hexdigest():
                raise ValueError(f"stored file of {f.paper.filename} does not match its SHA-256")
            name = safe_filename(f"{f.entry.unit.code} - {label} - {f.paper.filename}")
            path = f"{DOSSIERS}/{_unique(name, taken)}"
            archive.writestr(path, f.payload)
            row(f.entry, label, path, f.payload, **about)
        # Every unit is accounted for: those whose dossier is not in the package say why.
        for entry in snapshot.units:
            if not entry.accepted:
                state = status_label(entry.current.status if entry.current else None)
                row(entry, "", "", None, note=f"không có trong gói: {state}")
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(MANIFEST_HEADERS)
        for listed in rows:
            writer.writerow(listed.values())
        archive.writestr("Danh mục.csv", ("\ufeff" + text.getvalue()).encode("utf-8"))
        archive.writestr(
            "manifest.json",
            json.dumps(
                {"campaign": c.code, "taken_at": snapshot.taken_at.isoformat(), "files": rows},
                ensure_ascii=False,
                indent=2,
            ),
        )
    return buffer.getvalue()
