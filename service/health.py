"""What `intake health` checks: everything the service needs to do its work, each check one
line an operator reads (and a monitor parses with `--json`).

- the database answers;
- the mailbox accepts the login and has its folder;
- the SMTP server accepts a connection (and the login, when one is configured);
- the scheduled jobs are alive: when `intake run` has recorded runs, the last successful poll
  and delivery are no older than about twice their interval. A dead scheduler then fails the
  container's HEALTHCHECK instead of leaving it green while replies pile up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from domain.wording import moment_text
from pipeline.mailbox import MailboxUnavailable
from pipeline.send import PermanentFailure, SmtpTransport, TemporaryFailure
from service.runtime import App
from storage import dispatches


@dataclass(frozen=True)
class Check:
    name: str  # stable, for monitors: database | mailbox | smtp | poll | deliver
    ok: bool
    detail: str  # Vietnamese, for the operator


def _database(app: App) -> Check:
    try:
        with app.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as err:  # any driver error: the check's answer, not a crash
        return Check("database", False, f"Không kết nối được cơ sở dữ liệu ({type(err).__name__})")
    return Check("database", True, "Cơ sở dữ liệu truy cập được")


def _mailbox(app: App) -> Check:
    try:
        with app.mailbox():
            pass
    except MailboxUnavailable as err:
        return Check("mailbox", False, f"Không mở được hộp thư: {err.reason}.")
    return Check("mailbox", True, "Đăng nhập hộp thư được")


def _smtp(app: App) -> Check:
    outgoing = app.settings.outgoing
    if outgoing.kind != "smtp" or outgoing.smtp is None:
        return Check("smtp", True, f"Thư trả lời được ghi vào thư mục {outgoing.file_dir}")
    smtp = outgoing.smtp
    where = f"{smtp.host}:{smtp.effective_port}"
    try:
        SmtpTransport(smtp, smtp.secret()).check()
    except (TemporaryFailure, PermanentFailure) as err:
        return Check("smtp", False, f"Máy chủ gửi thư {where} không nhận kết nối ({err})")
    return Check("smtp", True, f"Máy chủ gửi thư {where} nhận kết nối")


_JOBS = {"poll": "Lấy và xử lý thư", "deliver": "Gửi thư"}


def _fresh(app: App, job: str, interval: timedelta, now: datetime) -> Check:
    with Session(app.engine) as session:
        last = dispatches.last_successful_run(session, job)
        any_run = dispatches.has_runs(session, job)
    if not any_run:
        return Check(
            job,
            True,
            f"{_JOBS[job]}: chưa có lần chạy theo lịch nào được ghi nhận (dịch vụ chưa chạy)",
        )
    limit = interval * 2 + timedelta(minutes=1)
    tz = app.campaign.tz
    if last is None or now - last.started_at > limit:
        when = moment_text(last.started_at, tz) if last else "chưa lần nào"
        return Check(
            job,
            False,
            f"{_JOBS[job]}: lần chạy thành công gần nhất {when}, đã quá {limit} (bộ lập lịch có còn chạy?)",
        )
    return Check(job, True, f"{_JOBS[job]}: chạy thành công lúc {moment_text(last.started_at, tz)}")


def run_checks(app: App, now: datetime | None = None) -> list[Check]:
    moment = now or datetime.now(UTC)
    schedule = app.settings.schedule
    checks: list[Callable[[], Check]] = [
        lambda: _database(app),
        lambda: _mailbox(app),
        lambda: _smtp(app),
        lambda: _fresh(app, "poll", timedelta(minutes=schedule.poll_minutes), moment),
        lambda: _fresh(app, "deliver", timedelta(seconds=schedule.deliver_seconds), moment),
    ]
    results = [checks[0]()]
    if not results[0].ok:  # without the database the job checks cannot be read
        return [*results, checks[1](), checks[2]()]
    return [*results, *(check() for check in checks[1:])]
