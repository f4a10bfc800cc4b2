"""The main job on the embedded default, as the README runs it: the installed `intake` command
over a Maildir of sample submissions, SQLite, and replies written as files."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from email import policy
from pathlib import Path

from openpyxl import load_workbook

from samples.demo_mailbox import write_maildir
from tests.conftest import ROOT


def run_intake(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).parent / "intake"
    return subprocess.run(
        [str(command), "--config", str(ROOT / "config" / "demo.toml"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_demo_processes_the_sample_mailbox(tmp_path: Path) -> None:
    count = write_maildir(tmp_path / "mailbox")
    env = {
        **os.environ,
        "INTAKE_MAILBOX__MAILDIR__PATH": str(tmp_path / "mailbox"),
        "INTAKE_OUTGOING__FILE_DIR": str(tmp_path / "outbox"),
        "INTAKE_DATABASE__URL": f"sqlite:///{tmp_path / 'intake.db'}",
        "INTAKE_STORAGE__FILES_DIR": str(tmp_path / "files"),
    }
    first = run_intake("poll", env=env)
    assert f"Đã lấy {count} thư mới" in first.stdout
    # Data at rest is the service user's alone: the database, stored files and written replies.
    private = [
        tmp_path / "intake.db",
        *(tmp_path / "files").rglob("*"),
        *(tmp_path / "outbox").glob("*"),
    ]
    assert private and all(p.stat().st_mode & 0o077 == 0 for p in private)
    again = run_intake("poll", env=env)
    assert "Đã lấy 0 thư mới" in again.stdout

    replies = sorted((tmp_path / "outbox").glob("*.eml"))
    kinds = [p.stem.split("-", 1)[1] for p in replies]
    assert (
        kinds.count("acknowledgement") >= 4
        and kinds.count("error_report") >= 3
        and kinds.count("how_to_submit") == 1
    )
    for path in replies:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["Auto-Submitted"] == "auto-replied"
        assert msg["In-Reply-To"]

    status = json.loads(run_intake("status", "--json", env=env).stdout)
    by_code = {u["code"]: u for u in status["units"]}
    assert (
        by_code["H-SINHO"]["submissions"] == 2
        and by_code["H-SINHO"]["current"]["status"] == "accepted"
    )
    assert by_code["CAT"]["current"]["status"] == "accepted_late"
    assert by_code["H-PHONGTHO"]["current"]["status"] == "rejected"
    assert by_code["TP-LAICHAU"]["current"] is None
    assert (tmp_path / "mailbox" / ".Processed").is_dir() and (
        tmp_path / "mailbox" / ".Rejected"
    ).is_dir()
    assert list((tmp_path / "mailbox" / "new").iterdir()) == []

    table = run_intake("status", env=env).stdout
    assert "chưa nộp" in table and "tiếp nhận, nộp muộn" in table

    digest = run_intake("digest", "--preview", "--at", "2021-05-26 17:00", env=env).stdout
    assert "TỔNG HỢP HỒ SƠ ĐỀ NGHỊ KHEN THƯỞNG" in digest
    assert "đã quá hạn 1 ngày" in digest
    assert "Bằng khen của Chủ tịch UBND tỉnh: 9/89 tập thể, 36/209 cá nhân" in digest
    assert "xabanbo.tamduong@gmail.com" in digest  # the unknown sender, for a person to look at

    exported = run_intake("export", str(tmp_path / "tong-hop.xlsx"), env=env).stdout
    assert "9 tập thể, 36 cá nhân" in exported
    assert load_workbook(tmp_path / "tong-hop.xlsx").sheetnames[0] == "Tập thể"
    # "As of" tells the truth: what had been received by then, no more (CAT sent on the 26th).
    earlier = tmp_path / "tong-hop-24.xlsx"
    run_intake("export", str(earlier), "--at", "24/05/2021 17:00", env=env)
    cells = {c.value for ws in load_workbook(earlier) for row in ws.iter_rows() for c in row}
    assert "(Tổng hợp từ hồ sơ các đơn vị gửi qua thư điện tử đến 17:00 ngày 24/05/2021)" in cells
    assert not any(isinstance(v, str) and v.startswith("Công an tỉnh (") for v in cells)
    full = {
        c.value
        for ws in load_workbook(tmp_path / "tong-hop.xlsx")
        for row in ws.iter_rows()
        for c in row
    }
    assert any(isinstance(v, str) and v.startswith("Công an tỉnh (") for v in full)
    changes = digest.split("2. THAY ĐỔI")[1].split("3. ")[0]
    received = [
        datetime.strptime(line[4:25], "%H:%M ngày %d/%m/%Y")
        for line in changes.splitlines()
        if line.startswith("  - ")
    ]
    assert len(received) > 5 and received == sorted(received), changes  # in the order received

    due = run_intake("remind", "--dry-run", "--at", "2021-05-24 08:30", env=env).stdout
    assert "TP-LAICHAU" in due and "nhắc trước hạn 1 ngày" in due
    assert "H-TAMDUONG" not in due  # accepted


def test_the_service_polls_on_its_own_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    write_maildir(tmp_path / "mailbox")
    env = {
        **os.environ,
        "INTAKE_MAILBOX__MAILDIR__PATH": str(tmp_path / "mailbox"),
        "INTAKE_OUTGOING__FILE_DIR": str(tmp_path / "outbox"),
        "INTAKE_DATABASE__URL": f"sqlite:///{tmp_path / 'intake.db'}",
        "INTAKE_STORAGE__FILES_DIR": str(tmp_path / "files"),
    }
    command = [
        str(Path(sys.executable).parent / "intake"),
        "--config",
        str(ROOT / "config" / "demo.toml"),
        "run",
    ]
    service = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60

        def replies() -> list[Path]:  # after 17:00 the day's digest goes out at start too
            return [p for p in (tmp_path / "outbox").glob("*.eml") if "digest" not in p.name]

        while time.monotonic() < deadline and len(replies()) < 10:
            time.sleep(0.2)
        assert len(replies()) == 10  # the first poll runs at start
        service.send_signal(signal.SIGTERM)
        _, stderr = service.communicate(timeout=30)
    finally:
        service.kill()
    assert service.returncode == 0, stderr
    assert "scheduler stopped" in stderr
