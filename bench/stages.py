"""Where the product's time goes, stage by stage, measured in the run itself: each stage's
function is wrapped, where its caller looks it up, with a clock that adds its wall time.

Cheaper than a profiler by far (two clock reads a call, about ten calls a message), so the
figures are the product's own; nested stages ("read the files" inside "read and check") are
printed as parts of their parent. A stage whose function has moved, or is no longer called
where it is wrapped, fails loudly here, never silently reads zero.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stage:
    label: str
    module: str  # where the caller finds the function
    name: str
    part_of: str = ""  # the label of the stage it runs inside


STAGES = (
    Stage("fetch and store", "service.intake", "fetch_into_ledger"),
    Stage("handle", "service.process", "_process_claimed"),
    Stage("parse", "service.process", "parse_message", part_of="handle"),
    Stage("facts for triage", "service.process", "gather_facts", part_of="handle"),
    Stage("read and check", "service.process", "examine", part_of="handle"),
    Stage("read the files", "pipeline.examine", "extract", part_of="read and check"),
    Stage("store the submission", "storage.submissions", "store_submission", part_of="handle"),
    Stage("compose the reply", "service.process", "compose_submission_reply", part_of="handle"),
    Stage("queue the reply", "service.process", "queue_email", part_of="handle"),
    Stage("file away", "service.intake", "file_handled"),
    Stage("deliver", "service.runtime", "deliver_due"),
)
# The floor's own steps (fetch, parse, read the list), as the product does them.
FLOOR_STEPS = ("fetch and store", "parse", "read the files")


def _timed(function: Callable[..., Any], seconds: dict[str, float], label: str) -> Any:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[label] += time.perf_counter() - started

    return wrapper


@contextmanager
def measured() -> Iterator[dict[str, float]]:
    """Seconds spent in each stage while the block runs."""
    seconds = {stage.label: 0.0 for stage in STAGES}
    originals = []
    for stage in STAGES:
        module = importlib.import_module(stage.module)
        function = getattr(module, stage.name)  # AttributeError: the stage has moved
        originals.append((module, stage.name, function))
        setattr(module, stage.name, _timed(function, seconds, stage.label))
    try:
        yield seconds
    finally:
        for module, name, function in originals:
            setattr(module, name, function)


def _described(label: str, per: dict[str, float], what_else: str) -> str:
    """A stage with its parts, and what none of its parts holds."""
    parts = [s for s in STAGES if s.part_of == label]
    if not parts:
        return f"{label} {per[label]:.1f}"
    inner = ", ".join(_described(p.label, per, "the rest") for p in parts)
    rest = per[label] - sum(per[p.label] for p in parts)
    return f"{label} {per[label]:.1f} ({inner}, {what_else} {rest:.1f})"


def summary(seconds: dict[str, float], messages: int, total: float, floor_seconds: float) -> str:
    """Milliseconds a message per stage, and the floor's own steps as the product does them
    against the whole floor."""
    never = [label for label, spent in seconds.items() if spent == 0]
    if never:  # wrapped where no caller looks any more: the figures would lie
        raise RuntimeError(f"stages never entered: {', '.join(never)}")
    per = {label: 1000 * s / messages for label, s in seconds.items()}
    per["all"] = 1000 * total / messages
    top = [s for s in STAGES if not s.part_of]
    parts = ", ".join(
        _described(s.label, per, "claim, audit row and commit" if s.label == "handle" else "rest")
        for s in top
    )
    outside = per["all"] - sum(per[s.label] for s in top)
    floor_steps = sum(per[label] for label in FLOOR_STEPS)
    floor_ms = 1000 * floor_seconds / messages
    return (
        f"product, ms a message: {parts}, outside these {outside:.1f}; all {per['all']:.1f}. "
        f"The floor's steps as the product does them ({', '.join(FLOOR_STEPS)}): "
        f"{floor_steps:.1f} ms = {floor_steps / floor_ms:.2f} × the whole floor ({floor_ms:.1f} ms)"
    )
