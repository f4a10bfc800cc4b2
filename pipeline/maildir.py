"""A local Maildir as the mailbox: the no-server default (the demo) and dry runs. The inbox is
the top level; handled mail goes to Maildir++ sub-folders."""

from __future__ import annotations

import mailbox as stdlib_mailbox
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from config.settings import MailboxSettings
from pipeline.mailbox import Cursor, Fetched, FetchedMessage, FetchTries, MessageRef


class MaildirMailbox:
    """A local Maildir: the inbox is the top level, handled mail goes to Maildir++ sub-folders."""

    def __init__(self, settings: MailboxSettings, path: Path) -> None:
        self.settings = settings
        self.path = path
        self.source = f"maildir:{path.resolve()}"
        self._box: stdlib_mailbox.Maildir | None = None

    def __enter__(self) -> Self:
        self._box = stdlib_mailbox.Maildir(self.path, create=True)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._box = None

    @property
    def box(self) -> stdlib_mailbox.Maildir:
        if self._box is None:
            raise RuntimeError("Maildir used outside its context")
        return self._box

    def batches(
        self, cursor: Cursor | None, tries: FetchTries
    ) -> Iterator[tuple[list[Fetched], Cursor | None]]:
        keys = sorted(self.box.keys())
        size = self.settings.batch_size
        for start in range(0, len(keys), size):
            yield (
                [FetchedMessage(k, self.box.get_bytes(k)) for k in keys[start : start + size]],
                None,
            )

    def file_away(self, refs: Sequence[MessageRef], folder: str) -> list[bool]:
        target = (
            self.box.get_folder(folder)
            if folder in self.box.list_folders()
            else self.box.add_folder(folder)
        )
        filed = []
        for ref in refs:
            present = ref.source_key in self.box
            if present:
                target.add(self.box.get_message(ref.source_key))
                self.box.discard(ref.source_key)
            filed.append(present)
        return filed
