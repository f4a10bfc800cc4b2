"""Attachments on disk, content-addressed: the same file sent twice is stored once, and a file
written by a run that then failed is simply reused by the next one.

A disk that is full, read-only or failing is the machine's fault, not the message's: it is
raised as `StorageUnavailable`, with nothing half-written left behind, so the intake cycle stops
without counting an attempt against the message and the next cycle resumes once it is fixed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from pathlib import Path

from domain.model import SpooledMessage

# What the machine, not the file, is to blame for.
RESOURCE_ERRORS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM}
)


class StorageUnavailable(Exception):
    """The files directory cannot take a file now."""

    def __init__(self, root: Path, err: OSError) -> None:
        super().__init__(f"{root}: {err.strerror or err}")
        self.root = root
        self.reason = errno.errorcode.get(err.errno or 0, "OSError")


class FileSpool:
    """A large message written part by part under `<root>/messages/`, named by its digest once
    whole; nothing half-written stays behind."""

    def __init__(self, store: FileStore) -> None:
        self.store = store
        self._digest = hashlib.sha256()
        self._size = 0
        folder = store.root / "messages"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, name = tempfile.mkstemp(dir=folder, prefix=".spool.", suffix=".part")
        except OSError as err:
            raise store.unavailable(err) from err
        self._partial = Path(name)
        self._out = os.fdopen(handle, "wb")

    def write(self, chunk: bytes) -> None:
        try:
            self._out.write(chunk)
        except OSError as err:
            self.discard()
            raise self.store.unavailable(err) from err
        self._digest.update(chunk)
        self._size += len(chunk)

    def finish(self) -> SpooledMessage:
        digest = self._digest.hexdigest()
        relative = Path("messages") / f"{digest}.eml"
        try:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()
            os.chmod(self._partial, 0o600)
            os.replace(self._partial, self.store.root / relative)
        except OSError as err:
            self.discard()
            raise self.store.unavailable(err) from err
        return SpooledMessage(str(relative), self._size, digest)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._out.close()
        self._partial.unlink(missing_ok=True)


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def unavailable(self, err: OSError) -> Exception:
        """`StorageUnavailable` for a fault of the machine; the error itself otherwise."""
        return StorageUnavailable(self.root, err) if err.errno in RESOURCE_ERRORS else err

    def spool(self) -> FileSpool:
        return FileSpool(self)

    def read(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def put(self, payload: bytes) -> str:
        """Store bytes and return their path relative to the store's root."""
        digest = hashlib.sha256(payload).hexdigest()
        relative = Path(digest[:2]) / digest
        target = self.root / relative
        if target.exists():
            return str(relative)
        partial: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, partial = tempfile.mkstemp(
                dir=target.parent, prefix=f".{digest}.", suffix=".part"
            )
            with os.fdopen(handle, "wb") as out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, target)
            partial = None
        except OSError as err:
            raise self.unavailable(err) from err
        finally:
            if partial is not None:
                Path(partial).unlink(missing_ok=True)
        return str(relative)
