"""The audit trail: appended in the transaction of what it records, never updated or deleted.

Every append first moves the one `audit_head` row forward. That update is the serialisation
point: on PostgreSQL it holds the row lock until the transaction ends, on SQLite it takes the
write lock. So two appenders never read the same last row, the sequence has no gaps of its own,
and the head always names the last row, which `verify` checks a cut-off tail against. Call
`append` last in a transaction: the head stays locked from there to the commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from domain.audit import AuditFields, ChainReport, StoredRow, details_json, row_hash, verify_chain
from domain.kinds import AuditAction
from storage.models import AuditEntry, AuditHead


@dataclass(frozen=True)
class Subject:
    """What an audit row is about: a message, a submission, a mail, a unit, a selection."""

    kind: str
    id: str | int
    unit_code: str = ""


# The head is never loaded as an object where rows are appended: nothing in the session to keep
# in step with the UPDATE (which SQLAlchemy otherwise looks for, at a cost, on every append).
_HEAD_ONLY = {"synchronize_session": False}


def append(
    session: Session,
    *,
    actor: str,
    action: AuditAction,
    subject: Subject,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditFields:
    # The head's row lock (PostgreSQL) or the write lock (SQLite) serialises appends; the
    # number and the hash before this row come back with the update that takes it.
    head = session.execute(
        update(AuditHead)
        .where(col(AuditHead.id) == 1)
        .values(seq=col(AuditHead.seq) + 1)
        .returning(col(AuditHead.seq), col(AuditHead.hash)),
        execution_options=_HEAD_ONLY,
    ).first()
    if head is None:
        raise RuntimeError("audit_head row missing: the database was not migrated (0007)")
    moment = (at or datetime.now(UTC)).astimezone(UTC)
    fields = AuditFields(
        seq=head.seq,
        at=moment,
        actor=actor,
        action=action.value,
        object_kind=subject.kind,
        object_id=str(subject.id),
        unit_code=subject.unit_code,
        reason=reason,
        details=details_json(details or {}),
    )
    digest = row_hash(head.hash, fields)
    # A plain INSERT: nothing reads the row back as an object in this transaction.
    session.execute(
        insert(AuditEntry).values(**asdict(fields), previous_hash=head.hash, hash=digest)
    )
    session.execute(
        update(AuditHead).where(col(AuditHead.id) == 1).values(hash=digest),
        execution_options=_HEAD_ONLY,
    )
    return fields


def _fields(entry: AuditEntry) -> AuditFields:
    return AuditFields(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        object_kind=entry.object_kind,
        object_id=entry.object_id,
        unit_code=entry.unit_code,
        reason=entry.reason,
        details=entry.details,
    )


def _in_order(session: Session, batch: int = 2000) -> Iterator[StoredRow]:
    """Every row in sequence order, a batch at a time (the log grows with every message)."""
    after = 0
    while True:
        rows = session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.seq) > after)
            .order_by(col(AuditEntry.seq))
            .limit(batch)
        ).all()
        if not rows:
            return
        for entry in rows:
            yield StoredRow(_fields(entry), entry.previous_hash, entry.hash)
        after = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> ChainReport:
    head = session.exec(select(AuditHead).where(col(AuditHead.id) == 1)).one()
    return verify_chain(_in_order(session), head.seq, head.hash)


def rows(
    session: Session, unit_code: str | None = None, limit: int | None = None
) -> list[AuditFields]:
    """The newest rows first: all of them, or one unit's."""
    query = select(AuditEntry).order_by(col(AuditEntry.seq).desc())
    if unit_code is not None:
        query = query.where(AuditEntry.unit_code == unit_code)
    if limit is not None:
        query = query.limit(limit)
    return [_fields(entry) for entry in session.exec(query).all()]
