"""The database engine and its schema: SQLite by default, PostgreSQL the same way.

The schema is owned by Alembic migrations (`storage/migrations`); `open_database` brings a
database up to date before anything uses it, so a new deployment and an upgrade are the same step.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(lock_timeout_seconds: float) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the status command read while a poll writes; busy_timeout waits out short
        # locks, and a lock held longer fails the cycle (the next one resumes).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return on_connect


CLAIMING = "claiming"


def _sqlite_begin(connection: Any) -> None:
    """A claiming transaction takes SQLite's write lock at once (BEGIN IMMEDIATE), so the state
    it reads cannot change under it before it commits. Other transactions are left to the
    driver, which begins them at their first write, so readers never wait (WAL)."""
    if connection.get_execution_options().get(CLAIMING, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def claiming_session(engine: Engine) -> Session:
    """A session whose transaction may claim rows: on PostgreSQL its claims are row locks
    (`FOR UPDATE SKIP LOCKED`); on SQLite the whole transaction holds the write lock."""
    return Session(engine.execution_options(**{CLAIMING: True}))


def make_engine(url: str, lock_timeout_seconds: float = 30) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: errors and logs never carry row values (names, raw mail).
        engine = create_engine(
            url, connect_args={"timeout": lock_timeout_seconds}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas(lock_timeout_seconds))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # pre_ping replaces a pooled connection the server dropped (restart, network) before use.
    return create_engine(
        url,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"options": f"-c lock_timeout={int(lock_timeout_seconds * 1000)}"},
    )


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


MIGRATION_LOCK_ID = 72_350_001  # any constant: the advisory lock that serialises migrations


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """Instances starting together on one SQLite file migrate one after the other."""
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Apply every migration the database has not had yet, one instance at a time."""
    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with _sqlite_file_lock(engine) if sqlite else nullcontext(), engine.begin() as connection:
        if not sqlite:
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str, lock_timeout_seconds: float = 30) -> Engine:
    engine = make_engine(url, lock_timeout_seconds)
    migrate(engine)
    return engine


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
