"""What the intake cycle's stages share: the context a message is handled in, and the report a
cycle fills in as it goes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from config.settings import Settings
from domain.campaign import Campaign
from pipeline.signatures import Certificate, load_trust_roots
from pipeline.triage import Folder, ReplyPolicy
from storage.files import FileStore


@dataclass
class PollReport:
    fetched: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failed: int = 0
    quarantined: int = 0
    filed: int = 0
    mailbox_busy: bool = False  # another instance held the mailbox; only stored mail was processed
    # What kept the cycle from doing all its work, in the operator's words.
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What processing a message needs besides the message."""

    campaign: Campaign
    settings: Settings
    files: FileStore

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset({self.campaign.department.intake_address.lower()})

    @property
    def reply_policy(self) -> ReplyPolicy:
        outgoing = self.settings.outgoing
        return ReplyPolicy(
            per_sender_per_day=outgoing.max_replies_per_sender_per_day,
            unregistered_per_hour=outgoing.max_unregistered_replies_per_hour,
            unregistered_per_day=outgoing.max_unregistered_replies_per_day,
        )

    @property
    def trust_roots(self) -> list[Certificate] | None:
        """The CA certificates signatures must chain to; None when the operator gave none.
        Read once per file version (a context is made per message; a replaced file is reread)."""
        files = self.settings.signatures.trust_roots
        if not files:
            return None
        return _roots(tuple((path, path.stat().st_mtime_ns) for path in files))

    def folder(self, folder: Folder) -> str:
        mailbox = self.settings.mailbox
        return mailbox.rejected_folder if folder is Folder.REJECTED else mailbox.processed_folder


@lru_cache(maxsize=8)
def _roots(files: tuple[tuple[Path, int], ...]) -> list[Certificate]:
    return load_trust_roots([path.read_bytes() for path, _ in files])
