"""Server time and queries of the desk's overview and unit pages, for the demo campaign and for
a campaign of 200 units with 2,000 submissions (10,000 nominees), on SQLite or PostgreSQL.

    python -m bench.desk_pages
    python -m bench.desk_pages --database postgresql+psycopg:///bench?host=/var/run/postgresql

The pages are requested in-process (no network), each 10 times; printed are the median time and
the number of SQL statements one request runs (which must not grow with the number of units).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from config.campaign import parse_campaign
from config.settings import load_settings
from desk.app import create_app
from domain.campaign import Campaign
from domain.kinds import DeskRole, DocumentKind, NomineeKind, SubmissionStatus
from domain.model import Document, Extraction, Location, Nominee
from service.runtime import App
from storage import inbound, submissions, users
from storage.db import open_database
from tests.conftest import CAMPAIGN_FILE

PASSWORD = "bench-password-2021"


def big_campaign(units: int) -> Campaign:
    data: dict[str, Any] = tomllib.loads(CAMPAIGN_FILE.read_text(encoding="utf-8"))
    data["units"] = [
        {"code": f"U{i:03d}", "name": f"Đơn vị thử {i}", "kind": "locality" if i % 3 else "provincial_body",
         "senders": [f"u{i}@bench.laichau.gov.vn"]}
        for i in range(units)
    ]  # fmt: skip
    data["allocation"]["units"] = {
        f"U{i:03d}": {"collectives": 1, "individuals": 1} for i in range(units)
    }
    data["allocation"]["total"] = {"collectives": units, "individuals": units}
    return parse_campaign(data, "bench")


def fill(engine: Engine, campaign: Campaign, per_unit: int) -> None:
    received = datetime(2021, 5, 20, 3, tzinfo=UTC)
    with Session(engine) as session:
        submissions.sync_units(session, campaign)
        for u, unit in enumerate(campaign.units):
            for v in range(per_unit):
                message = inbound.record_fetched(
                    session,
                    source="bench",
                    source_key=f"{u}/{v}",
                    raw=f"Subject: {u} {v}\r\n\r\nx".encode(),
                )
                assert message is not None
                nominees = [
                    Nominee(NomineeKind.INDIVIDUAL if k else NomineeKind.COLLECTIVE, f"Người {u}-{v}-{k}",
                            frozenset({"provincial"}), Location("DS.xlsx", "DS", 10 + k), position="Chuyên viên")
                    for k in range(5)
                ]  # fmt: skip
                papers = [
                    Document(
                        "Tờ trình.pdf", DocumentKind.TO_TRINH, "application/pdf", 1000, f"{u}{v}"
                    )
                ]
                submissions.store_submission(
                    session, message=message, campaign=campaign, unit=unit,
                    received_at=received + timedelta(minutes=v), extraction=Extraction(nominees, papers),
                    findings=[], rules_run=[], status=SubmissionStatus.ACCEPTED, late=False,
                    stored_paths={}, now=received,
                )  # fmt: skip
            session.commit()
        users.add(session, "bench", PASSWORD, DeskRole.VIEWER)
        session.commit()


def measure(app: App, unit_code: str) -> list[tuple[str, float, int]]:
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(app.engine, "before_cursor_execute", count)
    client = TestClient(create_app(app, "k" * 48))
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/dang-nhap").text)
    assert token
    client.post(
        "/dang-nhap", data={"username": "bench", "password": PASSWORD, "csrf": token.group(1)}
    )
    results = []
    for path in ("/", f"/don-vi/{unit_code}"):
        times = []
        for _ in range(10):
            statements = 0
            started = time.perf_counter()
            answer = client.get(path)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text[:300]
        results.append((path, statistics.median(times), statements))
    event.remove(app.engine, "before_cursor_execute", count)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=None)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--per-unit", type=int, default=10)
    args = parser.parse_args()
    settings = load_settings(Path("config/demo.toml"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, campaign, per_unit in (
            ("demo campaign (25 units, empty)", parse_campaign(tomllib.loads(CAMPAIGN_FILE.read_text(encoding="utf-8")), "demo"), 0),
            (f"{args.units} units, {args.units * args.per_unit} submissions", big_campaign(args.units), args.per_unit),
        ):  # fmt: skip
            url = args.database or f"sqlite:///{Path(tmp) / f'{per_unit}.db'}"
            engine = open_database(url)
            if args.database:
                SQLModel.metadata.drop_all(engine)
                engine.dispose()
                with engine.begin() as conn:
                    conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
                engine = open_database(url)
            fill(engine, campaign, per_unit)
            app = App(settings.model_copy(update={"storage": settings.storage}), campaign, engine)
            for path, seconds, statements in measure(app, campaign.units[0].code):
                print(f"{name}: {path:<14} {seconds * 1000:6.0f} ms, {statements} SQL statements")
            engine.dispose()


if __name__ == "__main__":
    main()
