"""Peak memory of one `intake poll` over a backlog of 1,000 and of 10,000 dossiers, in one run.

    python -m bench.backlog_memory --backlogs 1000 10000

Each backlog waits on its own Dovecot user with its own SQLite database; the poll fetches,
handles and files every message and sends every reply to a real SMTP server. Its peak RSS is
read from outside (`bench.workload`), and sampled while it runs against the number of messages
handled so far. Memory is flat when the larger backlog peaks no higher than the smaller one, and
when, within the largest, memory after the first 1,000 messages stays where it was then: what
the poll holds must not grow with what waits.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from functools import partial
from pathlib import Path

from bench.workload import (
    dossiers,
    fill_mailbox,
    finish,
    rss_while_running,
    settings_for,
    start_intake,
)
from tests.servers import Dovecot, SmtpServer

# Where the warm-up is over (interpreter tables, caches and SQLite's page cache at their size):
# from here on the poll's memory must not move.
_WARM = 1000


def handled(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT outcome, count(*) FROM inbound_message GROUP BY outcome")
        return {str(outcome): count for outcome, count in rows}  # "None": not handled yet


def handled_so_far(db: Path) -> int:
    """Read beside the running poll (WAL: the reader does not wait for the writer)."""
    if not db.exists():
        return 0
    try:
        return sum(n for outcome, n in handled(db).items() if outcome != "None")
    except sqlite3.OperationalError:  # not migrated yet
        return 0


def after_warm_up(samples: list[tuple[int, float]]) -> str:
    at_warm = [rss for done, rss in samples if done >= _WARM]
    if not at_warm or samples[-1][0] <= _WARM:  # no more messages after the warm-up
        return ""
    return (
        f"; RSS at {_WARM} handled {at_warm[0]:.0f} MB, highest after {max(at_warm):.0f} MB "
        f"(+{max(at_warm) - at_warm[0]:.0f} MB over the last {samples[-1][0] - _WARM} messages)"
    )


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
            database = folder / "intake.db"
            measuring = start_intake(config, "poll")
            samples = rss_while_running(measuring, partial(handled_so_far, database))
            run = finish(measuring)
            replies = len(smtp.inbox.messages) - before
            peaks.append(run.peak_mb)
            print(
                f"backlog {backlog} ({size / 1e6:.0f} MB, appended in {filled:.0f} s): "
                f"peak RSS {run.peak_mb:.0f} MB, {run.seconds:.0f} s "
                f"({backlog / run.seconds:.1f} msg/s), exit {run.exit_code}, "
                f"handled {handled(database)}, {replies} replies at SMTP" + after_warm_up(samples)
            )
    print(
        "peak RSS by backlog: "
        + ", ".join(f"{b}: {p:.0f} MB" for b, p in zip(args.backlogs, peaks, strict=True))
        + f"; largest ÷ smallest {peaks[-1] / peaks[0]:.2f}"
    )


if __name__ == "__main__":
    main()
