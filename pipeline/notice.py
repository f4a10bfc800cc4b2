"""What a unit is told when an officer decides about its dossier or its deadline: accepted despite
the findings, not accepted after all, or given more time. Threaded under the unit's last mail when
there is one, so the clerk sees the decision beside the automatic answer it overrides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Literal

from domain.campaign import Campaign, Unit
from domain.model import ParsedEmail
from domain.wording import moment_text
from pipeline.envelope import Envelope, compose

NoticeKind = Literal["accepted", "rejected", "extended"]


@dataclass(frozen=True)
class DecisionNotice:
    campaign: Campaign  # with the officers' decisions applied (the unit's deadline)
    unit: Unit
    kind: NoticeKind
    reason: str
    version: int | None = None  # the submission decided on (not for an extension)
    received_at: datetime | None = None
    late: bool = False
    waived: tuple[str, ...] = ()  # the findings accepted despite, as the unit was told them


def compose_notice(
    notice: DecisionNotice,
    to: Sequence[Address],
    answering: ParsedEmail | None,
    from_name: str,
    now: datetime,
) -> EmailMessage:
    c = notice.campaign
    envelope = Envelope(
        from_name=from_name,
        from_address=c.department.intake_address,
        to=to,
        date=now,
        tz=c.tz,
        # A person decided it, but the mail is still the service's: no auto-reply to it, please.
        auto_submitted="auto-generated",
        answering=answering,
    )
    return compose(
        envelope,
        "decision",
        n=notice,
        deadline=c.last_moment_text_for(notice.unit.code),
        received=moment_text(notice.received_at, c.tz) if notice.received_at else "",
    )
