"""One instance against two on PostgreSQL, each taking a backlog of 1,000 dossiers, in one run.

    python -m bench.scale_out --messages 1000 --rounds 2

Each round fills a fresh Dovecot user and a fresh database, starts N `intake poll` at once on
the same settings and waits for all of them: one fetches while the others take what it stores,
every message under its own claim (`storage.inbound.claim`). The time is until the last one
ends, with every message handled and every reply at the SMTP server exactly once. Rounds
alternate one and two instances; the ratio of their median rates is the figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from collections import Counter
from email import message_from_bytes
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from bench.workload import cpu_count, dossiers, finish, settings_for, start_intake
from tests.conftest import postgres_admin_url
from tests.servers import Dovecot, SmtpServer


def fresh_database(name: str) -> str:
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def handled(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM inbound_message WHERE outcome IS NOT NULL")
        ).scalar_one()
    engine.dispose()
    return int(count)


def one_round(
    dovecot: Dovecot, smtp: SmtpServer, batch: list[bytes], instances: int, folder: Path
) -> float:
    user = folder.name
    with dovecot.client(user) as client:
        for raw in batch:
            client.append("INBOX", raw)
    name = f"bench_scale_{os.getpid()}_{user}"
    db_url = fresh_database(name)
    config = settings_for(folder, dovecot, smtp, user, db_url)
    try:
        finish(start_intake(config, "status"))  # migrates, so the instances start on equal terms
        before = len(smtp.inbox.messages)
        runs = [finish(p) for p in [start_intake(config, "poll") for _ in range(instances)]]
        seconds = max(run.seconds for run in runs)
        replies = Counter(
            message_from_bytes(data)["In-Reply-To"] for _, _, data in smtp.inbox.messages[before:]
        )
        twice = sum(1 for count in replies.values() if count > 1)
        # The instances' own CPU time against the wall: on a machine whose cores the servers
        # share, the cores left to the instances bound the speed-up.
        cpu = sum(run.cpu_seconds for run in runs)
        print(
            f"  {instances} instance(s): {seconds:.1f} s ({len(batch) / seconds:.1f} msg/s), "
            f"exits {[run.exit_code for run in runs]}, handled {handled(db_url)}/{len(batch)}, "
            f"replies {sum(replies.values())}, answered twice {twice}; instances used "
            f"{cpu:.0f} CPU-s ({cpu / seconds:.2f} of {cpu_count()} cores)"
        )
        return len(batch) / seconds
    finally:
        drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    batch = list(dossiers(args.messages))
    rates: dict[int, list[float]] = {1: [], 2: []}
    print(f"{args.messages} dossiers, {cpu_count()} CPUs")
    with Dovecot() as dovecot, SmtpServer() as smtp, tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            print(f"round {round_ + 1}:")
            for instances in (1, 2):
                folder = Path(tmp) / f"r{round_}i{instances}"
                folder.mkdir()
                rates[instances].append(one_round(dovecot, smtp, batch, instances, folder))
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    print(f"median: one instance {one:.1f} msg/s, two {two:.1f} msg/s, ratio {two / one:.2f}")


if __name__ == "__main__":
    main()
