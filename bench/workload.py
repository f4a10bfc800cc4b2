"""What the benchmarks share: the messages, filling a mailbox, and running `intake` as its own
process with its wall time and peak memory read from outside."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import make_msgid
from pathlib import Path

from config.campaign import load_campaign
from samples.factories import NominationList, build_email, collectives, dossier, people
from tests.conftest import CAMPAIGN_FILE, vn, write_config
from tests.servers import PASSWORD, Dovecot, SmtpServer

INTAKE = str(Path(sys.executable).parent / "intake")
# Replies are capped per sender per day in production; a backlog from ten units must not hit it.
ENV = {
    "INTAKE_MAILBOX__IMAP__PASSWORD": PASSWORD,
    "INTAKE_OUTGOING__MAX_REPLIES_PER_SENDER_PER_DAY": "1000000",
    "PATH": "/usr/bin:/bin",
}


def settings_for(
    folder: Path, dovecot: Dovecot, smtp: SmtpServer, user: str, db_url: str | None = None
) -> Path:
    """The settings file of a run in `folder`: the user's mailbox, the SMTP server, and the
    database (a new SQLite file in `folder` unless `db_url` says otherwise)."""
    return write_config(
        folder,
        imap_port=dovecot.port,
        user=user,
        smtp_port=smtp.port,
        db_url=db_url or f"sqlite:///{folder / 'intake.db'}",
    )


def dossiers(count: int, distinct: int = 200) -> Iterator[bytes]:
    """`count` valid dossiers (a list of 2 collectives and 8 people, the Tờ trình and the
    Biên bản as PDFs) from ten units, in turn. Past `distinct` the messages repeat with a new
    Message-ID, so a long backlog costs no time to build and every unit's next version still
    differs from its last."""
    campaign = load_campaign(CAMPAIGN_FILE)
    units = [u for u in campaign.units if campaign.allocation_for(u.code).individuals >= 8][:10]
    built: list[bytes] = []
    for i in range(count):
        if i < distinct:
            unit = units[i % len(units)]
            spec = NominationList(
                unit.name,
                collectives([f"Phòng {i}", f"Tổ {i}"], turnout="99,1%"),
                people(f"Nguyễn Văn {i}", 8),
                with_turnout=unit.kind == "locality",
            )
            raw = build_email(
                sender=unit.senders[0],
                subject=f"Hồ sơ {i}",
                files=dossier(spec, bien_ban=True),
                date=vn(20),
            )
            built.append(raw)
            yield raw
        else:
            yield _with_new_message_id(built[i % distinct])


_MESSAGE_ID = re.compile(rb"^Message-ID: <[^>]*>", re.MULTILINE | re.IGNORECASE)


def _with_new_message_id(raw: bytes) -> bytes:
    return _MESSAGE_ID.sub(b"Message-ID: " + make_msgid().encode(), raw, count=1)


def fill_mailbox(dovecot: Dovecot, user: str, messages: Iterator[bytes] | Sequence[bytes]) -> int:
    """APPEND every message to the user's INBOX over one connection; the bytes appended."""
    size = 0
    with dovecot.client(user) as client:
        for raw in messages:
            client.append("INBOX", raw, msg_time=vn(21))
            size += len(raw)
    return size


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    exit_code: int
    cpu_seconds: float


# A small process runs the command and reports from outside: its wall time and, through
# RUSAGE_CHILDREN, the peak RSS of that one child (a child forked straight from the benchmark
# would count the benchmark's pages as its own until exec).
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.perf_counter() - started, "exit_code": code,
                  "peak_kb": used.ru_maxrss, "cpu_seconds": used.ru_utime + used.ru_stime}))
"""


def start_intake(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:  # type: ignore[type-arg]
    """`intake --config CONFIG ARGS…` started in its own measuring process; `finish` reads it."""
    return subprocess.Popen(
        [sys.executable, "-c", _MEASURE, INTAKE, "--config", str(config), *args],
        env={**ENV, **(env or {})},
        stdout=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> Run:  # type: ignore[type-arg]
    out, _ = process.communicate()
    measured = json.loads(out)
    return Run(
        measured["seconds"],
        measured["peak_kb"] / 1024,
        measured["exit_code"],
        measured["cpu_seconds"],
    )


def run_intake(config: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    return finish(start_intake(config, *args, env=env))


def _rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # it has ended
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else None


def _command_pid(measuring: subprocess.Popen) -> int | None:  # type: ignore[type-arg]
    """The `intake` process the measuring process started, once it has."""
    try:
        children = Path(f"/proc/{measuring.pid}/task/{measuring.pid}/children").read_text()
    except OSError:
        return None
    return int(children.split()[0]) if children.split() else None


def rss_while_running(
    measuring: subprocess.Popen,  # type: ignore[type-arg]
    progress: Callable[[], int],
    every_seconds: float = 0.5,
) -> list[tuple[int, float]]:
    """(`progress()`, RSS in MB) of the running command, sampled until it ends: how its memory
    moves as the work advances, where the peak alone cannot tell a warm-up from growth."""
    samples: list[tuple[int, float]] = []
    while measuring.poll() is None:
        pid = _command_pid(measuring)
        rss = _rss_mb(pid) if pid else None
        if rss is not None:
            samples.append((progress(), rss))
        time.sleep(every_seconds)
    return samples


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))
