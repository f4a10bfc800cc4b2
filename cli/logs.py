"""Logs an operator can follow: ISO timestamps with the UTC offset, our own lines at INFO, the
libraries' chatter (imaplib, mail-parser, uvicorn…) only when asked for with `-vv`, and JSON
lines for log collectors (`--log-format json`). Logs never carry nominee data: only message
numbers, unit codes, finding codes and counts."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Any

import click

OURS = ("cli", "service", "pipeline", "storage", "desk", "scheduler", "config", "domain")


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(verbosity: int, log_format: LogFormat) -> None:
    """0: our INFO lines; 1 (-v): our DEBUG lines; 2 (-vv): everyone's DEBUG lines."""
    root = logging.getLogger()
    if not root.handlers:  # as logging.basicConfig: a host's handlers (pytest's, say) stay
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else TextFormatter())
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    for name in OURS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 1 else logging.INFO)
    if verbosity < 2:
        for noisy in ("alembic", "apscheduler", "uvicorn", "imapclient", "mailparser"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


@contextmanager
def progress_on_terminal(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for a long poll when a person watches it (a TTY); nothing when
    the output goes to a file or a log collector."""
    if not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
        bar.length = max(bar.length, total)  # another instance may store more meanwhile
        bar.update(done - bar.pos)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
