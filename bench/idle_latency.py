"""Reply latency with IMAP IDLE: from the APPEND to Dovecot to the reply accepted by the SMTP
server, for messages arriving one a second while `intake run` waits in IDLE (the scheduled poll an
hour apart, so every answer is IDLE's doing). Prints p50, p95 and the worst.

    python -m bench.idle_latency --messages 50
"""

from __future__ import annotations

import argparse
import email
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email import policy
from pathlib import Path

from bench.workload import settings_for
from samples.factories import NominationList, build_email, collectives, dossier, people
from tests.servers import PASSWORD, Dovecot, SmtpServer

SENDER = "vanphong.snv@laichau.gov.vn"


def submission(i: int) -> tuple[bytes, str]:
    spec = NominationList("Sở Nội vụ", collectives([f"Phòng số {i}"]), people("Trần Thị", 3))
    raw = build_email(sender=SENDER, subject=f"Hồ sơ lần {i}", files=dossier(spec))
    parsed = email.message_from_bytes(raw, policy=policy.default)
    return raw, str(parsed["Message-ID"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between messages")
    args = parser.parse_args()
    answered: dict[str, float] = {}

    def on_reply(data: bytes) -> None:
        reply = email.message_from_bytes(data, policy=policy.default)
        answered.setdefault(str(reply["In-Reply-To"]).strip(), time.monotonic())

    with (
        Dovecot() as dovecot,
        SmtpServer(on_message=on_reply) as smtp,
        tempfile.TemporaryDirectory() as tmp,
    ):
        directory = Path(tmp)
        config = settings_for(directory, dovecot, smtp, "idle")
        env = {
            **os.environ,
            "INTAKE_MAILBOX__IMAP__PASSWORD": PASSWORD,
            "INTAKE_SCHEDULE__POLL_MINUTES": "60",
            "INTAKE_OUTGOING__MAX_REPLIES_PER_SENDER_PER_DAY": str(args.messages * 2),
        }
        command = [str(Path(sys.executable).parent / "intake"), "--config", str(config), "run"]
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        log: list[str] = []
        threading.Thread(
            target=lambda: log.extend(iter(process.stderr.readline, "")),  # type: ignore[union-attr]
            daemon=True,
        ).start()
        try:
            deadline = time.monotonic() + 60
            while not any("IMAP IDLE" in line for line in log) and time.monotonic() < deadline:
                time.sleep(0.1)
            messages = [submission(i) for i in range(args.messages)]
            appended: dict[str, float] = {}
            for raw, message_id in messages:
                appended[message_id] = time.monotonic()
                dovecot.append("idle", raw)
                time.sleep(args.every)
            deadline = time.monotonic() + 120
            while len(answered) < len(messages) and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    latencies = sorted(answered[m] - appended[m] for m in appended if m in answered)
    if not latencies:
        sys.exit("no reply arrived")
    p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    print(
        f"{len(latencies)}/{len(appended)} answered; APPEND → reply accepted by SMTP: "
        f"p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s, worst {latencies[-1]:.2f} s"
    )


if __name__ == "__main__":
    main()
