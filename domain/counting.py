"""Counting nominees the one way every check, reply, digest and workbook counts them: each
collective or person once, however many rows name them."""

from __future__ import annotations

from collections.abc import Iterable

from domain.kinds import NomineeKind
from domain.model import Nominee
from domain.text import person_key


def distinct(
    nominees: Iterable[Nominee], kind: NomineeKind, award: str | None = None
) -> list[Nominee]:
    """Nominees of a kind (proposed for `award`, if given), each collective or person once."""
    by_key: dict[str, Nominee] = {}
    for n in nominees:
        if n.kind is kind and (award is None or award in n.awards):
            by_key.setdefault(person_key(n.name), n)
    return list(by_key.values())


def proposed(nominees: Iterable[Nominee], award: str, kind: NomineeKind) -> int:
    """How many distinct nominees of `kind` are proposed for `award`."""
    return len(distinct(nominees, kind, award))
