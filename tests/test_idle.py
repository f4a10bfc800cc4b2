"""`intake run` waits in IMAP IDLE against Dovecot: with the scheduled poll an hour away, a
submission appended to the mailbox is answered at the SMTP server within seconds; with IDLE off it
is not (the poll stays the safety net)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import Servers, vn
from tests.test_intake_imap import SNV, snv_submission

pytestmark = pytest.mark.integration


@contextmanager
def service(servers: Servers, *, idle: bool) -> Iterator[list[str]]:
    """`intake run` on the servers, the scheduled poll an hour apart; yields its log lines."""
    env = {
        **os.environ,
        "INTAKE_SCHEDULE__POLL_MINUTES": "60",
        "INTAKE_MAILBOX__IMAP__IDLE": "true" if idle else "false",
    }
    command = [str(Path(sys.executable).parent / "intake"), "--config", str(servers.config), "run"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stderr.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        yield lines
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_mail_is_answered_in_seconds_while_the_poll_is_an_hour_away(servers: Servers) -> None:
    with service(servers, idle=True) as log:
        assert wait_until(
            lambda: any("waiting for mail in IMAP IDLE" in line for line in log), 30
        ), log
        appended = time.monotonic()
        servers.append(snv_submission(), vn(20, 9))
        assert wait_until(lambda: servers.replies(SNV), 20), "".join(log)
        latency = time.monotonic() - appended
        [reply] = servers.replies(SNV)
        assert str(reply["Subject"]).startswith("[Đã tiếp nhận]")
        assert latency < 20
        # A second message while the service is idle again: answered too, once.
        servers.append(snv_submission(subject="Gửi lại hồ sơ (bản sửa)"), vn(20, 10))
        assert wait_until(lambda: len(servers.replies(SNV)) == 2, 20), "".join(log)
        time.sleep(1)
        assert len(servers.replies(SNV)) == 2


def test_with_idle_off_the_mail_waits_for_the_scheduled_poll(servers: Servers) -> None:
    with service(servers, idle=False) as log:
        assert wait_until(lambda: any("scheduler started" in line for line in log), 30), log
        time.sleep(2)  # the poll at start has run
        servers.append(snv_submission(), vn(20, 9))
        assert not wait_until(lambda: servers.replies(SNV), 8)
        assert not any("IMAP IDLE" in line for line in log)
