"""Peak memory of one `intake poll` over a backlog of 1,000 and of 10,000 dossiers, in one run.

    python -m bench.backlog_memory --backlogs 1000 10000

Each backlog waits on its own Dovecot user with its own SQLite database; the poll fetches,
handles and files every message and sends every reply to a real SMTP server. Its peak RSS is
read from outside (`bench.workload`). Memory is flat when the larger backlog peaks no higher
than the smaller one: what the poll holds must not grow with what waits.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.workload import dossiers, fill_mailbox, run_intake, settings_for
from tests.servers import Dovecot, SmtpServer


def handled(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT outcome, count(*) FROM inbound_message GROUP BY outcome")
        return {str(outcome): count for outcome, count in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlogs", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    peaks = []
    with Dovecot() as dovecot, SmtpServer() as smtp, tempfile.TemporaryDirectory() as tmp:
        for backlog in args.backlogs:
            folder = Path(tmp) / f"backlog{backlog}"
            folder.mkdir()
            user = f"backlog{backlog}"
            started = time.perf_counter()
            size = fill_mailbox(dovecot, user, dossiers(backlog))
            filled = time.perf_counter() - started
            config = settings_for(folder, dovecot, smtp, user)
            before = len(smtp.inbox.messages)
            run = run_intake(config, "poll")
            replies = len(smtp.inbox.messages) - before
            peaks.append(run.peak_mb)
            print(
                f"backlog {backlog} ({size / 1e6:.0f} MB, appended in {filled:.0f} s): "
                f"peak RSS {run.peak_mb:.0f} MB, {run.seconds:.0f} s "
                f"({backlog / run.seconds:.1f} msg/s), exit {run.exit_code}, "
                f"handled {handled(folder / 'intake.db')}, {replies} replies at SMTP"
            )
    print(
        "peak RSS by backlog: "
        + ", ".join(f"{b}: {p:.0f} MB" for b, p in zip(args.backlogs, peaks, strict=True))
        + f"; largest ÷ smallest {peaks[-1] / peaks[0]:.2f}"
    )


if __name__ == "__main__":
    main()
