"""Attachments on disk, content-addressed: the same file sent twice is stored once, and a file
written by a run that then failed is simply reused by the next one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, payload: bytes) -> str:
        """Store bytes and return their path relative to the store's root."""
        digest = hashlib.sha256(payload).hexdigest()
        relative = Path(digest[:2]) / digest
        target = self.root / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial = target.with_suffix(".part")
            with open(partial, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, target)
        return str(relative)
