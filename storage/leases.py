"""Named leases in the database: one poll, one outbox delivery at a time, across threads,
processes and hosts. A lease is held until it expires or its holder releases it; a holder on this
host whose process is gone is replaced at once."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.models import Lease

_live_holders: set[str] = set()  # holders created by this process that have not released


def lease_holder() -> str:
    """A name for one holder of a lease: this host and process, and a token of its own, so two
    threads of one process (the poll job and a digest job, say) never count as the same holder."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    _live_holders.add(holder)
    return holder


def _holder_is_dead(holder: str) -> bool:
    """Whether a lease's holder is known to be gone: a process of this host that no longer runs
    (killed, crashed, restarted), so its lease need not be waited out. Holders on other hosts
    are only ever replaced once their lease expires."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return holder not in _live_holders  # ours: dead unless still held by one of our threads
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it runs, as another user
    return False


def acquire_lease(session: Session, name: str, holder: str, until: datetime, now: datetime) -> bool:
    """Take the named lease if it is free, expired or already ours; commit to hold it.

    The UPDATE's WHERE clause re-checks the condition in the database, so two processes racing
    for an expired lease cannot both win; a race on the first INSERT fails on the primary key.
    """
    updated = session.execute(
        update(Lease)
        .where(
            col(Lease.name) == name, or_(col(Lease.expires_at) < now, col(Lease.holder) == holder)
        )
        .values(holder=holder, expires_at=until)
    )
    if updated.rowcount == 1:  # type: ignore[attr-defined]
        return True
    current = session.get(Lease, name)
    if current is not None:
        if not _holder_is_dead(current.holder):
            return False
        taken = session.execute(
            update(Lease)
            .where(col(Lease.name) == name, col(Lease.holder) == current.holder)
            .values(holder=holder, expires_at=until)
        )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        return False
    return True


def release_lease(session: Session, name: str, holder: str) -> None:
    _live_holders.discard(holder)
    session.execute(delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder))
