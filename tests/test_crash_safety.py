"""Nothing lost, nothing done twice: SIGKILL at random moments, and several instances at once."""

from __future__ import annotations

import pytest

from tests import crash_harness

pytestmark = pytest.mark.integration


def assert_clean(report: crash_harness.Report) -> None:
    assert report.problems == []
    assert report.duplicated == 0
    # A reply interrupted after the end of its data is not resent; it is reported instead.
    assert report.lost <= report.uncertain


def test_killed_polls_lose_nothing_and_repeat_nothing(dovecot_server: object) -> None:
    report = crash_harness.run(messages=60, seed=11)
    print(report.line())
    assert report.kills >= 3, report.line()
    assert_clean(report)


def test_killed_services_lose_nothing_and_repeat_nothing(dovecot_server: object) -> None:
    """The same, killing `intake run` (the scheduler with its poll and deliver jobs)."""
    report = crash_harness.run(messages=80, seed=5, mode="run")
    print(report.line())
    assert report.kills >= 3, report.line()
    assert_clean(report)


def test_three_instances_on_postgresql_process_each_message_once(
    dovecot_server: object, fresh_postgres: str
) -> None:
    report = crash_harness.run_concurrently(messages=40, instances=3, database=fresh_postgres)
    print(report.line())
    assert_clean(report)


def test_three_instances_on_sqlite_process_each_message_once(dovecot_server: object) -> None:
    report = crash_harness.run_concurrently(messages=30, instances=3)
    assert_clean(report)
