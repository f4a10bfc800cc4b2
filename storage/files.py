"""Attachments on disk, content-addressed: the same file sent twice is stored once, and a file
written by a run that then failed is simply reused by the next one.

A disk that is full, read-only or failing is the machine's fault, not the message's: it is
raised as `StorageUnavailable`, with nothing half-written left behind, so the intake cycle stops
without counting an attempt against the message and the next cycle resumes once it is fixed.
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path

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


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

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
            if err.errno not in RESOURCE_ERRORS:
                raise
            raise StorageUnavailable(self.root, err) from err
        finally:
            if partial is not None:
                Path(partial).unlink(missing_ok=True)
        return str(relative)
