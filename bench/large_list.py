"""A list far beyond the reading bounds (200,000 rows): reading it, validating it and answering
it with the annotated copy, against the same for a list at the bound (5,000 rows), in one run.

    python -m bench.large_list --rows 200000

Each size runs in its own process (peak RSS read by the parent from `wait4`); printed are the
wall time and peak memory of each and their ratio.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook

from samples.factories import PROVINCIAL


def write_list(path: Path, rows: int) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Cá nhân")
    sheet.append(["STT", "Họ và tên", "Năm sinh", "Chức vụ", "Hình thức khen thưởng", "Ghi chú"])
    for i in range(1, rows + 1):
        # Every tenth row lacks its award: errors on rows, so the annotated copy is made.
        award = PROVINCIAL if i % 10 else ""
        sheet.append([i, f"Nguyễn Văn {i}", 1980, "Chuyên viên", award, ""])
    workbook.save(path)


def answer(path: Path) -> None:
    """What the intake does with the list: examine, then compose the error report."""
    from datetime import UTC, datetime

    from config.campaign import load_campaign
    from domain.kinds import Severity
    from domain.model import Attachment, ParsedEmail
    from pipeline.annotate import annotated_copies
    from pipeline.examine import examine
    from pipeline.reply import SubmissionReply, compose_submission_reply, count_rows, group_findings
    from samples.factories import XLSX
    from tests.conftest import CAMPAIGN_FILE

    campaign = load_campaign(CAMPAIGN_FILE)
    unit = campaign.units_by_code["SNV"]
    mail = ParsedEmail(
        "<b@x>",
        unit.senders[0],
        "",
        "Hồ sơ",
        None,
        "",
        {},
        "",
        (Attachment(path.name, XLSX, path.read_bytes()),),
    )
    now = datetime(2021, 5, 20, 3, tzinfo=UTC)
    _, extraction, verdict = examine(mail, unit, campaign, now)
    reply = SubmissionReply(
        campaign=campaign,
        unit=unit,
        status=verdict.status,
        version=1,
        received_at=now,
        counts=count_rows(extraction.nominees, unit, campaign),
        documents=extraction.documents,
        errors=group_findings(verdict.findings, Severity.ERROR),
        warnings=group_findings(verdict.findings, Severity.WARNING),
        annotated=annotated_copies(extraction.lists_read, verdict.findings),
    )
    compose_submission_reply(reply, mail, "Sở Nội vụ", now).as_bytes()
    print(len(extraction.nominees), len(reply.annotated))


def measure(path: Path) -> tuple[float, float, str]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.large_list", "--answer", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    out = process.stdout.read().strip()
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, out
    return time.perf_counter() - started, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--answer", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.answer:
        answer(args.answer)
        return
    with tempfile.TemporaryDirectory() as tmp:
        big, bound = Path(tmp) / "big.xlsx", Path(tmp) / "bound.xlsx"
        write_list(big, args.rows)
        write_list(bound, 5000)
        print(
            f"{args.rows} rows: {big.stat().st_size / 1e6:.1f} MB; 5000 rows: {bound.stat().st_size / 1e6:.1f} MB"
        )
        for name, path in (("at the bound (5,000 rows)", bound), (f"{args.rows:,} rows", big)):
            seconds, peak, out = measure(path)
            print(f"{name}: {seconds:.1f} s, peak RSS {peak:.0f} MB (nominees read, copies: {out})")


if __name__ == "__main__":
    main()
