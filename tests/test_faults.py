"""Faults on purpose, against the real servers: connections cut by a TCP proxy, Dovecot stopped
and started, a refused login, a missing folder, a locked SQLite file, PostgreSQL connections
dropped. After each, the invariants of the crash harness must hold: every message one outcome,
every reply due sent exactly once, the mailbox folders in agreement with the database."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, select
from typer.testing import CliRunner

import scheduler
from cli import app, load_app_from
from domain.kinds import JobOutcome, MailState
from storage.db import make_engine
from storage.models import JobRun, OutboundMail
from tests.conftest import Servers, write_config
from tests.crash_harness import Report, backlog, check
from tests.servers import PASSWORD, Dovecot, SmtpServer, TcpProxy, free_port

pytestmark = pytest.mark.integration


def poll(config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(config), "poll"])
    return result.exit_code, result.output


def through(
    servers: Servers,
    tmp_path: Path,
    *,
    imap_port: int | None = None,
    smtp_port: int | None = None,
    db_url: str | None = None,
) -> Path:
    """A second configuration beside the test's own, reaching a server another way (a proxy,
    a dead port, a silent server); what is not given stays as in `servers`."""
    directory = tmp_path / "variant"
    directory.mkdir(exist_ok=True)
    return write_config(
        directory,
        imap_port=imap_port or servers.dovecot.port,
        user=servers.user,
        smtp_port=smtp_port or servers.smtp.port,
        db_url=db_url or servers.db_url,
    )


def load_backlog(servers: Servers, count: int) -> int:
    messages, replies = backlog(count)
    for raw in messages:
        servers.append(raw)
    return replies


def invariants_hold(servers: Servers, total: int, replies: int) -> Report:
    report = Report(messages=total, expected_replies=replies)
    check(report, servers.db_url, servers.dovecot, servers.user, servers.smtp, total)
    assert (report.lost, report.duplicated, report.problems) == (0, 0, []), report.line()
    return report


@pytest.fixture
def quick_reconnects(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_MAILBOX__IMAP__RECONNECT_WAIT_SECONDS", "0.05")


def test_a_connection_dropped_mid_fetch_is_resumed_in_the_same_poll(
    servers: Servers, tmp_path: Path, quick_reconnects: None
) -> None:
    replies = load_backlog(servers, 20)
    # The first connection dies after 100 kB of the server's answers (inside the second batch of
    # seven), the second at once, the third is refused: the fourth attempt goes through.
    plan: list[str | int] = [100_000, 0, "refuse"]
    with TcpProxy(("127.0.0.1", servers.dovecot.port), plan) as proxy:
        code, output = poll(through(servers, tmp_path, imap_port=proxy.port))
    assert code == 0, output
    assert "Đã lấy 20 thư mới" in output
    assert proxy.connections == 5  # four to fetch, one to file away
    invariants_hold(servers, 20, replies)


def test_a_line_that_keeps_dropping_is_reported_and_the_next_poll_catches_up(
    servers: Servers, tmp_path: Path, quick_reconnects: None
) -> None:
    replies = load_backlog(servers, 10)
    # The first batch of 7 (about 85 kB) gets through; the line drops during the second.
    with TcpProxy(("127.0.0.1", servers.dovecot.port), [95_000, 0, 0, 0]) as proxy:
        config = through(servers, tmp_path, imap_port=proxy.port)
        code, output = poll(config)
        assert code == 1
        assert "Không lấy được thư mới:" in output and "máy chủ thư 127.0.0.1" in output
        assert "Lượt sau sẽ tự thử lại." in output
        # What was fetched before the line broke is processed and answered already.
        answered_early = len(servers.replies())
        assert 0 < answered_early < replies
        code, output = poll(config)
    assert code == 0, output
    invariants_hold(servers, 10, replies)


def test_dovecot_restarted_during_a_poll_is_waited_for(
    smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp_server.clear()
    monkeypatch.setenv("INTAKE_MAILBOX__IMAP__PASSWORD", PASSWORD)
    monkeypatch.setenv("INTAKE_MAILBOX__IMAP__RECONNECT_ATTEMPTS", "8")
    monkeypatch.setenv("INTAKE_MAILBOX__IMAP__RECONNECT_WAIT_SECONDS", "0.2")
    with Dovecot() as dovecot:  # its own server: this test stops it
        db_url = f"sqlite:///{tmp_path / 'intake.db'}"
        config = write_config(
            tmp_path,
            imap_port=dovecot.port,
            user="restart",
            smtp_port=smtp_server.port,
            db_url=db_url,
        )
        servers = Servers(dovecot, smtp_server, "restart", config, db_url)
        replies = load_backlog(servers, 6)
        dovecot.halt()
        restarted_after = 1.0
        threading.Timer(restarted_after, dovecot.start).start()
        started = time.monotonic()
        code, output = poll(config)
        elapsed = time.monotonic() - started
        assert code == 0, output
        assert "Đã lấy 6 thư mới" in output
        # Back-off 0.2, 0.4, 0.8 … s: the poll goes on within seconds of the restart.
        assert restarted_after < elapsed < restarted_after + 10
        invariants_hold(servers, 6, replies)


def test_a_refused_login_is_reported_at_once_and_not_retried(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_backlog(servers, 2)
    monkeypatch.setenv("INTAKE_MAILBOX__IMAP__PASSWORD", "wrong")
    with TcpProxy(("127.0.0.1", servers.dovecot.port)) as proxy:
        code, output = poll(through(servers, tmp_path, imap_port=proxy.port))
        assert proxy.connections == 1
    assert code == 1
    assert f"từ chối đăng nhập tài khoản {servers.user}" in output
    assert "kiểm tra tên đăng nhập và mật khẩu" in output
    assert "wrong" not in output  # the password is never echoed


def test_a_missing_folder_is_named_in_the_report(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_MAILBOX__FOLDER", "Hồ sơ khen thưởng")
    code, output = poll(servers.config)
    assert code == 1
    assert 'hộp thư không có thư mục "Hồ sơ khen thưởng"' in output


def test_nothing_listening_is_retried_then_reported(
    servers: Servers, tmp_path: Path, quick_reconnects: None
) -> None:
    started = time.monotonic()
    code, output = poll(through(servers, tmp_path, imap_port=free_port()))
    assert code == 1
    assert "không kết nối được máy chủ thư 127.0.0.1" in output
    assert time.monotonic() - started < 5


def test_a_poll_whose_mailbox_is_down_is_recorded_as_failed_for_status(
    servers: Servers, tmp_path: Path, quick_reconnects: None
) -> None:
    application = load_app_from(through(servers, tmp_path, imap_port=free_port()))
    jobs = scheduler.jobs_of(application)
    jobs.poll()
    with Session(make_engine(servers.db_url)) as session:
        [run] = session.exec(select(JobRun)).all()
    assert run.outcome == "failed"
    assert "không kết nối được máy chủ thư" in run.detail


def test_a_locked_sqlite_database_fails_the_poll_clearly_and_the_next_one_resumes(
    servers: Servers, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    messages, replies = backlog(10)
    for raw in messages[:5]:
        servers.append(raw)
    monkeypatch.setenv("INTAKE_DATABASE__LOCK_TIMEOUT_SECONDS", "0.5")
    code, output = poll(servers.config)
    assert code == 0, output
    for raw in messages[5:]:
        servers.append(raw)
    holder = sqlite3.connect(servers.db_url.removeprefix("sqlite:///"))
    holder.execute("BEGIN EXCLUSIVE")  # another program holding the file, e.g. a backup tool
    try:
        code, output = poll(servers.config)
    finally:
        holder.rollback()
        holder.close()
    assert code == 1
    assert "Cơ sở dữ liệu đang bị khóa hoặc không truy cập được" in output
    assert "Không có thư nào bị mất" in output
    code, output = poll(servers.config)
    assert code == 0, output
    invariants_hold(servers, 10, replies)
    # The logs of all this carry no nominee's name and no password.
    assert "database is locked" in caplog.text
    assert "Người " not in caplog.text and PASSWORD not in caplog.text


def test_postgresql_connections_dropped_or_refused_lose_nothing(
    servers: Servers, fresh_postgres: str, tmp_path: Path
) -> None:
    """PostgreSQL behind a proxy. First every connection is reset while a reply is being sent
    (after the SMTP server accepted it, before it was recorded): the pool notices the dead
    connections and the poll carries on. Then the server refuses connections for a whole poll:
    the poll fails with a clear message, and the next one resumes."""
    socket_dir = make_url(fresh_postgres).query.get("host", "/var/run/postgresql")
    database = make_url(fresh_postgres).database
    messages, replies = backlog(16)
    with TcpProxy(f"{socket_dir}/.s.PGSQL.5432") as proxy:
        servers.db_url = f"postgresql+psycopg://127.0.0.1:{proxy.port}/{database}"
        config = through(servers, tmp_path, db_url=servers.db_url)
        for raw in messages[:8]:
            servers.append(raw)
        cut = threading.Event()

        def drop_database_once(_: bytes) -> None:
            if not cut.is_set():
                cut.set()
                proxy.cut_all()

        servers.smtp.inbox.on_message = drop_database_once
        try:
            code, output = poll(config)
        finally:
            servers.smtp.inbox.on_message = None
        assert cut.is_set()
        assert code == 0, output

        for raw in messages[8:]:
            servers.append(raw)
        proxy.plan = ["refuse"] * 1000
        code, output = poll(config)
        assert code == 1, output
        assert "Cơ sở dữ liệu đang bị khóa hoặc không truy cập được" in output
        proxy.plan = []
        code, output = poll(config)
        assert code == 0, output
        report = invariants_hold(servers, 16, replies)
    assert report.uncertain == 0


def test_an_smtp_server_that_never_answers_times_out_and_the_reply_waits(
    servers: Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTAKE_OUTGOING__SMTP__TIMEOUT_SECONDS", "0.5")
    messages, replies = backlog(1)
    servers.append(messages[0])
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, then says nothing
        silent_port = silent.getsockname()[1]
        config = through(servers, tmp_path, smtp_port=silent_port)
        started = time.monotonic()
        code, output = poll(config)
        assert time.monotonic() - started < 10
    assert code == 0, output
    assert "Đã gửi 0 thư trả lời, 1 thư chờ gửi lại" in output
    with Session(make_engine(servers.db_url)) as session:
        [mail] = session.exec(select(OutboundMail)).all()
    assert mail.state == MailState.QUEUED and "timed out" in mail.last_error
    with Session(make_engine(servers.db_url)) as session:  # the back-off has passed
        mail.next_attempt_at = mail.created_at
        session.add(mail)
        session.commit()
    code, output = poll(servers.config)
    assert "Đã gửi 1 thư trả lời" in output
    invariants_hold(servers, 1, replies)


def test_an_smtp_server_that_stalls_after_the_data_is_never_sent_twice(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The residual window: the client gives up waiting for the answer to the end of data, so it
    cannot know whether the server took the message. It is never resent on its own; the operator
    sees it in `intake status` and resends it once."""
    monkeypatch.setenv("INTAKE_OUTGOING__SMTP__TIMEOUT_SECONDS", "0.5")
    messages, replies = backlog(1)
    servers.append(messages[0])
    servers.smtp.inbox.stall_seconds = 1.5
    try:
        code, output = poll(servers.config)
        assert code == 0, output
        time.sleep(1.5)
        code, output = poll(servers.config)  # must not send it again
    finally:
        servers.smtp.inbox.stall_seconds = 0
    assert len(servers.replies()) == 0  # aiosmtpd drops a message whose client left
    status = CliRunner().invoke(app, ["--config", str(servers.config), "status"]).output
    assert "(uncertain)" in status and "intake resend 1" in status
    resent = CliRunner().invoke(app, ["--config", str(servers.config), "resend", "1"])
    assert resent.exit_code == 0, resent.output
    invariants_hold(servers, 1, replies)


def test_health_fails_with_smtp_down_and_with_a_dead_scheduler(
    servers: Servers, tmp_path: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    runner = CliRunner()
    ok = runner.invoke(app, ["--config", str(servers.config), "health", "--json"])
    assert ok.exit_code == 0, ok.output
    assert {c["name"]: c["ok"] for c in json.loads(ok.output)["checks"]} == {
        "database": True, "mailbox": True, "smtp": True, "poll": True, "deliver": True,
    }  # fmt: skip
    down = runner.invoke(
        app, ["--config", str(through(servers, tmp_path, smtp_port=free_port())), "health"]
    )
    assert down.exit_code == 1
    assert "LỖI  Máy chủ gửi thư 127.0.0.1" in down.output
    # `intake run` recorded a poll long ago and none since: its scheduler is gone.
    with Session(make_engine(servers.db_url)) as session:
        session.add(
            JobRun(
                job="poll", started_at=datetime.now(UTC) - timedelta(hours=2), outcome=JobOutcome.OK
            )
        )
        session.commit()
    stale = runner.invoke(app, ["--config", str(servers.config), "health", "--json"])
    assert stale.exit_code == 1
    checks = {c["name"]: c for c in json.loads(stale.output)["checks"]}
    assert not checks["poll"]["ok"] and "bộ lập lịch" in checks["poll"]["detail"]
    with Session(make_engine(servers.db_url)) as session:
        session.add(JobRun(job="poll", started_at=datetime.now(UTC), outcome=JobOutcome.OK))
        session.commit()
    assert runner.invoke(app, ["--config", str(servers.config), "health"]).exit_code == 0
