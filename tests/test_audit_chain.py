"""The audit chain as pure functions: every way of tampering with stored rows is found, at the
row where it happened."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.audit import GENESIS, AuditFields, StoredRow, details_json, row_hash, verify_chain


def chain(count: int) -> list[StoredRow]:
    rows, previous = [], GENESIS
    start = datetime(2021, 5, 20, 2, 0, tzinfo=UTC)
    for seq in range(1, count + 1):
        fields = AuditFields(
            seq=seq,
            at=start + timedelta(minutes=seq),
            actor="canbo" if seq % 2 else "hệ thống",
            action="extend_deadline",
            object_kind="unit",
            object_id="STP",
            unit_code="STP",
            reason=f"Lý do {seq}",
            details=details_json({"to": f"{seq}:00 ngày 27/05/2021"}),
        )
        digest = row_hash(previous, fields)
        rows.append(StoredRow(fields, previous, digest))
        previous = digest
    return rows


def problems(rows: list[StoredRow], head: StoredRow) -> list[tuple[int, str]]:
    report = verify_chain(rows, head.fields.seq, head.hash)
    return [(b.seq, b.problem) for b in report.breaks]


def test_an_untouched_chain_is_intact() -> None:
    rows = chain(6)
    report = verify_chain(rows, 6, rows[-1].hash)
    assert report.intact and report.rows == 6
    assert verify_chain([], 0, GENESIS).intact


def test_a_changed_row_is_named() -> None:
    rows = chain(6)
    head = rows[-1]
    rows[2] = replace(rows[2], fields=replace(rows[2].fields, reason="đã sửa"))
    assert problems(rows, head) == [(3, "changed")]


def test_a_changed_row_with_its_hash_recomputed_breaks_the_next_link() -> None:
    rows = chain(6)
    head = rows[-1]
    forged = replace(rows[2].fields, actor="người khác")
    rows[2] = StoredRow(forged, rows[2].previous_hash, row_hash(rows[2].previous_hash, forged))
    assert problems(rows, head) == [(4, "relinked")]


def test_a_deleted_row_and_a_cut_tail_are_named() -> None:
    rows = chain(6)
    head = rows[-1]
    assert problems(rows[:3] + rows[4:], head) == [(4, "missing")]
    assert problems(rows[:4], head) == [(5, "head")]


def test_the_time_is_hashed_in_utc_whatever_zone_it_is_read_in() -> None:
    [row] = chain(1)
    vietnam = replace(row.fields, at=row.fields.at.astimezone(datetime.now().astimezone().tzinfo))
    assert row_hash(GENESIS, vietnam) == row.hash
