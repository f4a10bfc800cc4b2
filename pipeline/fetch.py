"""The mailbox at the edge: `open_mailbox` gives the IMAP mailbox (`pipeline.imap`) or a local
Maildir (`pipeline.maildir`) behind one interface (`pipeline.mailbox.Mailbox`)."""

from __future__ import annotations

from config.settings import MailboxSettings
from pipeline.imap import ImapMailbox
from pipeline.mailbox import Mailbox, size_bounded_batches
from pipeline.maildir import MaildirMailbox

__all__ = ["open_mailbox", "size_bounded_batches"]


def open_mailbox(settings: MailboxSettings, password: str | None) -> Mailbox:
    if settings.kind == "imap":
        assert settings.imap is not None
        return ImapMailbox(settings, settings.imap, password)
    assert settings.maildir is not None
    return MaildirMailbox(settings, settings.maildir.path)
