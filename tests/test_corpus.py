"""The whole corpus (tests/corpus/cases.py) through Dovecot and the pipeline: every case must get
its expected outcome, codes, nominee count and names. Prints the tally by category."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli import app
from storage.db import make_engine
from storage.models import DocumentRecord, FindingRecord, InboundMessage, NomineeRecord, Submission
from tests.conftest import Servers, vn
from tests.corpus.cases import all_cases

pytestmark = pytest.mark.integration


def test_every_corpus_case_gets_its_expected_outcome(servers: Servers) -> None:
    cases = all_cases()
    assert len(cases) >= 40
    for case in cases:
        servers.append(case.build(f"<{case.name}@corpus.test>"), vn(20, 9))
    result = CliRunner().invoke(app, ["--config", str(servers.config), "poll"])
    assert result.exit_code == 0, result.output

    annotated = {
        reply["In-Reply-To"]
        for reply in servers.replies()
        if any(a.get_filename().endswith("(đánh dấu lỗi).xlsx") for a in reply.iter_attachments())
    }
    failures: list[str] = []
    tally: Counter[tuple[str, str]] = Counter()
    with Session(make_engine(servers.db_url)) as session:
        for case in cases:
            message = session.exec(
                select(InboundMessage).where(
                    InboundMessage.message_id == f"<{case.name}@corpus.test>"
                )
            ).one()
            submission = session.exec(
                select(Submission).where(Submission.inbound_message_id == message.id)
            ).first()
            got = str(submission.status) if submission else str(message.outcome)
            findings = (
                session.exec(
                    select(FindingRecord).where(FindingRecord.submission_id == submission.id)
                ).all()
                if submission
                else []
            )
            names = (
                session.exec(
                    select(NomineeRecord.name)
                    .where(NomineeRecord.submission_id == submission.id)
                    .order_by(col(NomineeRecord.id))
                ).all()
                if submission
                else []
            )
            papers = (
                set(
                    session.exec(
                        select(DocumentRecord.kind).where(
                            DocumentRecord.submission_id == submission.id
                        )
                    ).all()
                )
                if submission
                else set()
            )
            errors = {f.code for f in findings if f.severity == "error"}
            warnings = {f.code for f in findings if f.severity == "warning"}
            expect = case.expect
            problems = []
            if got != expect.outcome:
                problems.append(f"outcome {got}, expected {expect.outcome}")
            if errors != set(expect.errors):
                problems.append(f"errors {sorted(errors)}, expected {sorted(expect.errors)}")
            if not set(expect.warnings) <= warnings:
                problems.append(f"warnings {sorted(warnings)} lack {sorted(expect.warnings)}")
            if expect.nominees is not None and len(names) != expect.nominees:
                problems.append(f"{len(names)} nominees, expected {expect.nominees}")
            missing = [n for n in expect.names if n not in names]
            if missing:
                problems.append(f"names {missing} not read (got {list(names)})")
            if not set(expect.papers) <= papers:
                problems.append(f"papers {sorted(papers)} lack {sorted(expect.papers)}")
            if (f"<{case.name}@corpus.test>" in annotated) is not expect.annotated:
                problems.append(f"annotated copy expected: {expect.annotated}")
            if problems:
                failures.append(f"{case.name}: " + "; ".join(problems))
            reading = (
                "answered with a fix"
                if errors
                else ("read with a warning" if warnings else "read fully")
            )
            if not submission:
                reading = "not a submission"
            tally[case.category, reading] += 1
    print("\ncorpus:", len(cases), "cases;", dict(sorted(tally.items())))
    assert failures == [], "\n".join(failures)
    # One reply per case that deserves one (the out-of-office gets none).
    assert len(servers.replies()) == len(cases) - 1
