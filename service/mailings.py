"""The scheduled mailings, with their I/O: the daily digest and the deadline reminders.

Each claims a once-only `Dispatch` row and queues its mail in the same transaction, so a digest
or a reminder goes out once however often the job runs (restarts, late runs, two schedulers);
the outbox delivers it like any reply. `recorded` keeps a row per job run for `intake status`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.kinds import SYSTEM_ACTOR, AuditAction, DispatchKind, JobOutcome, MailKind
from domain.snapshot import Snapshot
from pipeline.digest import DigestView, build_digest, compose_digest, render_digest
from pipeline.export import build_workbook
from pipeline.remind import Reminder, compose_reminder, due_reminders
from service.context import Context
from service.outbox import queue_email
from storage import audit, dispatches, read_model

log = logging.getLogger(__name__)
T = TypeVar("T")


def recorded(engine: Engine, job: str, work: Callable[[], T]) -> T:
    """Run `work`, keeping its start, end and outcome in the job-run table."""
    with Session(engine) as session:
        run = dispatches.start_job(session, job)
        try:
            result = work()
        except Exception as err:
            dispatches.finish_job(session, run, JobOutcome.FAILED, f"{type(err).__name__}: {err}")
            raise
        # A job that finished but could not do all its work (a poll with the mailbox down) says so.
        problems: list[str] = getattr(result, "problems", None) or []
        if problems:
            dispatches.finish_job(session, run, JobOutcome.FAILED, " ".join(problems)[:2000])
        else:
            detail = str(result)[:500] if result is not None else ""
            dispatches.finish_job(session, run, JobOutcome.OK, detail)
        return result


def _digest_key(ctx: Context, now: datetime) -> str:
    return f"{now.astimezone(ctx.campaign.tz):%Y-%m-%d}"


@dataclass(frozen=True)
class DigestPreview:
    view: DigestView
    text: str
    html: str
    workbook: bytes


def _package(session: Session, ctx: Context, now: datetime) -> str:
    found = dispatches.last_dispatch(session, ctx.campaign.code, DispatchKind.PACKAGE, now)
    return found.detail if found else ""


def preview_digest(
    engine: Engine, ctx: Context, now: datetime, as_of: bool = False
) -> DigestPreview:
    """The digest as it would be sent now, without sending or recording anything (`as_of`: as
    it would have been at `now`, from what had been received by then)."""
    with Session(engine) as session:
        previous = dispatches.last_dispatch(session, ctx.campaign.code, DispatchKind.DIGEST, now)
        snapshot = read_model.snapshot(session, ctx.campaign, now, as_of=as_of)
        package = _package(session, ctx, now)
    view = build_digest(snapshot, previous.created_at if previous else None, package)
    text, html = render_digest(view)
    return DigestPreview(view, text, html, build_workbook(snapshot))


def send_digest(engine: Engine, ctx: Context, now: datetime, *, again: bool = False) -> bool:
    """Queue today's digest unless it was already sent today (or `again` is asked for)."""
    campaign = ctx.campaign
    recipients = campaign.department.digest_recipients
    if not recipients:
        log.warning("campaign has no digest recipients; digest not sent")
        return False
    key = _digest_key(ctx, now) + (f"/again-{now:%H%M%S}" if again else "")
    with Session(engine) as session:
        previous = dispatches.last_dispatch(session, campaign.code, DispatchKind.DIGEST, now)
        if not dispatches.dispatch_once(session, campaign.code, DispatchKind.DIGEST, key, now):
            return False
        snapshot = read_model.snapshot(session, campaign, now)
        view = build_digest(
            snapshot, previous.created_at if previous else None, _package(session, ctx, now)
        )
        message = compose_digest(
            view, recipients, ctx.settings.outgoing.from_name, build_workbook(snapshot)
        )
        mail = queue_email(session, message, MailKind.DIGEST)
        audit.append(
            session,
            actor=SYSTEM_ACTOR,
            action=AuditAction.DIGEST_QUEUED,
            subject=audit.Subject("mail", mail.id or 0),
            details={"key": key, "to": mail.recipient},
            at=now,
        )
        session.commit()
    log.info("digest %s queued for %s", key, ", ".join(recipients))
    return True


def _reminders(
    session: Session, snapshot: Snapshot, now: datetime, units: list[str] | None
) -> list[Reminder]:
    if units:
        return [Reminder(snapshot.unit(code), None) for code in units]
    sent = dispatches.dispatched_keys(session, snapshot.campaign.code, DispatchKind.REMINDER)
    return due_reminders(snapshot, sent, now)


def reminders_due(
    engine: Engine,
    ctx: Context,
    now: datetime,
    units: list[str] | None = None,
    as_of: bool = False,
) -> list[Reminder]:
    """Who gets a reminder now: the due ones, or, for `units`, one each on the operator's word
    (`as_of`: who would have, at `now`, from what had been received by then)."""
    with Session(engine) as session:
        snapshot = read_model.snapshot(session, ctx.campaign, now, as_of=as_of)
        return _reminders(session, snapshot, now, units)


def send_reminders(
    engine: Engine, ctx: Context, now: datetime, units: list[str] | None = None
) -> list[Reminder]:
    """Queue the reminders due now (or for `units`); returns those actually queued."""
    campaign = ctx.campaign
    queued = []
    with Session(engine) as session:
        snapshot = read_model.snapshot(session, campaign, now)
        for reminder in _reminders(session, snapshot, now, units):
            if dispatches.dispatch_once(
                session, campaign.code, DispatchKind.REMINDER, reminder.dispatch_key(now), now
            ):
                message = compose_reminder(reminder, snapshot, ctx.settings.outgoing.from_name, now)
                unit = reminder.entry.unit
                mail = queue_email(session, message, MailKind.REMINDER, unit_code=unit.code)
                queued.append(reminder)
                audit.append(
                    session,
                    actor=SYSTEM_ACTOR,
                    action=AuditAction.REMINDER_QUEUED,
                    subject=audit.Subject("mail", mail.id or 0, unit.code),
                    details={"key": reminder.dispatch_key(now), "to": mail.recipient},
                    at=now,
                )
        session.commit()
    if queued:
        log.info("reminders queued: %s", ", ".join(r.key for r in queued))
    return queued
