"""How long one `intake poll` takes for N submissions waiting on a real Dovecot, with replies
sent to a real SMTP server, on SQLite (default) or PostgreSQL.

    python -m bench.poll_throughput --messages 100
    python -m bench.poll_throughput --messages 100 --database postgresql+psycopg:///bench?host=/var/run/postgresql

Prints wall time of the poll (fetch, process, file away, send), per message, and peak memory.
The database must be empty or absent; a SQLite file is made in a temporary folder.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from config.campaign import load_campaign
from samples.factories import NominationList, build_email, collectives, dossier, people
from tests.conftest import CAMPAIGN_FILE, vn, write_config
from tests.servers import PASSWORD, Dovecot, SmtpServer


def submissions(count: int) -> list[bytes]:
    campaign = load_campaign(CAMPAIGN_FILE)
    units = campaign.units
    messages = []
    for i in range(count):
        unit = units[i % len(units)]
        allowed = campaign.allocation_for(unit.code)
        spec = NominationList(
            unit.name,
            collectives(
                [f"Tập thể {j} của {unit.name}" for j in range(allowed.collectives)],
                turnout="99,1%",
            ),
            people(f"Nguyễn Văn {i}", allowed.individuals),
            with_turnout=unit.kind == "locality",
        )
        messages.append(
            build_email(
                sender=unit.senders[0],
                subject=f"Hồ sơ khen thưởng {unit.name} lần {i}",
                files=dossier(spec),
                date=vn(20),
            )
        )
    return messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument(
        "--database", default=None, help="database URL (default: a new SQLite file)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Dovecot() as dovecot, SmtpServer() as smtp:
        directory = Path(tmp)
        db_url = args.database or f"sqlite:///{directory / 'bench.db'}"
        config = write_config(
            directory, imap_port=dovecot.port, user="bench", smtp_port=smtp.port, db_url=db_url
        )
        prepared = time.perf_counter()
        messages = submissions(args.messages)
        with dovecot.client("bench") as client:
            for raw in messages:
                client.append("INBOX", raw, msg_time=vn(21))
        size_mb = sum(map(len, messages)) / 1e6
        print(
            f"appended {len(messages)} submissions ({size_mb:.1f} MB) in {time.perf_counter() - prepared:.1f} s"
        )
        command = [str(Path(sys.executable).parent / "intake"), "--config", str(config), "poll"]
        env = {"INTAKE_MAILBOX__IMAP__PASSWORD": PASSWORD, "PATH": "/usr/bin:/bin"}
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - started
        child_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(result.stdout.strip())
        print(
            f"intake poll: {elapsed:.2f} s for {len(messages)} submissions "
            f"({1000 * elapsed / len(messages):.0f} ms each), peak RSS {child_rss_mb:.0f} MB, "
            f"{len(smtp.inbox.messages)} replies received by SMTP"
        )


if __name__ == "__main__":
    main()
