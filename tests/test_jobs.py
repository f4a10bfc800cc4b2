"""The digest and the reminders with injected time, through the real SMTP server and database,
and the scheduler's wiring of them."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from io import BytesIO

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from openpyxl import load_workbook

import scheduler
from config.campaign import load_campaign
from config.settings import ScheduleSettings, load_settings
from pipeline.fetch import open_mailbox
from samples.factories import NominationList, build_email, collectives, dossier, people
from service import mailings
from service.intake import poll_once
from service.runtime import App
from storage.db import open_database
from tests.conftest import Servers, vn

pytestmark = pytest.mark.integration

DEPARTMENT = "pxdcq.sonv@laichau.gov.vn"


def application(servers: Servers) -> App:
    settings = load_settings(servers.config)
    return App(settings, load_campaign(settings.campaign_file), open_database(servers.db_url))


def submit(servers: Servers, app: App, sender: str, unit_name: str, when: datetime) -> None:
    spec = NominationList(
        unit_name, collectives([f"Phòng A của {unit_name}"]), people("Trần Thị", 2)
    )
    servers.append(
        build_email(sender=sender, subject=f"Hồ sơ {unit_name}", files=dossier(spec)), when
    )
    s = app.settings
    mailbox = open_mailbox(s.mailbox, s.mailbox.imap.secret() if s.mailbox.imap else None)
    poll_once(app.engine, app.context, mailbox, now=when)
    app.deliver()


def digests(servers: Servers) -> list[EmailMessage]:
    return [m for m in servers.replies(DEPARTMENT) if "Tổng hợp hồ sơ" in str(m["Subject"])]


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_one_digest_a_day_with_what_changed_and_the_workbook(servers: Servers) -> None:
    app = application(servers)
    submit(servers, app, "vanphong.snv@laichau.gov.vn", "Sở Nội vụ", vn(20, 10))
    assert app.digest(vn(20, 17)) is True
    assert app.digest(vn(20, 17, 30)) is False  # a restart or a second scheduler: nothing more
    [first] = digests(servers)
    assert (
        first["Subject"]
        == "[Sở Nội vụ tỉnh Lai Châu] Tổng hợp hồ sơ khen thưởng ngày 20/05/2021: 1/25 đơn vị đã được tiếp nhận"
    )
    text = text_of(first)
    assert "Bằng khen của Chủ tịch UBND tỉnh: 1/89 tập thể, 2/209 cá nhân" in text
    assert "còn 5 ngày" in text
    assert "Sở Nội vụ – nộp lần đầu" in text
    html = first.get_body(("html",))
    assert html is not None and "<table>" in str(html.get_content())
    [attachment] = list(first.iter_attachments())
    assert attachment.get_filename() == "Tong-hop-khen-thuong-2021-05-20.xlsx"
    workbook = load_workbook(BytesIO(attachment.get_content()))
    names = [r[1] for r in workbook["Cá nhân"].iter_rows(values_only=True)]
    assert "Trần Thị An" in names and "Tổng cộng: 2 cá nhân" in names

    submit(servers, app, "vanphong@tamduong.laichau.gov.vn", "UBND huyện Tam Đường", vn(21, 9))
    assert app.digest(vn(21, 17)) is True
    second = digests(servers)[1]
    text = text_of(second)
    assert "THAY ĐỔI TỪ BẢN TỔNG HỢP TRƯỚC (17:00 ngày 20/05/2021)" in text
    assert "UBND huyện Tam Đường – nộp lần đầu" in text
    assert "Sở Nội vụ – nộp lần đầu" not in text


def test_reminders_go_out_once_per_unit_and_offset_and_stop_at_the_deadline(
    servers: Servers,
) -> None:
    app = application(servers)
    submit(servers, app, "vanphong.snv@laichau.gov.vn", "Sở Nội vụ", vn(17, 10))
    units = len(app.campaign.units)
    assert len(app.remind(vn(18, 9))) == units - 1  # SNV is accepted
    assert app.remind(vn(18, 9, 30)) == []  # restarted, or run late: nothing twice
    reminders = [m for m in servers.replies() if "Nhắc nộp hồ sơ" in str(m["Subject"])]
    assert len(reminders) == units - 1
    assert all("vanphong.snv@laichau.gov.vn" not in str(m["To"]) for m in reminders)
    assert "Còn 7 ngày" in text_of(reminders[0])

    # Two schedulers started together at the next offset still send each reminder once.
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(len(app.remind(vn(22, 8, 1)))))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == units - 1
    app.deliver()  # what one sender skipped while the other held the outbox goes out next
    three_days = [m for m in servers.replies() if "Còn 3 ngày" in text_of(m)]
    assert len(three_days) == units - 1
    assert len({str(m["To"]) for m in three_days}) == units - 1

    assert app.remind(vn(26, 8)) == []  # the deadline has passed
    asked = app.remind(vn(27, 8), units=["TP-LAICHAU"])  # unless the operator asks
    assert [r.entry.unit.code for r in asked] == ["TP-LAICHAU"]
    late = [
        m
        for m in servers.replies("vanphong@tplaichau.laichau.gov.vn")
        if "quá hạn" in str(m["Subject"])
    ]
    assert len(late) == 1


def test_job_runs_are_recorded_for_status(servers: Servers) -> None:
    app = application(servers)
    assert mailings.recorded(app.engine, "remind", lambda: "ok") == "ok"
    with pytest.raises(RuntimeError):
        mailings.recorded(
            app.engine, "poll", lambda: (_ for _ in ()).throw(RuntimeError("imap down"))
        )
    from typer.testing import CliRunner

    from cli import app as cli_app

    status = CliRunner().invoke(cli_app, ["--config", str(servers.config), "status", "--json"])
    runs = {j["job"]: j for j in __import__("json").loads(status.output)["jobs"]}
    assert runs["remind"]["outcome"] == "ok"
    assert runs["poll"]["outcome"] == "failed" and "imap down" in runs["poll"]["detail"]


def noop() -> None:
    return None


JOBS = scheduler.Jobs(poll=noop, deliver=noop, digest=noop, remind=noop, package=noop)


@pytest.mark.parametrize(
    ("started", "digest_next"),
    [
        (vn(20, 9), vn(20, 17)),  # before the digest time: today at 17:00
        (vn(20, 18), vn(20, 18)),  # after it: catch up at once (the job sends once a day)
        (
            datetime(2021, 5, 20, 16, 30, tzinfo=UTC),
            vn(20, 23, 30),
        ),  # 23:30 in Vietnam: still today
        (datetime(2021, 5, 20, 17, 30, tzinfo=UTC), vn(21, 17)),  # 00:30 in Vietnam: a new day
    ],
)
def test_scheduler_times_are_vietnam_time(started: datetime, digest_next: datetime) -> None:
    schedule = ScheduleSettings(poll_minutes=5)
    sched = scheduler.build_scheduler(
        JOBS, schedule, "Asia/Ho_Chi_Minh", now=started, kind=BackgroundScheduler
    )
    sched.start(paused=True)
    try:
        job = sched.get_job("digest")
        assert job.next_run_time == digest_next
        poll = sched.get_job("poll")
        assert poll.max_instances == 1 and poll.coalesce
        assert poll.next_run_time == started
        assert str(job.trigger.timezone) == "Asia/Ho_Chi_Minh"
    finally:
        sched.shutdown(wait=False)


def test_mail_announced_mid_poll_gets_a_poll_of_its_own_and_each_poll_wakes_delivery() -> None:
    """What IMAP IDLE relies on: a poll asked for while one runs is not lost, and replies a poll
    queued go out at once, not at the next delivery tick."""
    runs: list[str] = []
    in_poll = threading.Event()
    release = threading.Event()

    def poll() -> None:
        runs.append("poll")
        in_poll.set()
        release.wait(5)

    jobs = scheduler.Jobs(
        poll=poll,
        deliver=lambda: runs.append("deliver"),
        digest=lambda: None,
        remind=lambda: None,
        package=lambda: None,
    )
    settings = ScheduleSettings(poll_minutes=60, deliver_seconds=3600, reminder_check_minutes=60)
    started = datetime(2021, 5, 20, 1, 0, tzinfo=UTC)  # 08:00 in Vietnam: no digest at start
    background = scheduler.build_scheduler(
        jobs, settings, "Asia/Ho_Chi_Minh", now=started, kind=BackgroundScheduler
    )
    for job in background.get_jobs():  # nothing at start: only what the test asks for runs
        job.modify(next_run_time=None)
    scheduler.chain_polls_and_deliveries(background)
    background.start()
    try:
        scheduler._run_now(background, "poll")
        assert in_poll.wait(5)
        in_poll.clear()
        scheduler._run_now(background, "poll")  # mail announced while the poll runs
        time.sleep(0.5)  # the scheduler tries it, and finds the first still running
        release.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and runs.count("deliver") < 2:
            time.sleep(0.05)
    finally:
        release.set()
        background.shutdown(wait=True)
    assert runs.count("poll") == 2, runs
    assert runs.count("deliver") == 2, runs
    assert runs.index("deliver") > runs.index("poll")
