"""Shared fixtures: the sample campaign, and real servers (Dovecot, SMTP, PostgreSQL).

Integration tests skip when a server is missing on a developer's machine, and fail instead when
CI=true: CI installs everything (`.ci/run`), so a missing server there is a broken build.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config.campaign import load_campaign
from domain.campaign import Campaign
from tests.servers import Dovecot, SmtpServer, dovecot_binary

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN_FILE = ROOT / "config" / "campaigns" / "lai-chau-2021.toml"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
IN_CI = os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: integration tests must run)")
    pytest.skip(reason)


def vn(day: int, hour: int = 10, minute: int = 0, month: int = 5, year: int = 2021) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=VN)


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    return load_campaign(CAMPAIGN_FILE)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    if dovecot_binary() is None:
        unavailable("dovecot is not installed")
    with Dovecot() as server:
        yield server


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


_users = itertools.count(1)


@dataclass
class Servers:
    dovecot: Dovecot
    smtp: SmtpServer
    user: str
    config: Path
    db_url: str

    def append(self, raw: bytes, when: datetime | None = None) -> None:
        self.dovecot.append(self.user, raw, when)

    def replies(self, recipient: str | None = None) -> list:  # type: ignore[type-arg]
        return self.smtp.received(recipient)


def write_config(
    directory: Path,
    *,
    imap_port: int,
    user: str,
    smtp_port: int,
    db_url: str,
    post_action: str = "move",
) -> Path:
    config = directory / "intake.toml"
    config.write_text(
        f"""
campaign_file = "{CAMPAIGN_FILE}"

[mailbox]
kind = "imap"
post_action = "{post_action}"
batch_size = 7

[mailbox.imap]
host = "127.0.0.1"
port = {imap_port}
security = "plain"
username = "{user}"
timeout_seconds = 10

[outgoing]
kind = "smtp"

[outgoing.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "plain"
timeout_seconds = 10

[database]
url = "{db_url}"

[storage]
files_dir = "{directory / "files"}"
""",
        encoding="utf-8",
    )
    return config


def move_to_postgres(servers: Servers, directory: Path, db_url: str) -> Path:
    """The servers' settings with the database on PostgreSQL instead (written in `directory`,
    beside the test's own); `servers.config` and `servers.db_url` follow."""
    directory.mkdir(exist_ok=True)
    servers.config = write_config(
        directory,
        imap_port=servers.dovecot.port,
        user=servers.user,
        smtp_port=servers.smtp.port,
        db_url=db_url,
    )
    servers.db_url = db_url
    return servers.config


def write_maildir_config(directory: Path, campaign_file: Path | str = CAMPAIGN_FILE) -> Path:
    """The embedded default (a Maildir at `directory/mailbox`, replies as files, SQLite) in
    `directory`: the demo's shape, for tests that run it from elsewhere."""
    config = directory / "intake.toml"
    config.write_text(
        f"""campaign_file = "{campaign_file}"
[mailbox]
kind = "maildir"
maildir = {{ path = "{directory / "mailbox"}" }}
[outgoing]
kind = "file"
file_dir = "{directory / "outbox"}"
[database]
url = "sqlite:///{directory / "intake.db"}"
[storage]
files_dir = "{directory / "files"}"
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def servers(
    dovecot_server: Dovecot,
    smtp_server: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Servers:
    """A fresh mailbox user, a cleared SMTP inbox, a new SQLite database and a config file."""
    from tests.servers import PASSWORD

    smtp_server.clear()
    user = f"intake{next(_users)}"
    db_url = f"sqlite:///{tmp_path / 'intake.db'}"
    config = write_config(
        tmp_path,
        imap_port=dovecot_server.port,
        user=user,
        smtp_port=smtp_server.port,
        db_url=db_url,
    )
    # The password comes from the environment, never from the TOML file.
    monkeypatch.setenv("INTAKE_MAILBOX__IMAP__PASSWORD", PASSWORD)
    return Servers(dovecot_server, smtp_server, user, config, db_url)


def postgres_admin_url() -> str:
    return os.environ.get(
        "INTAKE_TEST_POSTGRES_URL", "postgresql+psycopg:///postgres?host=/var/run/postgresql"
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for the session, dropped afterwards."""
    admin_url = postgres_admin_url()
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # no server, no role: say which
        unavailable(f"PostgreSQL not reachable at {admin_url}: {err}")
    name = f"intake_test_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    """An empty database for one test, which migrates it itself; named for this test process,
    so two test runs on one server never share it."""
    name = f"intake_fresh_{os.getpid()}"
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
