"""`App`: the settings, the campaign and the database put together into the service's jobs.

Built once per command (`cli`) or process (`scheduler`); every job it offers is a plain call,
so the scheduler, the operator's commands and the tests run exactly the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from config.settings import Settings
from domain.campaign import Campaign
from pipeline.envelope import use_templates_from
from pipeline.fetch import open_mailbox
from pipeline.mailbox import Mailbox
from pipeline.remind import Reminder
from pipeline.send import Transport, open_transport
from service import mailings, papers
from service.context import Context, PollReport
from service.intake import poll_once
from service.outbox import Breaker, DeliveryReport, deliver_due
from storage.files import FileStore


@dataclass
class App:
    settings: Settings
    campaign: Campaign
    engine: Engine
    # The outbox's circuit breaker lives as long as the process that delivers.
    breaker: Breaker = field(init=False)

    def __post_init__(self) -> None:
        self.breaker = Breaker(self.settings.outgoing.breaker_seconds)
        use_templates_from(self.settings.outgoing.templates_dir)

    @property
    def context(self) -> Context:
        return Context(self.campaign, self.settings, FileStore(self.settings.storage.files_dir))

    def mailbox(self) -> Mailbox:
        s = self.settings.mailbox
        return open_mailbox(s, s.imap.credential() if s.imap else None)

    def transport(self) -> Transport:
        s = self.settings.outgoing
        return open_transport(s, s.smtp.secret() if s.smtp else None)

    def poll(self, progress: Callable[[int, int], None] | None = None) -> PollReport:
        return poll_once(self.engine, self.context, self.mailbox(), progress=progress)

    def deliver(self) -> DeliveryReport:
        return deliver_due(
            self.engine,
            self.transport(),
            self.campaign.department.intake_address,
            self.settings.outgoing.max_attempts,
            breaker=self.breaker,
        )

    def digest(self, now: datetime | None = None, again: bool = False) -> bool:
        moment = now or datetime.now(UTC)
        self.package(moment)  # the first digest after the deadline says where the package is
        queued = mailings.send_digest(self.engine, self.context, moment, again=again)
        self.deliver()
        return queued

    def package(self, now: datetime | None = None) -> papers.Package | None:
        """The forward package, once, as soon as every unit's deadline has passed."""
        return papers.package_after_deadline(
            self.engine,
            self.context,
            now or datetime.now(UTC),
            self.settings.storage.packages_dir,
        )

    def remind(self, now: datetime | None = None, units: list[str] | None = None) -> list[Reminder]:
        queued = mailings.send_reminders(self.engine, self.context, now or datetime.now(UTC), units)
        self.deliver()
        return queued
