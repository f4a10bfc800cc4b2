"""Waiting for mail: `intake run` holds one more IMAP connection in IDLE (RFC 2177) and wakes the
poll the moment the server says a message arrived, so a unit's answer goes out in seconds rather
than at the next scheduled poll. The scheduled poll stays as the safety net: when IDLE is off, not
offered by the server, or the connection keeps failing, nothing is lost, only slower.

IDLE is re-issued every `RENEW_SECONDS` (servers may drop one after 30 minutes); a lost connection
is tried again after 1, 2, 4… seconds, up to 5 minutes, and said once in the log each time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from pipeline.imap import ImapMailbox
from pipeline.mailbox import MailboxUnavailable
from service.runtime import App

log = logging.getLogger(__name__)

RENEW_SECONDS = 25 * 60
MAX_BACKOFF_SECONDS = 300.0


class MailWatcher(threading.Thread):
    """Calls `wake` whenever new mail arrives in the folder; runs until `stop()`."""

    def __init__(self, app: App, wake: Callable[[], None]) -> None:
        super().__init__(name="imap-idle", daemon=True)
        self.app, self.wake = app, wake
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            mailbox = self.app.mailbox()
            if not isinstance(mailbox, ImapMailbox):
                return
            try:
                mailbox.connect()
                if not mailbox.supports_idle():
                    log.warning("the IMAP server offers no IDLE: polling only")
                    return
                log.info("waiting for mail in IMAP IDLE")
                delay = 1.0
                while not self._stop.is_set():
                    if mailbox.wait_for_mail(RENEW_SECONDS, self._stop.is_set):
                        log.info("new mail announced by the server: polling now")
                        self.wake()
            except MailboxUnavailable as err:
                log.warning("IDLE connection unavailable (%s); again in %.0f s", err, delay)
            except Exception:  # the watcher must not die in silence: the poll stays, and so do we
                log.exception("IDLE watcher failed; again in %.0f s", delay)
            finally:
                mailbox.close()
            self._stop.wait(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)
