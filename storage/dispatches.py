"""Things done once: a day's digest, a unit's reminder at an offset. The unique row is written in
the transaction that queues the mail, so "once" holds across restarts, late runs and two
schedulers; and job runs, a row per run of a scheduled job for `intake status`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.kinds import DispatchKind, JobOutcome
from storage.models import Dispatch, JobRun, utcnow


def dispatch_once(
    session: Session,
    campaign_code: str,
    kind: DispatchKind,
    key: str,
    now: datetime,
    detail: str = "",
) -> bool:
    """Claim a once-only mailing; False when it was already claimed (by us or anyone else).

    Commit the session to make the claim stick, together with the mail it stands for.
    """
    try:
        with session.begin_nested():
            session.add(
                Dispatch(
                    campaign_code=campaign_code, kind=kind, key=key, created_at=now, detail=detail
                )
            )
    except IntegrityError:
        return False
    return True


def last_dispatch(
    session: Session, campaign_code: str, kind: DispatchKind, before: datetime
) -> Dispatch | None:
    return session.exec(
        select(Dispatch)
        .where(
            Dispatch.campaign_code == campaign_code,
            Dispatch.kind == kind,
            col(Dispatch.created_at) < before,
        )
        .order_by(col(Dispatch.created_at).desc())
    ).first()


def dispatched_keys(session: Session, campaign_code: str, kind: DispatchKind) -> set[str]:
    return set(
        session.exec(
            select(Dispatch.key).where(
                Dispatch.campaign_code == campaign_code, Dispatch.kind == kind
            )
        ).all()
    )


def start_job(session: Session, job: str) -> JobRun:
    run = JobRun(job=job)
    session.add(run)
    session.commit()
    return run


def finish_job(session: Session, run: JobRun, outcome: JobOutcome, detail: str = "") -> None:
    run.finished_at, run.outcome, run.detail = utcnow(), outcome, detail[:2000]
    session.add(run)
    session.commit()


def last_job_runs(session: Session) -> list[JobRun]:
    latest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    return list(
        session.exec(
            select(JobRun).join(latest, col(JobRun.id) == latest.c.id).order_by(col(JobRun.job))
        ).all()
    )


def last_successful_run(session: Session, job: str) -> JobRun | None:
    return session.exec(
        select(JobRun)
        .where(JobRun.job == job, JobRun.outcome == JobOutcome.OK)
        .order_by(col(JobRun.id).desc())
    ).first()


def has_runs(session: Session, job: str) -> bool:
    return session.exec(select(JobRun.id).where(JobRun.job == job)).first() is not None
