"""Kill `intake poll` with SIGKILL at random moments over a backlog, restart it, and check that
every message still ends in exactly one outcome and at most one reply.

    python -m tests.crash_harness --messages 300 --seed 7      # a larger run than CI's
    python -m tests.crash_harness --messages 300 --mode run    # kill the scheduled service
    python -m tests.crash_harness --database postgresql+psycopg:///harness?host=/var/run/postgresql

A real Dovecot holds the backlog and a real SMTP server receives the replies; each `intake poll`
is a separate process, killed after a random delay measured from its "ready" log line (so during
fetch, processing, a commit, an SMTP send or an IMAP move, on a slow machine as on a fast one)
until one run finishes on its own. `--mode run` kills the `intake run` service instead, polling
and delivering every second. Then the invariants are checked.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlmodel import Session, col, select

from config.campaign import load_campaign
from domain.kinds import AuditAction, MailboxAction, MailState, MessageState, Outcome
from samples.factories import (
    XLSX,
    File,
    NominationList,
    build_email,
    build_workbook,
    collectives,
    dossier,
    people,
)
from storage import audit
from storage.db import make_engine
from storage.models import InboundMessage, OutboundMail, Submission
from tests.conftest import CAMPAIGN_FILE, vn, write_config
from tests.servers import PASSWORD, Dovecot, SmtpServer


@dataclass
class Report:
    messages: int
    kills: int = 0
    runs: int = 0
    expected_replies: int = 0
    uncertain: int = 0  # interrupted after the end of data: not resent, shown to the operator
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.messages} messages, {self.runs} runs, {self.kills} kills: "
            f"{self.expected_replies} replies expected, {self.lost} lost, {self.duplicated} duplicated, "
            f"{self.uncertain} uncertain (not resent, reported), "
            f"{len(self.problems)} other problems, {self.seconds:.0f} s"
        )


def backlog(count: int) -> tuple[list[bytes], int]:
    """Submissions from the campaign's units, a few unknown senders, auto-replies and copies.
    Returns the raw messages and how many replies they should get."""
    campaign = load_campaign(CAMPAIGN_FILE)
    messages: list[bytes] = []
    replies = 0
    for i in range(count):
        unit = campaign.units[i % len(campaign.units)]
        kind = i % 10
        if kind == 7:
            spec = NominationList("Xã lạ", individuals=people("Lò Thị", 2))
            messages.append(
                build_email(
                    sender=f"nguoi.la{i}@gmail.com",
                    subject=f"danh sách {i}",
                    files=[File("ds.xlsx", build_workbook(spec), XLSX)],
                )
            )
            replies += 1
        elif kind == 8:
            messages.append(
                build_email(
                    sender=unit.senders[0],
                    subject=f"Vắng mặt {i}",
                    headers={"Auto-Submitted": "auto-replied"},
                )
            )
        elif kind == 9 and messages:
            messages.append(messages[-2])  # the same email delivered again: no second reply
        else:
            allowed = campaign.allocation_for(unit.code)
            extra = 2 if kind == 3 else 0  # some over quota
            spec = NominationList(
                unit.name,
                collectives([f"Tập thể {i}"], turnout="99%"),
                people(f"Người {i}", allowed.individuals + extra),
                with_turnout=unit.kind == "locality",
            )
            messages.append(
                build_email(
                    sender=unit.senders[0], subject=f"Hồ sơ {unit.name} {i}", files=dossier(spec)
                )
            )
            replies += 1
    return messages, replies


@dataclass
class Setup:
    dovecot: Dovecot
    smtp: SmtpServer
    db_url: str
    command: list[str]
    env: dict[str, str]
    total: int


@contextmanager
def backlog_on_servers(messages: int, database: str | None, report: Report) -> Iterator[Setup]:
    """Dovecot holding the backlog, an SMTP server, a database and the `intake poll` command."""
    with tempfile.TemporaryDirectory() as tmp, Dovecot() as dovecot, SmtpServer() as smtp:
        directory = Path(tmp)
        db_url = database or f"sqlite:///{directory / 'harness.db'}"
        config = write_config(
            directory, imap_port=dovecot.port, user="harness", smtp_port=smtp.port, db_url=db_url
        )
        raws, report.expected_replies = backlog(messages)
        with dovecot.client("harness") as client:
            for raw in raws:
                client.append("INBOX", raw, msg_time=vn(21))
        command = [str(Path(sys.executable).parent / "intake"), "--config", str(config), "poll"]
        env = {
            "INTAKE_MAILBOX__IMAP__PASSWORD": PASSWORD,
            "PATH": "/usr/bin:/bin",
            # The backlog has many unknown senders, each owed its answer.
            "INTAKE_OUTGOING__MAX_UNREGISTERED_REPLIES_PER_HOUR": "100000",
            "INTAKE_OUTGOING__MAX_UNREGISTERED_REPLIES_PER_DAY": "100000",
        }
        setup = Setup(dovecot, smtp, db_url, command, env, len(raws))
        yield setup
        check(report, db_url, dovecot, "harness", smtp, setup.total)


def _start_ready(
    command: list[str], env: dict[str, str], timeout: float = 120
) -> tuple[subprocess.Popen[bytes], bool]:
    """Start a process and wait for its "ready" log line (settings read, database migrated), so
    kill points are measured from there, however slow the machine is to start Python."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, bufsize=0
    )
    assert process.stderr is not None
    ready = threading.Event()

    def watch(stream: IO[bytes]) -> None:
        for line in stream:
            if b"ready:" in line:
                ready.set()
        ready.set()  # it ended (or closed stderr) before saying it was ready

    threading.Thread(target=watch, args=(process.stderr,), daemon=True).start()
    return process, ready.wait(timeout)


def _kill(process: subprocess.Popen[bytes], report: Report) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()
    report.kills += 1


def run(
    messages: int,
    seed: int,
    database: str | None = None,
    max_runs: int = 400,
    mode: str = "poll",
) -> Report:
    """Kill `intake poll` (or `intake run`, the scheduled service) at a random moment after it is
    ready, again and again, until the backlog is settled; then check the invariants."""
    rng = random.Random(seed)
    report = Report(messages)
    started = time.monotonic()
    with backlog_on_servers(messages, database, report) as setup:
        command = setup.command if mode == "poll" else [*setup.command[:-1], "run"]
        # The service polls and delivers every second or so here, so kills land in every phase.
        env = {
            **setup.env,
            "INTAKE_SCHEDULE__POLL_MINUTES": "0.02",
            "INTAKE_SCHEDULE__DELIVER_SECONDS": "1",
        }
        while report.runs < max_runs:
            report.runs += 1
            process, ready = _start_ready(command, env)
            if not ready:
                report.problems.append(f"run {report.runs} never became ready")
                _kill(process, report)
                continue
            try:
                process.wait(
                    timeout=rng.uniform(0.02, 0.6) if mode == "poll" else rng.uniform(0.1, 1.0)
                )
            except subprocess.TimeoutExpired:
                _kill(process, report)
                if mode == "run" and settled(setup.db_url, setup.total):
                    break
                continue
            if process.returncode != 0:
                report.problems.append(f"run {report.runs} exited with {process.returncode}")
            if settled(setup.db_url, setup.total):
                break
    report.seconds = time.monotonic() - started
    return report


def run_concurrently(
    messages: int,
    instances: int,
    database: str | None = None,
    rounds: int = 3,
    prefixes: Sequence[Sequence[str]] = ((),),
) -> Report:
    """Several `intake poll` processes at once, in rounds, on one database and one mailbox (a
    second machine taking over, or a restart overlapping the old process). Instance i runs under
    `prefixes[i % len(prefixes)]`, e.g. `faketime -f +31m` for a host whose clock is ahead."""
    report = Report(messages)
    started = time.monotonic()
    with backlog_on_servers(messages, database, report) as setup:
        for _ in range(rounds):
            processes = [
                subprocess.Popen(
                    [*prefixes[i % len(prefixes)], *setup.command],
                    env=setup.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                for i in range(instances)
            ]
            for process in processes:
                _, err = process.communicate(timeout=300)
                report.runs += 1
                if process.returncode != 0:
                    report.problems.append(
                        f"an instance exited with {process.returncode}: {err.decode()[-500:]}"
                    )
            if settled(setup.db_url, setup.total):
                break
    report.seconds = time.monotonic() - started
    return report


def settled(db_url: str, total: int) -> bool:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            ledger = session.exec(select(InboundMessage)).all()
            queued = session.exec(
                select(OutboundMail).where(
                    col(OutboundMail.state).in_([MailState.QUEUED, MailState.SENDING])
                )
            ).all()
            return (
                len(ledger) == total
                and not queued
                and all(
                    m.state == MessageState.DONE and m.mailbox_action != MailboxAction.PENDING
                    for m in ledger
                )
            )
    finally:
        engine.dispose()


def check(
    report: Report, db_url: str, dovecot: Dovecot, user: str, smtp: SmtpServer, total: int
) -> None:
    """The invariants: one outcome per message, one reply per reply due, folders match."""
    engine = make_engine(db_url)
    with Session(engine) as session:
        ledger = session.exec(select(InboundMessage)).all()
        submissions = session.exec(select(Submission)).all()
        report.uncertain = len(
            session.exec(
                select(OutboundMail).where(OutboundMail.state == MailState.UNCERTAIN)
            ).all()
        )
        chain = audit.verify(session)
        handled = [r for r in audit.rows(session) if r.action == AuditAction.MESSAGE_HANDLED.value]
        handled_rows = Counter(row.object_id for row in handled)
        replies = {
            str(mail.inbound_message_id): mail.id
            for mail in session.exec(select(OutboundMail)).all()
        }
    engine.dispose()
    # The audit trail is written in the transactions it records: killed ones leave no row.
    if not chain.intact:
        report.problems.append(f"audit chain broken: {chain.breaks}")
    # Each handled row names the reply queued with it, or none when there is none.
    unlinked = [
        r.object_id for r in handled if json.loads(r.details)["reply"] != replies.get(r.object_id)
    ]
    if unlinked:
        report.problems.append(f"audit rows not naming their reply: messages {unlinked}")
    twice = [m for m, n in handled_rows.items() if n != 1]
    if twice or len(handled_rows) != total:
        report.problems.append(
            f"audit rows for handled messages: {len(handled_rows)} for {total}, repeated {twice}"
        )
    if len(ledger) != total:
        report.problems.append(f"ledger has {len(ledger)} rows for {total} messages")
    stuck = [m.id for m in ledger if m.state != MessageState.DONE]
    if stuck:
        report.problems.append(f"not done: {stuck}")
    by_message = Counter(s.inbound_message_id for s in submissions)
    if any(n > 1 for n in by_message.values()):
        report.problems.append("a message has more than one submission")
    expected_submissions = sum(1 for m in ledger if m.outcome == Outcome.SUBMISSION)
    if len(submissions) != expected_submissions:
        report.problems.append(
            f"{len(submissions)} submissions for {expected_submissions} submission messages"
        )
    answered = Counter(
        str(msg["In-Reply-To"]).strip() for msg in smtp.received() if msg["In-Reply-To"]
    )
    should_answer = [
        m.message_id
        for m in ledger
        if m.outcome == Outcome.SUBMISSION
        or (m.outcome == Outcome.UNKNOWN_SENDER and "hướng dẫn" in m.outcome_detail)
    ]
    report.lost = sum(1 for mid in should_answer if answered[mid] == 0) + max(
        0, report.expected_replies - len(should_answer)
    )
    report.duplicated = sum(n - 1 for n in answered.values() if n > 1)
    folders = dovecot.folder_counts(user)
    if (
        folders.get("INBOX", 0) != 0
        or folders.get("Processed", 0) + folders.get("Rejected", 0) != total
    ):
        report.problems.append(f"mailbox folders {folders} do not match {total} handled messages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default=None)
    parser.add_argument(
        "--mode",
        choices=["poll", "run"],
        default="poll",
        help="kill `intake poll` runs, or the `intake run` service",
    )
    parser.add_argument(
        "--instances",
        type=int,
        default=0,
        help="run this many polls at once instead of killing one",
    )
    args = parser.parse_args()
    if args.instances:
        report = run_concurrently(args.messages, args.instances, args.database)
    else:
        report = run(args.messages, args.seed, args.database, mode=args.mode)
    print(report.line())
    for problem in report.problems:
        print("  problem:", problem)
    sys.exit(1 if report.problems or report.lost or report.duplicated else 0)


if __name__ == "__main__":
    main()
