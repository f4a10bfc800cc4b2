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
from domain.wording import moment_text

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
)


@dataclass(frozen=True)
class DossierFile:
    entry: UnitEntry
    paper: PaperEntry
    payload: bytes


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
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, payload in ((WORKBOOK_NAME, workbook), (TO_TRINH_NAME, to_trinh)):
            archive.writestr(name, payload)
            rows.append(
                {
                    "unit_code": "",
                    "unit": c.department.name,
                    "version": "",
                    "received": moment_text(snapshot.taken_at, c.tz),
                    "kind": "Tổng hợp" if name == WORKBOOK_NAME else "Tờ trình (dự thảo)",
                    "path": name,
                    "original": "",
                    "size": len(payload),
                    "sha256": hashlib.sha256(payload).hexdigest(),
                    "signature": "",
                }
            )
        for f in papers:
            current = f.entry.current
            assert current is not None
            label = _kind_label(f.paper.kind)
            name = safe_filename(f"{f.entry.unit.code} - {label} - {f.paper.filename}")
            path = f"{DOSSIERS}/{_unique(name, taken)}"
            archive.writestr(path, f.payload)
            digest = hashlib.sha256(f.payload).hexdigest()
            if f.paper.sha256 and f.paper.sha256 != digest:
                raise ValueError(f"stored file of {f.paper.filename} does not match its SHA-256")
            rows.append(
                {
                    "unit_code": f.entry.unit.code,
                    "unit": f.entry.unit.name,
                    "version": current.version,
                    "received": moment_text(current.received_at, c.tz),
                    "kind": label,
                    "path": path,
                    "original": f.paper.filename,
                    "size": len(f.payload),
                    "sha256": digest,
                    "signature": f.paper.signature,
                }
            )
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(MANIFEST_HEADERS)
        for row in rows:
            writer.writerow(row.values())
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
