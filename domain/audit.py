"""The audit trail's chain, as pure functions: each row's hash covers its own fields and the
previous row's hash, so a row changed, deleted or inserted afterwards breaks the chain at that
row, and a truncated tail no longer matches the head kept beside it.

Storage (`storage.audit`) appends and reads the rows; this module says what a row's hash is and
where a sequence of rows stops being one chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of the first row


@dataclass(frozen=True)
class AuditFields:
    """One row as it is hashed: everything a reader relies on, in a fixed order."""

    seq: int
    at: datetime
    actor: str
    action: str
    object_kind: str
    object_id: str
    unit_code: str
    reason: str
    details: str  # JSON, exactly as stored


def details_json(details: Mapping[str, Any]) -> str:
    """Details as stored: canonical JSON (sorted keys, no spaces), readable Vietnamese."""
    return json.dumps(details, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def row_hash(previous_hash: str, fields: AuditFields) -> str:
    at = fields.at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    payload = json.dumps(
        [
            previous_hash,
            fields.seq,
            at,
            fields.actor,
            fields.action,
            fields.object_kind,
            fields.object_id,
            fields.unit_code,
            fields.reason,
            fields.details,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredRow:
    fields: AuditFields
    previous_hash: str
    hash: str


@dataclass(frozen=True)
class Break:
    """Where the chain stops holding: the row (by sequence number) and what is wrong there."""

    seq: int
    problem: str  # "changed", "missing", "relinked", "head"


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head_seq: int
    head_hash: str
    breaks: tuple[Break, ...]

    @property
    def intact(self) -> bool:
        return not self.breaks


def verify_chain(rows: Iterable[StoredRow], head_seq: int, head_hash: str) -> ChainReport:
    """Every break in rows read in sequence order, against the head recorded at the last append.

    - a row whose fields no longer give its hash was *changed*;
    - a gap in the sequence means rows are *missing* (deleted);
    - a row whose previous hash is not the hash before it was *relinked* (a row changed and its
      hash recomputed, or rows inserted);
    - a last row that is not the head means the tail was cut off (*head*).
    """
    breaks: list[Break] = []
    expected_seq, previous, count, last_seq, last_hash = 1, GENESIS, 0, 0, GENESIS
    for row in rows:
        count += 1
        seq = row.fields.seq
        if seq != expected_seq:
            breaks.append(Break(expected_seq, "missing"))
        elif row.previous_hash != previous:
            breaks.append(Break(seq, "relinked"))
        if row_hash(row.previous_hash, row.fields) != row.hash:
            breaks.append(Break(seq, "changed"))
        expected_seq, previous = seq + 1, row.hash
        last_seq, last_hash = seq, row.hash
    if (last_seq, last_hash) != (head_seq, head_hash):
        breaks.append(Break(last_seq + 1 if last_seq < head_seq else last_seq, "head"))
    return ChainReport(count, head_seq, head_hash, tuple(breaks))
