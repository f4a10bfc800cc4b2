"""The same storage code on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from domain.campaign import Campaign
from domain.kinds import MailKind, MailState, MessageState, NomineeKind, Outcome, SubmissionStatus
from domain.model import Extraction, Location, Nominee
from storage import inbound, locks, outbox, read_model, submissions
from storage.db import claiming_session, open_database
from storage.models import InboundMessage, OutboundMail, Submission


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = open_database(url)
    yield engine
    if request.param == "postgresql":
        SQLModel.metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


def test_migrations_build_exactly_the_models_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []
    assert "alembic_version" in inspect(engine).get_table_names()


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    open_database(engine.url.render_as_string(hide_password=False)).dispose()
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []


def fetched(
    session: Session, key: str, raw: bytes = b"Subject: x\r\n\r\nbody"
) -> InboundMessage | None:
    return inbound.record_fetched(
        session, source="imap://t/INBOX", source_key=key, raw=raw, uid=int(key), uidvalidity=1
    )


def test_the_ledger_knows_a_mailbox_entry_once_and_keeps_the_bytes(engine: Engine) -> None:
    with Session(engine) as session:
        first = fetched(session, "1", b"raw one")
        assert first is not None
        assert fetched(session, "1", b"raw one") is None
        session.commit()
        assert inbound.raw_bytes(session, first.id or 0) == b"raw one"
        assert first.received_at is None and first.fetched_at.tzinfo is not None


def test_earlier_copies_are_found_by_content(engine: Engine) -> None:
    with Session(engine) as session:
        a = fetched(session, "1", b"same bytes")
        b = fetched(session, "2", b"same bytes")
        c = fetched(session, "3", b"other bytes")
        session.commit()
        assert a and b and c
        assert inbound.earlier_copy(session, a) is None
        copy = inbound.earlier_copy(session, b)
        assert copy is not None and copy.id == a.id
        assert inbound.earlier_copy(session, c) is None


def store(
    session: Session,
    campaign: Campaign,
    message: InboundMessage,
    status: SubmissionStatus,
    names: list[str],
) -> tuple[Submission, Submission | None]:
    nominees = [
        Nominee(NomineeKind.INDIVIDUAL, n, frozenset({"provincial"}), Location("DS.xlsx", "S", i))
        for i, n in enumerate(names, 2)
    ]
    return submissions.store_submission(
        session,
        message=message,
        campaign=campaign,
        unit=campaign.units_by_code["SNV"],
        received_at=datetime(2021, 5, 20, 3, tzinfo=UTC),
        extraction=Extraction(nominees=nominees),
        findings=[],
        rules_run=["on_time"],
        status=status,
        late=False,
        stored_paths={},
        now=datetime.now(UTC),
    )


def test_a_resubmission_supersedes_the_current_one(engine: Engine, campaign: Campaign) -> None:
    with Session(engine) as session:
        m1, m2 = fetched(session, "1", b"v1"), fetched(session, "2", b"v2")
        assert m1 and m2
        first, replaced = store(
            session, campaign, m1, SubmissionStatus.REJECTED, ["Trần Thị An", "Lê Văn Bình"]
        )
        assert replaced is None and first.version == 1
        second, replaced = store(session, campaign, m2, SubmissionStatus.ACCEPTED, ["Trần Thị An"])
        session.commit()
        assert replaced is not None and replaced.id == first.id
        assert second.version == 2 and second.supersedes_id == first.id
        current = submissions.current_submission(session, campaign.code, "SNV")
        assert current is not None and current.id == second.id
        snapshot = read_model.snapshot(session, campaign, datetime.now(UTC))
        assert snapshot.unit("SNV").submissions == 2
        assert snapshot.unit("SNV").proposed("provincial", NomineeKind.INDIVIDUAL) == 1
        entry = snapshot.unit("SNV").current
        assert entry is not None and entry.status == "accepted"
        assert snapshot.unit("STP").current is None
        assert [h.version for h in snapshot.history] == [1, 2]
        assert (
            session.exec(select(Submission).where(Submission.id == first.id)).one().is_current
            is False
        )


def test_a_named_lock_has_one_holder_at_a_time_and_is_free_once_released(
    engine: Engine,
) -> None:
    with locks.exclusive(engine, "poll") as first:
        assert first
        with locks.exclusive(engine, "poll") as second, locks.exclusive(engine, "other") as third:
            assert not second  # another thread, another process or another host: the same
            assert third  # locks are by name
    with locks.exclusive(engine, "poll") as again:
        assert again


def test_a_claimed_message_is_not_claimed_twice(engine: Engine) -> None:
    with Session(engine) as session:
        message = fetched(session, "77")
        assert message is not None and message.id is not None
        session.commit()
        message_id = message.id
    with claiming_session(engine) as first:
        assert inbound.claim(first, message_id, max_attempts=3) is not None
        if engine.dialect.name == "postgresql":  # SQLite: a second claimer waits instead
            with claiming_session(engine) as second:
                assert inbound.claim(second, message_id, max_attempts=3) is None
        claimed = inbound.claim(first, message_id, max_attempts=3)
        assert claimed is not None
        inbound.mark_handled(
            first, claimed, inbound.Handled("automatic", Outcome.AUTOMATIC, "", "Processed")
        )
        first.commit()
    with claiming_session(engine) as later:
        assert inbound.claim(later, message_id, max_attempts=3) is None  # handled: state re-read


def test_failed_sends_back_off_then_give_up(engine: Engine) -> None:
    with Session(engine) as session:
        mail = outbox.queue_mail(
            session,
            inbound_message_id=None,
            kind=MailKind.ACKNOWLEDGEMENT,
            recipient="a@b.vn",
            subject="s",
            message_id="<1@x>",
            data=b"x",
        )
        session.commit()
        now = datetime.now(UTC)
        assert outbox.mail_due(session, now) == [mail.id]
        assert outbox.defer(mail, "421 busy", max_attempts=2, now=now) is False
        session.commit()
        assert outbox.mail_due(session, now) == []
        assert outbox.mail_due(session, now + timedelta(minutes=3)) == [mail.id]
        assert outbox.defer(mail, "421 busy", max_attempts=2, now=now) is True
        session.commit()
        stored = session.get(OutboundMail, mail.id)
        assert (
            stored is not None
            and stored.state == MailState.FAILED
            and stored.last_error == "421 busy"
        )


def test_a_message_handled_after_a_failure_shows_its_outcome_not_the_old_error(
    engine: Engine, campaign: Campaign
) -> None:
    with Session(engine) as session:
        message = fetched(session, "9")
        assert message is not None and message.id is not None
        session.commit()
        state = inbound.record_failure(session, message.id, "RuntimeError: boom", max_attempts=3)
        session.commit()
        assert state is MessageState.FAILED
        [stuck] = read_model.snapshot(session, campaign, datetime.now(UTC)).not_processed
        assert stuck.detail == "RuntimeError: boom"
        inbound.mark_handled(
            session,
            message,
            inbound.Handled(
                "unknown_sender", Outcome.UNKNOWN_SENDER, "đã gửi hướng dẫn", "Rejected"
            ),
        )
        session.commit()
        snapshot = read_model.snapshot(session, campaign, datetime.now(UTC))
    assert snapshot.not_processed == ()
    [to_read] = snapshot.to_read
    assert (to_read.detail, to_read.error) == ("đã gửi hướng dẫn", "")
