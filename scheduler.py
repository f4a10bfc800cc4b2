"""The long-running service: APScheduler jobs wired to the service's `App`, nothing more.

- poll: every `schedule.poll_minutes`, first at start; never two at once here (max_instances=1);
  across processes the mailbox is one instance's at a time and messages are claimed one by one
  (`storage.locks`, `storage.inbound.claim`); a poll that could not start on time is not stacked.
- deliver: the outbox, every `schedule.deliver_seconds`, on its own: a slow or absent SMTP server
  never holds up intake, and replies still go out while the mailbox is down.
- digest: daily at `schedule.digest_at`, campaign time zone; if the service starts after that
  time and today's digest has not gone out, it goes out at start (the job sends once a day).
- remind: every `schedule.reminder_check_minutes`, first at start; each reminder goes out once.
- package: as often, the forward package once the last deadline has passed.
- IMAP IDLE (`service.watch`): new mail runs the poll at once; every poll wakes the delivery.

Times are in the campaign's zone (Asia/Ho_Chi_Minh), given explicitly to every trigger.
SIGTERM and SIGINT stop the scheduler after the job in hand has finished.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    JobEvent,
)
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config.settings import ScheduleSettings
from service.mailings import recorded
from service.runtime import App
from service.watch import MailWatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Jobs:
    poll: Callable[[], object]
    deliver: Callable[[], object]
    digest: Callable[[], object]
    remind: Callable[[], object]
    package: Callable[[], object]


def jobs_of(app: App) -> Jobs:
    """The app's jobs, each recorded in the job-run table under its name."""

    def each(name: str, work: Callable[[], object]) -> Callable[[], object]:
        def job() -> object:
            return recorded(app.engine, name, work)

        job.__name__ = job.__qualname__ = name  # what APScheduler's log lines call it
        return job

    return Jobs(
        poll=each("poll", app.poll),
        deliver=each("deliver", app.deliver),
        digest=each("digest", app.digest),
        remind=each("remind", app.remind),
        package=each("package", app.package),
    )


def build_scheduler(
    jobs: Jobs,
    schedule: ScheduleSettings,
    timezone: str,
    now: datetime | None = None,
    kind: type[BaseScheduler] = BlockingScheduler,
) -> BaseScheduler:
    started = now or datetime.now(UTC)
    scheduler = kind(timezone=timezone)
    every_poll = IntervalTrigger(minutes=schedule.poll_minutes, timezone=timezone)
    # A run that missed its moment by up to half an interval still runs; later ones wait.
    half_interval = max(1, int(schedule.poll_minutes * 30))
    common = {"max_instances": 1, "coalesce": True}
    scheduler.add_job(
        jobs.poll,
        every_poll,
        id="poll",
        name="poll",
        misfire_grace_time=half_interval,
        next_run_time=started,
        **common,
    )
    scheduler.add_job(
        jobs.deliver,
        IntervalTrigger(seconds=schedule.deliver_seconds, timezone=timezone),
        id="deliver",
        name="deliver",
        misfire_grace_time=half_interval,
        next_run_time=started,  # what a stopped service left queued goes out at once
        **common,
    )
    digest_trigger = CronTrigger(
        hour=schedule.digest_at.hour, minute=schedule.digest_at.minute, timezone=timezone
    )
    local_now = started.astimezone(digest_trigger.timezone)
    catch_up = local_now.time() >= schedule.digest_at
    # A digest late by hours is still worth sending the same day.
    scheduler.add_job(
        jobs.digest,
        digest_trigger,
        id="digest",
        name="digest",
        misfire_grace_time=6 * 3600,
        next_run_time=started if catch_up else digest_trigger.get_next_fire_time(None, started),
        **common,
    )
    scheduler.add_job(
        jobs.remind,
        IntervalTrigger(minutes=schedule.reminder_check_minutes, timezone=timezone),
        id="remind",
        name="remind",
        misfire_grace_time=half_interval,
        next_run_time=started,
        **common,
    )
    # Checked as often as the reminders: written once, as soon as the last deadline has passed.
    scheduler.add_job(
        jobs.package,
        IntervalTrigger(minutes=schedule.reminder_check_minutes, timezone=timezone),
        id="package",
        name="package",
        misfire_grace_time=half_interval,
        next_run_time=started,
        **common,
    )
    return scheduler


def _run_now(scheduler: BaseScheduler, job_id: str) -> None:
    scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))


def chain_polls_and_deliveries(scheduler: BaseScheduler) -> None:
    """Every poll wakes the delivery, so the replies it queued go out at once; a poll or a
    delivery asked for while one was running (mail announced mid-poll, a poll ending while the
    last delivery still runs) runs again right after it, not at its next scheduled time."""
    asked_while_running = {"poll": threading.Event(), "deliver": threading.Event()}

    def after(event: JobEvent) -> None:
        asked = asked_while_running.get(event.job_id)
        if asked is None:
            return
        if event.code == EVENT_JOB_MAX_INSTANCES:
            asked.set()
            return
        if event.job_id == "poll":
            _run_now(scheduler, "deliver")
        if asked.is_set():
            asked.clear()
            _run_now(scheduler, event.job_id)

    scheduler.add_listener(after, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES)


def run_forever(app: App) -> None:
    schedule = app.settings.schedule
    scheduler = build_scheduler(jobs_of(app), schedule, app.campaign.timezone)
    chain_polls_and_deliveries(scheduler)
    imap = app.settings.mailbox.imap
    watcher = None
    if app.settings.mailbox.kind == "imap" and imap is not None and imap.idle:
        watcher = MailWatcher(app, lambda: _run_now(scheduler, "poll"))
        watcher.start()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the job in hand", signal.Signals(signum).name)
        if watcher is not None:
            watcher.stop()
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "scheduler started: poll every %s minutes, digest at %s",
        schedule.poll_minutes,
        schedule.digest_at,
    )
    scheduler.start()
    log.info("scheduler stopped")
