"""The long-running service: APScheduler jobs wired to the pipeline, nothing more.

One job today: poll the mailbox every `schedule.poll_minutes`. A poll never overlaps another one
(max_instances=1 here, and the poll lease in the database across processes); a poll that could
not start on time is not stacked (coalesce). SIGTERM and SIGINT stop the scheduler after the job
in hand has finished.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)


def build_scheduler(
    poll: Callable[[], object], poll_minutes: float, timezone: str
) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=timezone)
    scheduler.add_job(
        poll,
        IntervalTrigger(minutes=poll_minutes, timezone=timezone),
        id="poll",
        name="poll the mailbox",
        max_instances=1,
        coalesce=True,
        # A poll that missed its moment by up to half an interval still runs; later, wait.
        misfire_grace_time=max(1, int(poll_minutes * 30)),
        next_run_time=datetime.now(UTC),
    )
    return scheduler


def run_forever(poll: Callable[[], object], poll_minutes: float, timezone: str) -> None:
    scheduler = build_scheduler(poll, poll_minutes, timezone)

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the job in hand", signal.Signals(signum).name)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started: poll every %s minutes", poll_minutes)
    scheduler.start()
    log.info("scheduler stopped")
