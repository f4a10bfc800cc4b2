"""The product against the floor of its libraries, on the same messages, in one run.

The floor: imapclient fetching in batches of 50, mail-parser on each message, openpyxl (read-only)
over the list, and an SQLite insert of the raw message and its rows; nothing else. The product:
what `intake poll` does (fetch, triage, read, check, store, annotate, reply queued, filed away,
then every reply delivered over SMTP), timed once loaded, as the floor is. Rounds are
interleaved, each on its own copy of the mailbox; on a shared machine absolute times are noise
and the ratio (product msg/s ÷ floor msg/s) is the figure.

    python -m bench.floor --messages 200 --rounds 3
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mailparser
from openpyxl import load_workbook

from bench.stages import summary
from bench.workload import ENV, dossiers, settings_for
from tests.conftest import vn
from tests.servers import Dovecot, SmtpServer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def floor(dovecot: Dovecot, user: str, db: Path) -> float:
    started = time.perf_counter()
    connection = sqlite3.connect(db)
    connection.execute("CREATE TABLE raw (id INTEGER PRIMARY KEY, data BLOB)")
    connection.execute("CREATE TABLE row (raw_id INTEGER, cells TEXT)")
    with dovecot.client(user) as client:
        client.select_folder("INBOX")
        uids = client.search(["ALL"])
        for start in range(0, len(uids), 50):
            fetched = client.fetch(uids[start : start + 50], ["RFC822", "INTERNALDATE"])
            for data in fetched.values():
                raw = data[b"RFC822"]
                mail = mailparser.parse_from_bytes(raw)
                cursor = connection.execute("INSERT INTO raw (data) VALUES (?)", (raw,))
                for attachment in mail.attachments:
                    if attachment["mail_content_type"] != XLSX:
                        continue
                    payload = attachment["payload"]
                    data_ = (
                        base64.b64decode(payload) if attachment.get("binary") else payload.encode()
                    )
                    book = load_workbook(io.BytesIO(data_), read_only=True)
                    for sheet in book.worksheets:
                        for row in sheet.iter_rows(values_only=True):
                            connection.execute(
                                "INSERT INTO row VALUES (?, ?)", (cursor.lastrowid, repr(row))
                            )
            connection.commit()
    connection.close()
    return time.perf_counter() - started


# The product as `intake poll` loads and runs it (poll, then deliver), timed inside its own process once
# it is loaded, as the floor is timed once its imports are done: start-up is the same for any
# backlog and is printed apart.
_PRODUCT = """
import json, sys, time
started = time.perf_counter()
from cli.loading import load_app_from
from pathlib import Path
from bench.stages import measured
app = load_app_from(Path(sys.argv[1]), handles_mail=True)
loaded = time.perf_counter()
with measured() as stages:
    report = app.poll()
    delivery = app.deliver()
print(json.dumps({"start": loaded - started, "seconds": time.perf_counter() - loaded,
                  "handled": sum(report.outcomes.values()), "sent": delivery.sent,
                  "stages": stages}))
"""


def product(dovecot: Dovecot, smtp: SmtpServer, user: str, directory: Path) -> dict[str, Any]:
    config = settings_for(directory, dovecot, smtp, user)
    done = subprocess.run(
        [sys.executable, "-c", _PRODUCT, str(config)],
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    measured: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    batch = list(dossiers(args.messages))
    floor_rates, product_rates = [], []
    stage_lines = []
    with Dovecot() as dovecot, SmtpServer() as smtp, tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for user in (f"floor{r}", f"product{r}"):
                with dovecot.client(user) as client:
                    for raw in batch:
                        client.append("INBOX", raw, msg_time=vn(21))
            folder = Path(tmp) / f"round{r}"
            folder.mkdir()
            floor_seconds = floor(dovecot, f"floor{r}", folder / "floor.db")
            floor_rates.append(args.messages / floor_seconds)
            before = len(smtp.inbox.messages)
            measured = product(dovecot, smtp, f"product{r}", folder)
            replies = len(smtp.inbox.messages) - before
            product_rates.append(args.messages / measured["seconds"])
            stage_lines.append(
                summary(measured["stages"], args.messages, measured["seconds"], floor_seconds)
            )
            print(
                f"round {r + 1}: floor {floor_rates[-1]:.1f} msg/s, product "
                f"{product_rates[-1]:.1f} msg/s ({measured['handled']:.0f} handled, "
                f"{replies} replies at SMTP; start-up {measured['start']:.1f} s apart), "
                f"ratio {product_rates[-1] / floor_rates[-1]:.2f}"
            )
    ratios = [p / f for p, f in zip(product_rates, floor_rates, strict=True)]
    # The stages of the round whose ratio is the median.
    print(stage_lines[sorted(range(len(ratios)), key=ratios.__getitem__)[len(ratios) // 2]])
    print(
        f"median: floor {statistics.median(floor_rates):.1f} msg/s, product "
        f"{statistics.median(product_rates):.1f} msg/s, ratio {statistics.median(ratios):.2f}"
    )


if __name__ == "__main__":
    main()
