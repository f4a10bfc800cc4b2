"""`make bench` keeps working: each benchmark, run small on the real servers, prints its figure
and finds every message handled and answered once."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration


def bench(module: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_floor_against_product_prints_the_ratio() -> None:
    out = bench("floor", "--messages", "10", "--rounds", "1")
    assert "10 handled, 10 replies at SMTP" in out, out
    # Where the product's time went, every stage entered (the benchmark refuses otherwise).
    assert re.search(r"handle [\d.]+ \(parse [\d.]+, .*read the files [\d.]+", out), out
    assert re.search(
        r"The floor's steps as the product does them .*= [\d.]+ × the whole floor", out
    ), out
    assert re.search(r"median: floor [\d.]+ msg/s, product [\d.]+ msg/s, ratio [\d.]+", out), out


def test_backlog_memory_prints_each_peak() -> None:
    out = bench("backlog_memory", "--backlogs", "5", "12")
    for backlog in (5, 12):
        assert re.search(
            rf"backlog {backlog} .*peak RSS \d+ MB.*exit 0, handled {{'submission': {backlog}}}, "
            rf"{backlog} replies at SMTP",
            out,
        ), out
    assert "largest ÷ smallest" in out


def test_scale_out_prints_one_against_two(postgres_url: str) -> None:
    out = bench("scale_out", "--messages", "20", "--rounds", "1")
    assert out.count("handled 20/20, replies 20, answered twice 0") == 2, out
    assert re.search(r"median: one instance [\d.]+ msg/s, two [\d.]+ msg/s, ratio", out), out
