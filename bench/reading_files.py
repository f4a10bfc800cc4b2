"""How long reading a unit's files takes, by format, and what the annotated copy costs.

    python -m bench.reading_files --rows 1000 --repeat 5

One list of N individuals is written as .xlsx (openpyxl reads it), .xls and .ods (python-calamine),
and .csv, and also zipped and wrapped in a winmail.dat; each is put through unpack and extract
`--repeat` times and the best time is printed. Then a list where every tenth row names an unknown
award is validated and its annotated copy built, for an .xlsx original (edited in place) and an
.ods one (rebuilt from values). Peak memory is the process's maximum resident size at the end.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from config.campaign import load_campaign
from domain.model import Attachment
from pipeline.annotate import annotated_copies
from pipeline.extract import extract
from pipeline.unpack import unpack
from samples.factories import PROVINCIAL
from tests.conftest import CAMPAIGN_FILE
from tests.corpus.cases import HEADER, SUMMARY, csv_bytes, ods, tnef, xlsx, zip_archive

CAMPAIGN = load_campaign(CAMPAIGN_FILE)
OCTET = "application/octet-stream"


def rows(count: int, faulty_every: int = 0) -> list[list[object]]:
    body: list[list[object]] = []
    for i in range(1, count + 1):
        award = "Giấy khen huyện" if faulty_every and i % faulty_every == 0 else PROVINCIAL
        body.append([i, f"Nguyễn Văn Thành {i}", 1980, "Chuyên viên", award, SUMMARY])
    return [["DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG"], [], list(HEADER), ["II. CÁ NHÂN"], *body]


def as_xls(payload: bytes) -> bytes | None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "ds.xlsx"
        source.write_bytes(payload)
        subprocess.run(
            [soffice, "--headless", "--convert-to", "xls", "--outdir", tmp, str(source)],
            check=True,
            capture_output=True,
        )
        return (Path(tmp) / "ds.xls").read_bytes()


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def read(name: str, payload: bytes) -> int:
    unpacked = unpack([Attachment(name, OCTET, payload)])
    return len(extract(unpacked.attachments, CAMPAIGN).nominees)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    table = rows(args.rows)
    workbook = xlsx({"Cá nhân": table})
    files = {
        "Danh sách.xlsx": workbook,
        "Danh sách.ods": ods(table),
        "Danh sách.csv": csv_bytes(table, "cp1258"),
        "Hồ sơ.zip": zip_archive({"Hồ sơ/Danh sách.xlsx": workbook}),
        "winmail.dat": tnef([("Danh sách.xlsx", workbook)]),
    }
    xls = as_xls(workbook)
    if xls is not None:
        files["Danh sách.xls"] = xls
    print(f"reading a list of {args.rows} individuals (best of {args.repeat}):")
    for name, payload in files.items():
        assert read(name, payload) == args.rows, name
        seconds = best_of(args.repeat, partial(read, name, payload))
        print(f"  {name:<16} {len(payload) / 1024:8.0f} KB {seconds * 1000:8.0f} ms")

    faulty = rows(args.rows, faulty_every=10)
    print(f"annotated copy, {args.rows // 10} faulty rows:")
    for name, payload in (
        ("Danh sách.xlsx", xlsx({"Cá nhân": faulty})),
        ("Danh sách.ods", ods(faulty)),
    ):
        extraction = extract([Attachment(name, OCTET, payload)], CAMPAIGN)
        copies = partial(annotated_copies, extraction.lists_read, extraction.findings)
        assert copies()
        seconds = best_of(args.repeat, copies)
        print(f"  from {name:<16} {seconds * 1000:8.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
